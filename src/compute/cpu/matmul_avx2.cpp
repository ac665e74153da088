#include "compute/cpu/matmul_kernels.h"
namespace xnai::cpu::detail {
MatmulKernels matmul_kernels_avx2(DType) { return {}; }
}
