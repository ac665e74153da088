#include "compute/cpu/matmul_kernels.h"
namespace xnai::cpu::detail {
const GemvKernel* gemv_kernel_avx2(DType) { return nullptr; }
}
