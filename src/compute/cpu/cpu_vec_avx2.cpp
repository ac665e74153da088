// AVX2 + FMA + F16C versions of cpu_vec.h. Compiled with those flags (see CMakeLists.txt);
// only reached after cpu_vec.cpp has checked that the CPU supports them. A 16-lane
// accumulator is kept as two __m256 (lanes 0-7 and 8-15).
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "compute/cpu/cpu_vec.h"
#include "core/fp16.h"

namespace xnai::cpu {
namespace {

// The lane tree of cpu_vec.h over lanes lo (0-7) and hi (8-15).
inline float tree_sum(__m256 lo, __m256 hi) {
  const __m256 t8 = _mm256_add_ps(hi, lo);
  __m128 t4 = _mm_add_ps(_mm256_extractf128_ps(t8, 1), _mm256_castps256_ps128(t8));
  t4 = _mm_add_ps(t4, _mm_movehl_ps(t4, t4));  // [l0+l2, l1+l3, …]
  t4 = _mm_add_ss(t4, _mm_movehdup_ps(t4));    // (l0+l2) + (l1+l3)
  return _mm_cvtss_f32(t4);
}

inline __m256 load_f16(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// ggml_vec_dot's combination of four 16-lane accumulators, acc[2k] / acc[2k+1] holding
// lanes 0-7 / 8-15 of accumulator k.
inline float combine64(const __m256* acc) {
  const __m256 lo = _mm256_add_ps(_mm256_add_ps(acc[0], acc[4]), _mm256_add_ps(acc[2], acc[6]));
  const __m256 hi = _mm256_add_ps(_mm256_add_ps(acc[1], acc[5]), _mm256_add_ps(acc[3], acc[7]));
  return tree_sum(lo, hi);
}

float dot_f32(const float* a, const float* b, int64_t n) {
  __m256 acc[8];
  for (auto& v : acc) v = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 64 <= n; i += 64)
    for (int k = 0; k < 8; ++k)
      acc[k] = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8 * k), _mm256_loadu_ps(b + i + 8 * k), acc[k]);
  float s = combine64(acc);
  for (; i < n; ++i) s = std::fma(a[i], b[i], s);
  return s;
}

float dot_f16_gemm(const uint16_t* a, const float* b, int64_t n) {
  __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    lo = _mm256_fmadd_ps(load_f16(a + i), _mm256_loadu_ps(b + i), lo);
    hi = _mm256_fmadd_ps(load_f16(a + i + 8), _mm256_loadu_ps(b + i + 8), hi);
  }
  float s = tree_sum(lo, hi);
  for (; i < n; ++i) s = std::fma(fp16_to_f32(a[i]), b[i], s);
  return s;
}

float dot_f16_vecdot(const uint16_t* a, const float* b, int64_t n) {
  __m256 acc[8];
  for (auto& v : acc) v = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 64 <= n; i += 64)
    for (int k = 0; k < 8; ++k)
      acc[k] = _mm256_fmadd_ps(load_f16(a + i + 8 * k), _mm256_loadu_ps(b + i + 8 * k), acc[k]);
  double s = combine64(acc);
  for (; i < n; ++i) s += static_cast<double>(fp16_to_f32(a[i]) * b[i]);
  return static_cast<float>(s);
}

void to_f16(const float* x, uint16_t* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; ++i) y[i] = f32_to_fp16(x[i]);
}

void round_f16(float* x, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(x + i,
                     _mm256_cvtph_ps(_mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT)));
  for (; i < n; ++i) x[i] = fp16_to_f32(f32_to_fp16(x[i]));
}

// exp_ggml on 8 lanes. While every 2^n is a normal float the final j·2^n is one correctly
// rounded multiply, as the AVX-512 scalef is; other lanes (underflow, overflow, ±inf)
// take the scalar route, which rounds once too.
inline __m256 exp8(__m256 x) {
  const __m256 shift = _mm256_set1_ps(0x1.8p23f);
  const __m256 n = _mm256_sub_ps(_mm256_fmadd_ps(x, _mm256_set1_ps(0x1.715476p+0f), shift), shift);
  const __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.7f7d1cp-20f),
                                    _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.62e4p-1f), x));
  const __m256 r2 = _mm256_mul_ps(r, r);
  const __m256 hi =
      _mm256_fmadd_ps(_mm256_fmadd_ps(_mm256_set1_ps(0x1.0e4020p-7f), r, _mm256_set1_ps(0x1.573e2ep-5f)), r2,
                      _mm256_fmadd_ps(_mm256_set1_ps(0x1.555e66p-3f), r, _mm256_set1_ps(0x1.fffdb6p-2f)));
  const __m256 p =
      _mm256_fmadd_ps(hi, r2, _mm256_fmadd_ps(_mm256_set1_ps(0x1.ffffecp-1f), r, _mm256_set1_ps(1.0f)));
  // Lanes with -126 <= n <= 127 (false for NaN, handled below too).
  const __m256 normal = _mm256_and_ps(_mm256_cmp_ps(n, _mm256_set1_ps(-126.0f), _CMP_GE_OQ),
                                      _mm256_cmp_ps(n, _mm256_set1_ps(127.0f), _CMP_LE_OQ));
  if (_mm256_movemask_ps(normal) == 0xff) {
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
  }
  alignas(32) float pv[8], nv[8], out[8];
  _mm256_store_ps(pv, p);
  _mm256_store_ps(nv, n);
  for (int l = 0; l < 8; ++l) {
    if (std::isnan(nv[l])) {
      out[l] = nv[l];
    } else if (std::fabs(nv[l]) > 192.0f) {
      out[l] = nv[l] <= 0.0f ? 0.0f : INFINITY;
    } else {
      out[l] = static_cast<float>(std::ldexp(static_cast<double>(pv[l]), static_cast<int>(nv[l])));
    }
  }
  return _mm256_load_ps(out);
}

double softmax_exp(float* y, const float* x, float max, int64_t n) {
  const __m256 vmax = _mm256_set1_ps(max);
  double sum = 0.0;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 lo = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), vmax));
    const __m256 hi = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i + 8), vmax));
    _mm256_storeu_ps(y + i, lo);
    _mm256_storeu_ps(y + i + 8, hi);
    sum += static_cast<double>(tree_sum(lo, hi));
  }
  if (i < n) {  // last block: lanes past n are -inf, so exp gives 0
    alignas(32) float in[16], e[16];
    for (int l = 0; l < 16; ++l) in[l] = i + l < n ? x[i + l] : -INFINITY;
    const __m256 lo = exp8(_mm256_sub_ps(_mm256_load_ps(in), vmax));
    const __m256 hi = exp8(_mm256_sub_ps(_mm256_load_ps(in + 8), vmax));
    _mm256_store_ps(e, lo);
    _mm256_store_ps(e + 8, hi);
    for (int64_t l = 0; i + l < n; ++l) y[i + l] = e[l];
    sum += static_cast<double>(tree_sum(lo, hi));
  }
  return sum;
}

template <class Row, class Load, class ToF32>
void weighted_rows(float* out, const float* p, const Row* rows, int64_t stride, int64_t n, int64_t n_pad,
                   int64_t hd, DotOrder order, float* lanes, Load load8, ToF32 to_f32) {
  const int64_t n_lanes = order == DotOrder::Gemm ? 16 : 64;
  const int64_t n_vec = order == DotOrder::Gemm ? n : std::min(n, n_pad & ~int64_t{63});
  std::memset(lanes, 0, static_cast<size_t>(n_lanes * hd) * sizeof(float));
  const int64_t hd8 = hd & ~int64_t{7};
  // Rows come in tiles of 4·n_lanes: a lane's (up to) four rows of a tile are added in
  // row order while its accumulator stays in a register, so each lane value is loaded and
  // stored once per tile instead of once per row.
  for (int64_t t0 = 0; t0 < n_vec; t0 += 4 * n_lanes) {
    for (int64_t l = 0; l < n_lanes; ++l) {
      const Row* r[4];
      __m256 w[4];
      float ws[4];
      int m = 0;
      for (int64_t j = t0 + l; j < n_vec && j < t0 + 4 * n_lanes; j += n_lanes) {
        if (p[j] == 0.0f) continue;
        r[m] = rows + j * stride;
        ws[m] = p[j];
        w[m++] = _mm256_set1_ps(p[j]);
      }
      if (m == 0) continue;
      float* lane = lanes + l * hd;
      for (int64_t d = 0; d < hd8; d += 8) {
        __m256 acc = _mm256_loadu_ps(lane + d);
        for (int k = 0; k < m; ++k) acc = _mm256_fmadd_ps(w[k], load8(r[k] + d), acc);
        _mm256_storeu_ps(lane + d, acc);
      }
      for (int64_t d = hd8; d < hd; ++d)
        for (int k = 0; k < m; ++k) lane[d] = std::fma(ws[k], to_f32(r[k][d]), lane[d]);
    }
  }
  // Combine the lanes for eight outputs at a time.
  auto L = [&](int64_t l, int64_t d) { return _mm256_loadu_ps(lanes + l * hd + d); };
  for (int64_t d = 0; d < hd8; d += 8) {
    __m256 v[16], t8[8], t4[4];
    for (int l = 0; l < 16; ++l)
      v[l] = order == DotOrder::Gemm ? L(l, d)
                                     : _mm256_add_ps(_mm256_add_ps(L(l, d), L(32 + l, d)),
                                                     _mm256_add_ps(L(16 + l, d), L(48 + l, d)));
    for (int l = 0; l < 8; ++l) t8[l] = _mm256_add_ps(v[l + 8], v[l]);
    for (int l = 0; l < 4; ++l) t4[l] = _mm256_add_ps(t8[l + 4], t8[l]);
    _mm256_storeu_ps(out + d, _mm256_add_ps(_mm256_add_ps(t4[0], t4[2]), _mm256_add_ps(t4[1], t4[3])));
  }
  float v[16];
  for (int64_t d = hd8; d < hd; ++d) {
    for (int l = 0; l < 16; ++l)
      v[l] = order == DotOrder::Gemm ? lanes[l * hd + d]
                                     : (lanes[l * hd + d] + lanes[(32 + l) * hd + d]) +
                                           (lanes[(16 + l) * hd + d] + lanes[(48 + l) * hd + d]);
    out[d] = tree_sum16(v);
  }
  add_remainder(out, p, rows, stride, n_vec, n, hd, to_f32);
}

void weighted_rows_f16(float* out, const float* p, const uint16_t* rows, int64_t stride, int64_t n,
                       int64_t n_pad, int64_t hd, DotOrder order, float* lanes) {
  weighted_rows(
      out, p, rows, stride, n, n_pad, hd, order, lanes, [](const uint16_t* r) { return load_f16(r); },
      [](uint16_t h) { return fp16_to_f32(h); });
}

void weighted_rows_f32(float* out, const float* p, const float* rows, int64_t stride, int64_t n,
                       int64_t n_pad, int64_t hd, DotOrder order, float* lanes) {
  weighted_rows(
      out, p, rows, stride, n, n_pad, hd, order, lanes, [](const float* r) { return _mm256_loadu_ps(r); },
      [](float f) { return f; });
}

void silu_mul(const float* g, const float* u, float* y, int64_t n) {
  const __m256 one = _mm256_set1_ps(1.0f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_loadu_ps(g + i);
    const __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), x));
    _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_div_ps(x, _mm256_add_ps(one, e)), _mm256_loadu_ps(u + i)));
  }
  for (; i < n; ++i) y[i] = (g[i] / (1.0f + exp_ggml(-g[i]))) * u[i];
}

constexpr VecKernels kAvx2{dot_f32,     dot_f16_gemm,      dot_f16_vecdot,    to_f16,  round_f16,
                           softmax_exp, weighted_rows_f16, weighted_rows_f32, silu_mul};

}  // namespace

const VecKernels* vec_avx2() { return &kAvx2; }

}  // namespace xnai::cpu
