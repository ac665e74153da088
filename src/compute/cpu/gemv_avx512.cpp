// AVX-512 VNNI decode kernel for repacked-order Q4_0 (ggml_order.h: one chain per output,
// acc = fma(I_b, d_w·d_a, acc)). Sixteen rows are transposed in registers (4x4 dword
// transposes within 128-bit lanes) so that each zmm lane holds one row, and vpdpbusd
// against activation dwords broadcast to all lanes gives the 16 exact block sums; the block
// scales come out of the same transposed data, so nothing is gathered.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "compute/cpu/gemv_q4_0.h"
#include "compute/cpu/simd_avx512.h"
#include "core/quant_blocks.h"

namespace xnai::cpu::detail {
namespace {

// 16 rows (row r at rows[r]) · one column, in Q4_0 block order; y[r] for r < nr. The
// single-sequence decode path: kept apart from the multi-column template below because
// the compiler schedules this one better (measured ~5% faster at NC = 1).
void q4_0_rows16_one_column(int64_t ngroups, const uint8_t* const rows[16], const ActQ4Group* act, float* y, int nr,
                 const uint8_t* next, int64_t next_bytes) {
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  const int64_t next_step = (next_bytes / ngroups + 63) / 64 * 64;
  __m512 acc = _mm512_setzero_ps();
  for (int64_t gi = 0; gi < ngroups; ++gi) {
    const int64_t o = gi * kQ4GroupBytes;
    const ActQ4Group& a = act[gi];
    // Reading 16 rows side by side is a poor pattern for DRAM: stream the next panel's rows
    // (contiguous memory) into L2 in order while this one is computed. Prefetches past the
    // end of the weights are harmless.
    for (int64_t l = gi * next_step; l < (gi + 1) * next_step; l += 64)
      _mm_prefetch(reinterpret_cast<const char*>(next + l), _MM_HINT_T1);
    __m512i s[8];
    for (int b = 0; b < 8; ++b) s[b] = _mm512_set1_epi32(a.corr[b]);
    __m512i dword[8] = {};  // the dwords holding the blocks' scales (all set below)
    for (int k = 0; k < 9; ++k) {
      // Chunk k of rows i, i+4, i+8, i+12 in the four 128-bit lanes of z[i].
      __m512i z[4];
      for (int i = 0; i < 4; ++i) {
        __m512i v =
            _mm512_castsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[i] + o + 16 * k)));
        v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[i + 4] + o + 16 * k)),
                               1);
        v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[i + 8] + o + 16 * k)),
                               2);
        z[i] = _mm512_inserti32x4(
            v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[i + 12] + o + 16 * k)), 3);
      }
      // 4x4 dword transpose within 128-bit lanes: t[j] lane 4L + i = row 4L + i, dword 4k + j.
      const __m512i a0 = _mm512_unpacklo_epi32(z[0], z[1]), a1 = _mm512_unpackhi_epi32(z[0], z[1]);
      const __m512i a2 = _mm512_unpacklo_epi32(z[2], z[3]), a3 = _mm512_unpackhi_epi32(z[2], z[3]);
      const __m512i t[4] = {_mm512_unpacklo_epi64(a0, a2), _mm512_unpackhi_epi64(a0, a2),
                            _mm512_unpacklo_epi64(a1, a3), _mm512_unpackhi_epi64(a1, a3)};
      for (int j = 0; j < 4; ++j) {
        const int p = 4 * k + j;
        const int b = q4_0_block_of_dword(p);
        s[b] = _mm512_dpbusd_epi32(s[b], _mm512_and_si512(t[j], m4), _mm512_set1_epi32(a.lo[p]));
        s[b] = _mm512_dpbusd_epi32(s[b], _mm512_and_si512(_mm512_srli_epi16(t[j], 4), m4),
                                   _mm512_set1_epi32(a.hi[p]));
        // Block b's scale sits at byte 18b: dword (18b) / 4, low or high half.
        for (int bb = 0; bb < 8; ++bb)
          if ((18 * bb) / 4 == p) dword[bb] = t[j];
      }
    }
    for (int b = 0; b < 8; ++b) {
      const __m512i h = (18 * b) % 4 == 0 ? dword[b] : _mm512_srli_epi32(dword[b], 16);
      const __m512 dw = halves_to_ps(_mm512_cvtepi32_epi16(h));
      acc = _mm512_fmadd_ps(to_ps(s[b]), _mm512_mul_ps(dw, _mm512_set1_ps(a.d[b])), acc);
    }
  }
  _mm512_mask_storeu_ps(y, static_cast<__mmask16>((1u << nr) - 1), acc);
}

// 16 rows (row r at rows[r]) · NC columns, in Q4_0 block order; y[c * ldy + r] for r < nr.
// The weights are transposed once and used for all NC columns: the transposes, not the
// dot products, are most of the work, so a decode step of several sequences (continuous
// batching) costs little more than one.
template <int NC>
void q4_0_rows16(int64_t ngroups, const uint8_t* const rows[16], const uint8_t* act, size_t act_stride, float* y,
                 int64_t ldy, int nr, const uint8_t* next, int64_t next_bytes) {
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  const int64_t next_step = (next_bytes / ngroups + 63) / 64 * 64;
  __m512 acc[NC];
  for (int c = 0; c < NC; ++c) acc[c] = _mm512_setzero_ps();
  for (int64_t gi = 0; gi < ngroups; ++gi) {
    const int64_t o = gi * kQ4GroupBytes;
    const ActQ4Group* a[NC];
    for (int c = 0; c < NC; ++c)
      a[c] = reinterpret_cast<const ActQ4Group*>(act + static_cast<size_t>(c) * act_stride) + gi;
    // Reading 16 rows side by side is a poor pattern for DRAM: stream the next panel's rows
    // (contiguous memory) into L2 in order while this one is computed. Prefetches past the
    // end of the weights are harmless.
    for (int64_t l = gi * next_step; l < (gi + 1) * next_step; l += 64)
      _mm_prefetch(reinterpret_cast<const char*>(next + l), _MM_HINT_T1);
    __m512i s[NC][8];
    for (int c = 0; c < NC; ++c)
      for (int b = 0; b < 8; ++b) s[c][b] = _mm512_set1_epi32(a[c]->corr[b]);
    __m512i dword[8] = {};  // the dwords holding the blocks' scales (all set below)
    for (int k = 0; k < 9; ++k) {
      // Chunk k of rows i, i+4, i+8, i+12 in the four 128-bit lanes of z[i].
      __m512i z[4];
      for (int i = 0; i < 4; ++i) {
        __m512i v =
            _mm512_castsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[i] + o + 16 * k)));
        v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[i + 4] + o + 16 * k)),
                               1);
        v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[i + 8] + o + 16 * k)),
                               2);
        z[i] = _mm512_inserti32x4(
            v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[i + 12] + o + 16 * k)), 3);
      }
      // 4x4 dword transpose within 128-bit lanes: t[j] lane 4L + i = row 4L + i, dword 4k + j.
      const __m512i a0 = _mm512_unpacklo_epi32(z[0], z[1]), a1 = _mm512_unpackhi_epi32(z[0], z[1]);
      const __m512i a2 = _mm512_unpacklo_epi32(z[2], z[3]), a3 = _mm512_unpackhi_epi32(z[2], z[3]);
      const __m512i t[4] = {_mm512_unpacklo_epi64(a0, a2), _mm512_unpackhi_epi64(a0, a2),
                            _mm512_unpacklo_epi64(a1, a3), _mm512_unpackhi_epi64(a1, a3)};
      for (int j = 0; j < 4; ++j) {
        const int p = 4 * k + j;
        const int b = q4_0_block_of_dword(p);
        const __m512i lo = _mm512_and_si512(t[j], m4), hi = _mm512_and_si512(_mm512_srli_epi16(t[j], 4), m4);
        for (int c = 0; c < NC; ++c) {
          s[c][b] = _mm512_dpbusd_epi32(s[c][b], lo, _mm512_set1_epi32(a[c]->lo[p]));
          s[c][b] = _mm512_dpbusd_epi32(s[c][b], hi, _mm512_set1_epi32(a[c]->hi[p]));
        }
        // Block b's scale sits at byte 18b: dword (18b) / 4, low or high half.
        for (int bb = 0; bb < 8; ++bb)
          if ((18 * bb) / 4 == p) dword[bb] = t[j];
      }
    }
    for (int b = 0; b < 8; ++b) {
      const __m512i h = (18 * b) % 4 == 0 ? dword[b] : _mm512_srli_epi32(dword[b], 16);
      const __m512 dw = halves_to_ps(_mm512_cvtepi32_epi16(h));
      for (int c = 0; c < NC; ++c)
        acc[c] = _mm512_fmadd_ps(to_ps(s[c][b]), _mm512_mul_ps(dw, _mm512_set1_ps(a[c]->d[b])), acc[c]);
    }
  }
  for (int c = 0; c < NC; ++c) _mm512_mask_storeu_ps(y + c * ldy, static_cast<__mmask16>((1u << nr) - 1), acc[c]);
}

// Columns in passes of up to kColumnsPerPass (each pass transposes the weights once more).
constexpr int64_t kColumnsPerPass = 4;

void q4_0_run(int64_t K, const uint8_t* w, size_t w_stride, int64_t nr, const uint8_t* act, size_t act_stride,
              int64_t nc, float* y, int64_t ldy) {
  for (int64_t r0 = 0; r0 < nr; r0 += 16) {
    const int n = static_cast<int>(std::min<int64_t>(16, nr - r0));
    const uint8_t* rows[16];
    for (int r = 0; r < 16; ++r) rows[r] = w + static_cast<size_t>(r0 + std::min(r, n - 1)) * w_stride;
    for (int64_t c = 0; c < nc; c += kColumnsPerPass) {
      const uint8_t* ac = act + static_cast<size_t>(c) * act_stride;
      float* yc = y + c * ldy + r0;
      const uint8_t* next = w + static_cast<size_t>(r0 + 16) * w_stride;
      const int64_t next_bytes = c == 0 ? static_cast<int64_t>(16 * w_stride) : 0;
      switch (std::min(kColumnsPerPass, nc - c)) {
        case 1:
          q4_0_rows16_one_column(K / 256, rows, reinterpret_cast<const ActQ4Group*>(ac), yc, n, next, next_bytes);
          break;
        case 2: q4_0_rows16<2>(K / 256, rows, ac, act_stride, yc, ldy, n, next, next_bytes); break;
        case 3: q4_0_rows16<3>(K / 256, rows, ac, act_stride, yc, ldy, n, next, next_bytes); break;
        default: q4_0_rows16<4>(K / 256, rows, ac, act_stride, yc, ldy, n, next, next_bytes); break;
      }
    }
  }
}

// Up to 8 columns (a decode step of several sequences) this beats the tiles, which repack
// every weight panel per call; matmul.cpp picks the tiles above that.
constexpr GemvKernel kQ4_0{q4_0_group_act_bytes, 256, 8, 256, q4_0_group_pack_act, q4_0_run};

}  // namespace

const GemvKernel* gemv_kernel_avx512(DType wtype) { return wtype == DType::Q4_0 ? &kQ4_0 : nullptr; }

}  // namespace xnai::cpu::detail
