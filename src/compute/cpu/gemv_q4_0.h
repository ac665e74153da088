// Private to compute/cpu: the activation layout shared by the Q4_0 decode kernels
// (gemv_avx2.cpp, gemv_avx512.cpp). Those kernels read Q4_0 rows as 16-byte chunks in file
// order: 8 blocks (144 bytes) are 36 dwords per row, and every dword's quant bytes belong to
// one block (its other bytes are block scales, met by zero activations). The converted
// activation spells out, per dword, the activation bytes its low and high nibbles multiply.
#pragma once
#include <cstddef>
#include <cstdint>

#include "compute/cpu/matmul_kernels.h"

namespace xnai::cpu::detail {

struct ActQ4Group {
  int32_t lo[36];
  int32_t hi[36];
  float d[8];
  int32_t corr[8];  // −8 · Σ of the block's activation quants
};
static_assert(sizeof(ActQ4Group) == 352);

inline constexpr int kQ4GroupBytes = 144;

// Block (0-7) whose quant bytes dword p (0-35) of a group holds.
constexpr int q4_0_block_of_dword(int p) {
  for (int i = 0; i < 4; ++i)
    if ((4 * p + i) % 18 >= 2) return (4 * p + i) / 18;
  return 0;
}

// GemvKernel::act_bytes / pack_act for this layout (units of 256 values; K % 256 == 0).
size_t q4_0_group_act_bytes(int64_t K);
void q4_0_group_pack_act(const float* x, int64_t K, int64_t u0, int64_t u1, uint8_t* out);

}  // namespace xnai::cpu::detail
