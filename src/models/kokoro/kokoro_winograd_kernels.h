// Private to models/kokoro, included only by kokoro_simd_avx2.cpp / kokoro_simd_avx512.cpp:
// the per-row transforms of the Winograd F(4,3) convolution (conv1d_winograd.cpp), plain
// loops over contiguous lanes that the compiler vectorises for the file's instruction set.
//
// Lanes: tile λ = τ·d + p (dilation d, phase p < d) holds outputs t = 4d·τ + p + d·j, j < 4,
// and reads inputs 4d·τ + p + d·m − pad, m < 6, relative to the first tile of the call.
// Per row the inputs are first split into four streams Z_m[λ] (m < 4: one input each per
// tile); the tile's fifth and sixth inputs are Z_0 and Z_1 of the tile d lanes on.
#pragma once
#include <cstdint>

namespace xnai::models::kokoro::simd {

template <class Tag>
struct WinogradKernels {
  // src: one input row, src[0] the input of tile 0's m = 0 at phase 0, readable up to
  // 4d·(ntau + 1) floats. z: scratch of 4·zs floats, zs ≥ d·(ntau + 1). Writes the six
  // transformed rows v[ξ·vplane + λ], λ < d·ntau:
  //   V = Bᵀ x with Bᵀ rows (4 0 −5 0 1 0) (0 −4 −4 1 1 0) (0 4 −4 −1 1 0)
  //                       (0 −2 −1 2 1 0) (0 2 −1 −2 1 0) (0 4 0 −5 0 1).
  static void input_row(const float* __restrict src, int64_t d, int64_t ntau, float* __restrict z, int64_t zs,
                        float* __restrict v, int64_t vplane) {
    const int64_t nz = d * (ntau + 1), nl = d * ntau;
    float* __restrict z0 = z;
    float* __restrict z1 = z + zs;
    float* __restrict z2 = z + 2 * zs;
    float* __restrict z3 = z + 3 * zs;
    if (d == 1) {
      for (int64_t l = 0; l < nz; ++l) {
        z0[l] = src[4 * l];
        z1[l] = src[4 * l + 1];
        z2[l] = src[4 * l + 2];
        z3[l] = src[4 * l + 3];
      }
    } else {
      for (int64_t tau = 0; tau <= ntau; ++tau) {
        const float* s = src + 4 * d * tau;
        const int64_t o = d * tau;
        for (int64_t p = 0; p < d; ++p) {
          z0[o + p] = s[p];
          z1[o + p] = s[d + p];
          z2[o + p] = s[2 * d + p];
          z3[o + p] = s[3 * d + p];
        }
      }
    }
    float* __restrict v0 = v;
    float* __restrict v1 = v + vplane;
    float* __restrict v2 = v + 2 * vplane;
    float* __restrict v3 = v + 3 * vplane;
    float* __restrict v4 = v + 4 * vplane;
    float* __restrict v5 = v + 5 * vplane;
#pragma GCC ivdep
    for (int64_t l = 0; l < nl; ++l) {
      const float x0 = z0[l], x1 = z1[l], x2 = z2[l], x3 = z3[l], x4 = z0[l + d], x5 = z1[l + d];
      v0[l] = 4.f * x0 - 5.f * x2 + x4;
      v1[l] = -4.f * x1 - 4.f * x2 + x3 + x4;
      v2[l] = 4.f * x1 - 4.f * x2 - x3 + x4;
      v3[l] = -2.f * x1 - x2 + 2.f * x3 + x4;
      v4[l] = 2.f * x1 - x2 - 2.f * x3 + x4;
      v5[l] = 4.f * x1 - 5.f * x3 + x5;
    }
  }

  // m: the six products of one output channel, m[ξ·mplane + λ]. Y = Aᵀ m with Aᵀ rows
  // (1 1 1 1 1 0) (0 1 −1 2 −2 0) (0 1 1 4 4 0) (0 1 −1 8 −8 1), plus bias, to out[t] for the
  // lanes' outputs t < limit (added to out's contents when accumulate). y: scratch of 4·nl.
  static void output_row(const float* __restrict m, int64_t mplane, int64_t d, int64_t ntau, float bias,
                         float* __restrict out, int64_t limit, bool accumulate, float* __restrict y) {
    const int64_t nl = d * ntau;
    const float* __restrict m0 = m;
    const float* __restrict m1 = m + mplane;
    const float* __restrict m2 = m + 2 * mplane;
    const float* __restrict m3 = m + 3 * mplane;
    const float* __restrict m4 = m + 4 * mplane;
    const float* __restrict m5 = m + 5 * mplane;
    float* __restrict y0 = y;
    float* __restrict y1 = y + nl;
    float* __restrict y2 = y + 2 * nl;
    float* __restrict y3 = y + 3 * nl;
#pragma GCC ivdep
    for (int64_t l = 0; l < nl; ++l) {
      const float a = m1[l] + m2[l], b = m1[l] - m2[l], c = m3[l] + m4[l], e = m3[l] - m4[l];
      y0[l] = m0[l] + a + c + bias;
      y1[l] = b + 2.f * e + bias;
      y2[l] = a + 4.f * c + bias;
      y3[l] = b + 8.f * e + m5[l] + bias;
    }
    const int64_t full = limit >= 4 * d * ntau ? ntau : 0;  // every output inside: no checks
    if (d == 1 && full) {
      if (accumulate)
        for (int64_t l = 0; l < nl; ++l) {
          out[4 * l] += y0[l];
          out[4 * l + 1] += y1[l];
          out[4 * l + 2] += y2[l];
          out[4 * l + 3] += y3[l];
        }
      else
        for (int64_t l = 0; l < nl; ++l) {
          out[4 * l] = y0[l];
          out[4 * l + 1] = y1[l];
          out[4 * l + 2] = y2[l];
          out[4 * l + 3] = y3[l];
        }
      return;
    }
    for (int64_t tau = 0; tau < ntau; ++tau)
      for (int64_t j = 0; j < 4; ++j) {
        const float* yj = y + j * nl + d * tau;
        const int64_t t0 = 4 * d * tau + d * j;
        for (int64_t p = 0; p < d && t0 + p < limit; ++p)
          out[t0 + p] = accumulate ? out[t0 + p] + yj[p] : yj[p];
      }
  }
};

}  // namespace xnai::models::kokoro::simd
