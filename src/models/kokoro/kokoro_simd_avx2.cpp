// AVX2 + FMA instantiation of the generator kernels (kokoro_simd_kernels.h): conv tiles of
// 6 output channels x 16 time steps (12 ymm accumulators).
#include <immintrin.h>

#include "models/kokoro/kokoro_fft_kernels.h"
#include "models/kokoro/kokoro_simd_kernels.h"
#include "models/kokoro/kokoro_winograd_kernels.h"

namespace xnai::models::kokoro::simd {
namespace {

struct V256 {
  using reg = __m256;
  static constexpr int N = 8;
  static reg load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, reg v) { _mm256_storeu_ps(p, v); }
  static reg set1(float f) { return _mm256_set1_ps(f); }
  static reg zero() { return _mm256_setzero_ps(); }
  static reg mul(reg a, reg b) { return _mm256_mul_ps(a, b); }
  static reg sub(reg a, reg b) { return _mm256_sub_ps(a, b); }
  static reg fma(reg a, reg b, reg c) { return _mm256_fmadd_ps(a, b, c); }
  static reg fnmadd(reg a, reg b, reg c) { return _mm256_fnmadd_ps(a, b, c); }
  static reg add(reg a, reg b) { return _mm256_add_ps(a, b); }
  static reg div(reg a, reg b) { return _mm256_div_ps(a, b); }
  static reg min(reg a, reg b) { return _mm256_min_ps(a, b); }
  static reg max(reg a, reg b) { return _mm256_max_ps(a, b); }
  // 2^n for integer-valued n in [−126, 127]: n + 127 in the exponent field.
  static reg pow2i(reg n) {
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_castsi256_ps(e);
  }
  static reg round(reg v) { return _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static reg quadrant(reg s, reg c, reg n) {
    const __m256i q = _mm256_cvtps_epi32(n);
    const __m256i one = _mm256_set1_epi32(1);
    const reg odd = _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_and_si256(q, one), one));
    const reg v = _mm256_blendv_ps(s, c, odd);
    const __m256i sign = _mm256_and_si256(_mm256_slli_epi32(q, 30), _mm256_set1_epi32(int(0x80000000u)));
    return _mm256_castsi256_ps(_mm256_xor_si256(_mm256_castps_si256(v), sign));
  }
  static bool any_abs_above(reg z, float t) {
    const reg a = _mm256_andnot_ps(_mm256_set1_ps(-0.f), z);
    return _mm256_movemask_ps(_mm256_cmp_ps(a, _mm256_set1_ps(t), _CMP_NLE_UQ)) != 0;
  }
};

using K = Kernels<V256>;
using W = WinogradKernels<V256>;
using F = FftKernels<V256>;

}  // namespace

LevelKernels avx2_kernels() {
  return {K::sin,      K::affine_snake,     K::gelu_tanh,    6,
          16,          K::conv_tiles<6, 2>, F::forward_pair, F::inverse_pair,
          F::dft_bins, F::gauss_bins,       W::input_row,    W::output_row};
}

}  // namespace xnai::models::kokoro::simd
