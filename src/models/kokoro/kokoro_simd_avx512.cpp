// AVX-512 instantiation of the generator kernels (kokoro_simd_kernels.h): conv tiles of
// 12 output channels x 32 time steps (24 zmm accumulators).
// GCC 12's AVX-512 headers build some intrinsics on an undefined pass-through operand that
// -W(maybe-)uninitialized reports at each inlined use (GCC PR 105593, a false positive).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>

#include "models/kokoro/kokoro_fft_kernels.h"
#include "models/kokoro/kokoro_simd_kernels.h"
#include "models/kokoro/kokoro_winograd_kernels.h"

namespace xnai::models::kokoro::simd {
namespace {

struct V512 {
  using reg = __m512;
  static constexpr int N = 16;
  static reg load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, reg v) { _mm512_storeu_ps(p, v); }
  static reg set1(float f) { return _mm512_set1_ps(f); }
  static reg zero() { return _mm512_setzero_ps(); }
  static reg mul(reg a, reg b) { return _mm512_mul_ps(a, b); }
  static reg sub(reg a, reg b) { return _mm512_sub_ps(a, b); }
  static reg fma(reg a, reg b, reg c) { return _mm512_fmadd_ps(a, b, c); }
  static reg fnmadd(reg a, reg b, reg c) { return _mm512_fnmadd_ps(a, b, c); }
  static reg add(reg a, reg b) { return _mm512_add_ps(a, b); }
  static reg div(reg a, reg b) { return _mm512_div_ps(a, b); }
  static reg min(reg a, reg b) { return _mm512_min_ps(a, b); }
  static reg max(reg a, reg b) { return _mm512_max_ps(a, b); }
  // 2^n for integer-valued n in [−126, 127]: n + 127 in the exponent field.
  static reg pow2i(reg n) {
    const __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
    return _mm512_castsi512_ps(e);
  }
  static reg round(reg v) { return _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  // Quadrant q = n mod 4: sin r, cos r, −sin r, −cos r.
  static reg quadrant(reg s, reg c, reg n) {
    const __m512i q = _mm512_cvtps_epi32(n);
    const __mmask16 odd = _mm512_test_epi32_mask(q, _mm512_set1_epi32(1));
    const reg v = _mm512_mask_blend_ps(odd, s, c);
    const __m512i sign = _mm512_and_si512(_mm512_slli_epi32(q, 30), _mm512_set1_epi32(int(0x80000000u)));
    return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(v), sign));
  }
  static bool any_abs_above(reg z, float t) {
    // NaN compares true (unordered) so it takes the slow path too.
    return _mm512_cmp_ps_mask(_mm512_abs_ps(z), _mm512_set1_ps(t), _CMP_NLE_UQ) != 0;
  }
};

using K = Kernels<V512>;
using W = WinogradKernels<V512>;
using F = FftKernels<V512>;

}  // namespace

LevelKernels avx512_kernels() {
  return {K::sin,      K::affine_snake,      K::gelu_tanh,    12,
          32,          K::conv_tiles<12, 2>, F::forward_pair, F::inverse_pair,
          F::dft_bins, F::gauss_bins,        W::input_row,    W::output_row};
}

}  // namespace xnai::models::kokoro::simd
