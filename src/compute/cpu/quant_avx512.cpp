#include "compute/cpu/kernel_table.h"
namespace xnai::cpu::detail {
void add_avx512(KernelTable&) {}
}
