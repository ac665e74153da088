// Private to models/kokoro, included only by kokoro_simd_avx2.cpp / kokoro_simd_avx512.cpp:
// the generator kernels written once over a small vector trait V (register type, lane
// count N, load/store/fma/broadcast and the few integer tricks of the sine).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstring>

#include "models/kokoro/kokoro_simd.h"

namespace xnai::models::kokoro::simd {

template <class V>
struct Kernels {
  using R = typename V::reg;
  static constexpr int N = V::N;

  // sin(z): n = round(z·2/π), r = z − n·π/2 in three parts (the first two have few enough
  // bits that n·part is exact for |n| < 2^15), then the quadrant's sin or cos polynomial on
  // |r| ≤ π/4 (Cephes' minimax coefficients).
  static R sin_v(R z) {
    const R n = V::round(V::mul(z, V::set1(0.636619772367581343f)));
    R r = V::fnmadd(n, V::set1(1.5703125f), z);
    r = V::fnmadd(n, V::set1(4.837512969970703125e-4f), r);
    r = V::fnmadd(n, V::set1(7.54978995489188216e-8f), r);
    const R r2 = V::mul(r, r);
    R s = V::fma(r2, V::set1(-1.9515295891e-4f), V::set1(8.3321608736e-3f));
    s = V::fma(r2, s, V::set1(-1.6666654611e-1f));
    s = V::fma(V::mul(r2, r), s, r);
    R c = V::fma(r2, V::set1(2.443315711809948e-5f), V::set1(-1.388731625493765e-3f));
    c = V::fma(r2, c, V::set1(4.166664568298827e-2f));
    c = V::fma(V::mul(r2, r2), c, V::fnmadd(V::set1(0.5f), r2, V::set1(1.f)));
    return V::quadrant(s, c, n);
  }

  // Lanes with |z| > 32768 (reduction no longer exact) redone with std::sin.
  static R sin_checked(R z) {
    R y = sin_v(z);
    if (V::any_abs_above(z, 32768.f)) {
      alignas(64) float zs[N], ys[N];
      V::store(zs, z);
      V::store(ys, y);
      for (int l = 0; l < N; ++l)
        if (std::fabs(zs[l]) > 32768.f || !std::isfinite(zs[l])) ys[l] = std::sin(zs[l]);
      y = V::load(ys);
    }
    return y;
  }

  static void sin(const float* x, float* y, int64_t n) {
    int64_t i = 0;
    for (; i + N <= n; i += N) V::store(y + i, sin_checked(V::load(x + i)));
    if (i < n) {
      alignas(64) float buf[N] = {};
      std::memcpy(buf, x + i, sizeof(float) * static_cast<size_t>(n - i));
      V::store(buf, sin_checked(V::load(buf)));
      std::memcpy(y + i, buf, sizeof(float) * static_cast<size_t>(n - i));
    }
  }

  static R affine_snake_v(R x, R mean, R scale, R shift, R alpha, R inv_alpha) {
    const R v = V::fma(V::sub(x, mean), scale, shift);
    const R s = sin_checked(V::mul(alpha, v));
    return V::fma(V::mul(s, s), inv_alpha, v);
  }

  static void affine_snake(const float* x, float* y, int64_t n, float mean, float scale, float shift,
                           float alpha) {
    const R m = V::set1(mean), sc = V::set1(scale), sh = V::set1(shift), a = V::set1(alpha),
            ia = V::set1(1.f / alpha);
    int64_t i = 0;
    for (; i + N <= n; i += N) V::store(y + i, affine_snake_v(V::load(x + i), m, sc, sh, a, ia));
    if (i < n) {
      alignas(64) float buf[N] = {};
      std::memcpy(buf, x + i, sizeof(float) * static_cast<size_t>(n - i));
      V::store(buf, affine_snake_v(V::load(buf), m, sc, sh, a, ia));
      std::memcpy(y + i, buf, sizeof(float) * static_cast<size_t>(n - i));
    }
  }

  // e^z for |z| ≤ 87: n = round(z / ln 2), r = z − n·ln 2 (two parts), a degree-5 polynomial
  // for e^r (ggml's coefficients, ~1 ulp), times 2^n.
  static R exp_v(R z) {
    const R n = V::round(V::mul(z, V::set1(0x1.715476p+0f)));
    R r = V::fnmadd(n, V::set1(0x1.62e4p-1f), z);
    r = V::fnmadd(n, V::set1(0x1.7f7d1cp-20f), r);
    const R r2 = V::mul(r, r);
    const R hi = V::fma(V::fma(V::set1(0x1.0e4020p-7f), r, V::set1(0x1.573e2ep-5f)), r2,
                        V::fma(V::set1(0x1.555e66p-3f), r, V::set1(0x1.fffdb6p-2f)));
    const R p = V::fma(hi, r2, V::fma(V::set1(0x1.ffffecp-1f), r, V::set1(1.f)));
    return V::mul(p, V::pow2i(n));
  }

  // transformers' gelu_new: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), the tanh as
  // (e^{2u} − 1)/(e^{2u} + 1) with u clamped to ±9 (tanh is ±1 in float beyond).
  static R gelu_tanh_v(R x) {
    const R x3 = V::mul(V::mul(x, x), x);
    R u = V::mul(V::set1(0.7978845608028654f), V::fma(V::set1(0.044715f), x3, x));
    u = V::max(V::min(u, V::set1(9.f)), V::set1(-9.f));
    const R e = exp_v(V::add(u, u));
    const R t = V::div(V::sub(e, V::set1(1.f)), V::add(e, V::set1(1.f)));
    return V::mul(V::mul(V::set1(0.5f), x), V::add(V::set1(1.f), t));
  }

  static void gelu_tanh(const float* x, float* y, int64_t n) {
    int64_t i = 0;
    for (; i + N <= n; i += N) V::store(y + i, gelu_tanh_v(V::load(x + i)));
    if (i < n) {
      alignas(64) float buf[N] = {};
      std::memcpy(buf, x + i, sizeof(float) * static_cast<size_t>(n - i));
      V::store(buf, gelu_tanh_v(V::load(buf)));
      std::memcpy(y + i, buf, sizeof(float) * static_cast<size_t>(n - i));
    }
  }

  // One MR x (NV·N) output tile over the whole reduction, held in MR·NV registers: per
  // (k, i) NV contiguous time vectors of the input and MR broadcast weights.
  template <int MR, int NV>
  static void conv_tile(const float* x, int64_t ldx, const float* wp, int64_t cin, int64_t K, int64_t d,
                        float* out) {
    R acc[MR][NV];
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] = V::zero();
    for (int64_t k = 0; k < K; ++k) {
      const float* xk = x + k * d;
      const float* wk = wp + k * cin * MR;
      for (int64_t i = 0; i < cin; ++i) {
        const float* xr = xk + i * ldx;
        const float* w = wk + i * MR;
        R xv[NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) xv[v] = V::load(xr + v * N);
#pragma GCC unroll 16
        for (int r = 0; r < MR; ++r) {
          const R wb = V::set1(w[r]);
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v) acc[r][v] = V::fma(wb, xv[v], acc[r][v]);
        }
      }
    }
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) V::store(out + r * NV * N + v * N, acc[r][v]);
  }

  // Time tiles are walked in blocks small enough that the input panel stays in L2 while
  // every output-channel block passes over it.
  template <int MR, int NV>
  static void conv_tiles(const ConvDirectArgs& a, int64_t tb, int64_t te) {
    constexpr int NR = NV * N;
    constexpr int64_t kBlock = 8;  // tiles per block: 8·NR columns
    alignas(64) float tile[MR * NR];
    const int64_t nob = (a.cout + MR - 1) / MR;
    for (int64_t b0 = tb; b0 < te; b0 += kBlock) {
      const int64_t b1 = std::min(te, b0 + kBlock);
      for (int64_t ob = 0; ob < nob; ++ob) {
        const float* wp = a.wpack + ob * a.K * a.cin * MR;
        const int64_t o0 = ob * MR, mo = std::min<int64_t>(MR, a.cout - o0);
        for (int64_t tt = b0; tt < b1; ++tt) {
          const int64_t t0 = tt * NR, nt = std::min<int64_t>(NR, a.lout - t0);
          conv_tile<MR, NV>(a.x + (t0 - a.x_t0), a.ldx, wp, a.cin, a.K, a.dilation, tile);
          for (int64_t r = 0; r < mo; ++r) {
            float* yr = a.y + (o0 + r) * a.ldy + t0;
            const float* tr = tile + r * NR;
            const float bias = a.bias ? a.bias[o0 + r] : 0.f;
            if (a.accumulate)
              for (int64_t j = 0; j < nt; ++j) yr[j] += tr[j] + bias;
            else
              for (int64_t j = 0; j < nt; ++j) yr[j] = tr[j] + bias;
          }
        }
      }
    }
  }
};

}  // namespace xnai::models::kokoro::simd
