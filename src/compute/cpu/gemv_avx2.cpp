// AVX2 decode kernel for repacked-order Q4_0 (ggml_order.h: one chain per output,
// acc = fma(I_b, d_w·d_a, acc)): the AVX-512 kernel's scheme (gemv_avx512.cpp) with 8 rows
// per register and vpmaddubsw/vpmaddwd for the dot products. Rows are read as 16-byte
// chunks in file order (8 blocks = 9 chunks = 36 dwords per row), transposed in registers
// so that each 32-bit lane holds one row; the block scales come out of the same dwords.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "compute/cpu/gemv_q4_0.h"
#include "compute/cpu/simd_avx2.h"
#include "core/quant_blocks.h"

namespace xnai::cpu::detail {
namespace {

// 8 rows · one column; y[r] for r < nr.
void q4_0_rows8(int64_t ngroups, const uint8_t* const rows[8], const ActQ4Group* act, float* y, int nr,
                const uint8_t* next, int64_t next_bytes) {
  const __m256i m4 = _mm256_set1_epi8(0x0F), ones = _mm256_set1_epi16(1);
  const int64_t next_step = (next_bytes / ngroups + 63) / 64 * 64;
  __m256 acc = _mm256_setzero_ps();
  for (int64_t gi = 0; gi < ngroups; ++gi) {
    const int64_t o = gi * kQ4GroupBytes;
    const ActQ4Group& a = act[gi];
    for (int64_t l = gi * next_step; l < (gi + 1) * next_step; l += 64)
      _mm_prefetch(reinterpret_cast<const char*>(next + l), _MM_HINT_T1);
    // Per block, int16 pair sums of low and high nibbles (at most 5 dwords each: fits int16).
    __m256i lo16[8], hi16[8];
    for (int b = 0; b < 8; ++b) lo16[b] = hi16[b] = _mm256_setzero_si256();
    __m256i dword[8] = {};  // the dwords holding the blocks' scales (all set below)
    for (int k = 0; k < 9; ++k) {
      __m256i z[4];
      for (int i = 0; i < 4; ++i)
        z[i] = _mm256_set_m128i(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[i + 4] + o + 16 * k)),
                                _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[i] + o + 16 * k)));
      const __m256i a0 = _mm256_unpacklo_epi32(z[0], z[1]), a1 = _mm256_unpackhi_epi32(z[0], z[1]);
      const __m256i a2 = _mm256_unpacklo_epi32(z[2], z[3]), a3 = _mm256_unpackhi_epi32(z[2], z[3]);
      const __m256i t[4] = {_mm256_unpacklo_epi64(a0, a2), _mm256_unpackhi_epi64(a0, a2),
                            _mm256_unpacklo_epi64(a1, a3), _mm256_unpackhi_epi64(a1, a3)};
      for (int j = 0; j < 4; ++j) {
        const int p = 4 * k + j;
        const int b = q4_0_block_of_dword(p);
        lo16[b] = _mm256_add_epi16(
            lo16[b], _mm256_maddubs_epi16(_mm256_and_si256(t[j], m4), _mm256_set1_epi32(a.lo[p])));
        hi16[b] =
            _mm256_add_epi16(hi16[b], _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(t[j], 4), m4),
                                                           _mm256_set1_epi32(a.hi[p])));
        for (int bb = 0; bb < 8; ++bb)
          if ((18 * bb) / 4 == p) dword[bb] = t[j];
      }
    }
    for (int b = 0; b < 8; ++b) {
      const __m256i s = _mm256_add_epi32(
          _mm256_add_epi32(_mm256_madd_epi16(lo16[b], ones), _mm256_madd_epi16(hi16[b], ones)),
          _mm256_set1_epi32(a.corr[b]));
      __m256i h = (18 * b) % 4 == 0 ? dword[b] : _mm256_srli_epi32(dword[b], 16);
      h = _mm256_and_si256(h, _mm256_set1_epi32(0xFFFF));
      const __m128i halves =
          _mm256_castsi256_si128(_mm256_permute4x64_epi64(_mm256_packus_epi32(h, h), 0x08));
      const __m256 dw = _mm256_cvtph_ps(halves);
      acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(dw, _mm256_set1_ps(a.d[b])), acc);
    }
  }
  alignas(32) float out[8];
  _mm256_store_ps(out, acc);
  std::memcpy(y, out, sizeof(float) * static_cast<size_t>(nr));
}

void run(int64_t K, const uint8_t* w, size_t w_stride, int64_t nr, const uint8_t* act, size_t act_stride,
         int64_t nc, float* y, int64_t ldy) {
  for (int64_t r0 = 0; r0 < nr; r0 += 8) {
    const int n = static_cast<int>(std::min<int64_t>(8, nr - r0));
    const uint8_t* rows[8];
    for (int r = 0; r < 8; ++r) rows[r] = w + static_cast<size_t>(r0 + std::min(r, n - 1)) * w_stride;
    for (int64_t c = 0; c < nc; ++c)
      q4_0_rows8(K / 256, rows, reinterpret_cast<const ActQ4Group*>(act + c * act_stride), y + c * ldy + r0,
                 n, w + static_cast<size_t>(r0 + 8) * w_stride,
                 c == 0 ? static_cast<int64_t>(8 * w_stride) : 0);
  }
}

// One column per pass: from two columns on, the tiles (which share the weight unpacking) win.
constexpr GemvKernel kQ4_0{q4_0_group_act_bytes, 256, 1, 256, q4_0_group_pack_act, run};

}  // namespace

size_t q4_0_group_act_bytes(int64_t K) { return static_cast<size_t>(K / 256) * sizeof(ActQ4Group); }

void q4_0_group_pack_act(const float* x, int64_t K, int64_t u0, int64_t u1, uint8_t* out) {
  (void)K;
  const TypeKernels& q8 = kernels(DType::Q8_0, SimdLevel::Avx2);
  auto* groups = reinterpret_cast<ActQ4Group*>(out);
  for (int64_t g = u0; g < u1; ++g) {
    BlockQ8_0 q[8];
    q8.from_float(x + 256 * g, q, 256);
    ActQ4Group& a = groups[g];
    for (int p = 0; p < 36; ++p) {
      uint8_t lo[4], hi[4];
      for (int i = 0; i < 4; ++i) {
        const int pos = 4 * p + i, b = pos / 18, t = pos % 18;
        lo[i] = t < 2 ? 0 : static_cast<uint8_t>(q[b].qs[t - 2]);
        hi[i] = t < 2 ? 0 : static_cast<uint8_t>(q[b].qs[t - 2 + 16]);
      }
      std::memcpy(&a.lo[p], lo, 4);
      std::memcpy(&a.hi[p], hi, 4);
    }
    for (int b = 0; b < 8; ++b) {
      int sum = 0;
      for (int j = 0; j < 32; ++j) sum += q[b].qs[j];
      a.d[b] = half_to_float(q[b].d);
      a.corr[b] = -8 * sum;
    }
  }
}

const GemvKernel* gemv_kernel_avx2(DType wtype) { return wtype == DType::Q4_0 ? &kQ4_0 : nullptr; }

}  // namespace xnai::cpu::detail
