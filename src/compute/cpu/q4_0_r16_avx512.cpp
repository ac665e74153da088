// AVX-512 VNNI kernel for Q4_0 panels (q4_0_r16.h): one zmm lane per panel row, vpdpbusd of
// the unpacked nibbles against activation dwords broadcast to all lanes, and llama.cpp's
// block-order chain acc = fma(I_b, d_w·d_a, acc) per output. Activations are ActQ8 units
// (gemm_panel.h): ggml's Q8_0 bytes plus the −8·Σq correction of the nibble offset.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "compute/cpu/gemm_panel.h"
#include "compute/cpu/q4_0_r16.h"
#include "compute/cpu/simd_avx512.h"

namespace xnai::cpu::detail {
namespace {

// One panel (nb blocks) · NC activation columns; y[c * ldy + r] for r < nr.
template <int NC>
void panel_columns(int64_t nb, const uint8_t* panel, const uint8_t* act, size_t act_stride, float* y, int64_t ldy,
                   int nr) {
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  __m512 acc[NC];
  for (int c = 0; c < NC; ++c) acc[c] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* p = panel + b * kQ4R16BlockBytes;
    const ActQ8* a[NC];
    __m512i s[NC];
    for (int c = 0; c < NC; ++c) {
      a[c] = reinterpret_cast<const ActQ8*>(act + c * act_stride) + b;
      s[c] = _mm512_set1_epi32(a[c]->corr_sum);
    }
    for (int j = 0; j < 4; ++j) {
      const __m512i q = _mm512_loadu_si512(p + 32 + 64 * j);
      const __m512i lo = _mm512_and_si512(q, m4), hi = _mm512_and_si512(_mm512_srli_epi16(q, 4), m4);
      for (int c = 0; c < NC; ++c) {
        s[c] = _mm512_dpbusd_epi32(s[c], lo, bcast32(a[c]->qs + 4 * j));
        s[c] = _mm512_dpbusd_epi32(s[c], hi, bcast32(a[c]->qs + 16 + 4 * j));
      }
    }
    const __m512 dw = halves_to_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    for (int c = 0; c < NC; ++c)
      acc[c] = _mm512_fmadd_ps(to_ps(s[c]), _mm512_mul_ps(dw, _mm512_set1_ps(a[c]->d)), acc[c]);
  }
  const auto mask = static_cast<__mmask16>((1u << nr) - 1);
  for (int c = 0; c < NC; ++c) _mm512_mask_storeu_ps(y + c * ldy, mask, acc[c]);
}

constexpr int kColumnsPerPass = 8;

void run(int64_t K, const uint8_t* w, size_t w_stride, int64_t nr, const uint8_t* act, size_t act_stride, int64_t nc,
         float* y, int64_t ldy) {
  const int64_t nb = K / 32;
  for (int64_t r0 = 0; r0 < nr; r0 += kQ4R16Rows) {
    const uint8_t* panel = w + static_cast<size_t>(r0) * w_stride;
    const int n = static_cast<int>(std::min<int64_t>(kQ4R16Rows, nr - r0));
    for (int64_t c = 0; c < nc; c += kColumnsPerPass) {
      const uint8_t* ac = act + static_cast<size_t>(c) * act_stride;
      float* yc = y + c * ldy + r0;
      switch (std::min<int64_t>(kColumnsPerPass, nc - c)) {
        case 1: panel_columns<1>(nb, panel, ac, act_stride, yc, ldy, n); break;
        case 2: panel_columns<2>(nb, panel, ac, act_stride, yc, ldy, n); break;
        case 3: panel_columns<3>(nb, panel, ac, act_stride, yc, ldy, n); break;
        case 4: panel_columns<4>(nb, panel, ac, act_stride, yc, ldy, n); break;
        case 5: panel_columns<5>(nb, panel, ac, act_stride, yc, ldy, n); break;
        case 6: panel_columns<6>(nb, panel, ac, act_stride, yc, ldy, n); break;
        case 7: panel_columns<7>(nb, panel, ac, act_stride, yc, ldy, n); break;
        default: panel_columns<8>(nb, panel, ac, act_stride, yc, ldy, n); break;
      }
    }
  }
}

size_t act_bytes(int64_t K) { return static_cast<size_t>(K / 32) * sizeof(ActQ8); }

void pack_act(const float* x, int64_t K, int64_t u0, int64_t u1, uint8_t* out) {
  (void)K;
  pack_act_q8_avx2(PanelKind::Q4_0, x + u0 * 32, (u1 - u0) * 32, out + static_cast<size_t>(u0) * sizeof(ActQ8));
}

// Any column count: the panel kernel is also the prefill kernel (the tiles would need the
// file's row layout, which is gone once a matrix is repacked).
constexpr GemvKernel kKernel{act_bytes, 32, int64_t{1} << 40, 32, pack_act, run};

}  // namespace

const GemvKernel* q4_0_r16_kernel_avx512() { return &kKernel; }

}  // namespace xnai::cpu::detail
