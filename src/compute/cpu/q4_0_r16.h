// Private to compute/cpu: Q4_0 matrices repacked into 16-row panels for the AVX-512 decode
// kernel (CpuBackend does it the first time it multiplies a Q4_0 weight).
//
// The file's row layout makes a decode kernel transpose 16 rows in registers before every
// integer dot, and that shuffling, not memory, bounded Q4_0 decode. A panel stores what the
// transposes would produce, so the kernel only loads. Per panel of rows 16p..16p+15 and per
// block b (32 values), 288 bytes:
//   uint16 d[16]          the rows' fp16 scales
//   uint8  q[4][16][4]    dword j of row r (quant bytes 4j..4j+3: values 4j.. in the low
//                         nibbles, 16+4j.. in the high ones) at 64·j + 4·r
// That is 18 bytes per row and block, the size of the file's rows: a panel occupies exactly
// the bytes of its 16 rows, so row r0 (a multiple of 16) starts at r0 · row_size as before.
// The kernel sums each output in the block order of llama.cpp's repacked Q4_0 (ggml_order.h),
// so results are bit-identical to the unpacked path.
#pragma once
#include <cstddef>
#include <cstdint>

#include "compute/cpu/matmul_kernels.h"

namespace xnai::cpu::detail {

inline constexpr int kQ4R16Rows = 16;
inline constexpr size_t kQ4R16BlockBytes = 288;  // 16 rows x 18 bytes

// Rows [0, N) of a Q4_0 matrix (K values per row, N % 16 == 0) into panels at out.
void repack_q4_0_r16(const uint8_t* w, int64_t K, int64_t N, uint8_t* out);

// The AVX-512 VNNI row kernel over panels (null where the level is missing).
const GemvKernel* q4_0_r16_kernel_avx512();

}  // namespace xnai::cpu::detail
