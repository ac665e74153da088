// The panel repack of q4_0_r16.h (portable: a byte shuffle done once per matrix).
#include "compute/cpu/q4_0_r16.h"

#include <cstring>

#include "core/quant_blocks.h"

namespace xnai::cpu::detail {

void repack_q4_0_r16(const uint8_t* w, int64_t K, int64_t N, uint8_t* out) {
  const int64_t nb = K / 32;
  const size_t row_bytes = static_cast<size_t>(nb) * sizeof(BlockQ4_0);
  for (int64_t p = 0; p < N / kQ4R16Rows; ++p) {
    uint8_t* panel = out + static_cast<size_t>(p) * kQ4R16Rows * row_bytes;
    for (int64_t b = 0; b < nb; ++b) {
      uint8_t* dst = panel + static_cast<size_t>(b) * kQ4R16BlockBytes;
      for (int r = 0; r < kQ4R16Rows; ++r) {
        const auto* blk = reinterpret_cast<const BlockQ4_0*>(w + static_cast<size_t>(16 * p + r) * row_bytes) + b;
        std::memcpy(dst + 2 * r, &blk->d, 2);
        for (int j = 0; j < 4; ++j) std::memcpy(dst + 32 + 64 * j + 4 * r, blk->qs + 4 * j, 4);
      }
    }
  }
}

}  // namespace xnai::cpu::detail
