// Private to models/kokoro, included only by kokoro_simd_avx2.cpp / kokoro_simd_avx512.cpp:
// the lane-wise pieces of the overlap-save convolution (conv1d_fft.cpp). Every transform
// runs kFftLanes time blocks at once, one block per lane, so each loop below is a plain loop
// over kFftLanes contiguous floats that the compiler vectorises for the file's instruction
// set (no shuffles inside a transform).
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "models/kokoro/kokoro_simd.h"

namespace xnai::models::kokoro::simd {

// Tag: a type private to the including file (its vector trait), so each instruction set
// gets its own instantiation instead of one the linker would pick between.
template <class Tag>
struct FftKernels {
  static constexpr int L = kFftLanes;

  // dst[c·ldd + r] = src[r·lds + c] for a 16 x 16 block: four rounds of two-source lane
  // permutes, round k swapping bit k of the row index with bit k of the lane index (one
  // vpermt2ps per row and round on AVX-512).
  static void transpose16(const float* src, int64_t lds, float* dst, int64_t ldd) {
    typedef float v16 __attribute__((vector_size(64)));
    typedef int32_t v16i __attribute__((vector_size(64)));
    v16 r[16];
    for (int i = 0; i < 16; ++i) std::memcpy(&r[i], src + i * lds, 64);
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {
      const int bk = 1 << k;
      v16i m0, m1;
      for (int b = 0; b < 16; ++b) {
        m0[b] = (b & bk) ? 16 + b - bk : b;
        m1[b] = (b & bk) ? 16 + b : b + bk;
      }
#pragma GCC unroll 16
      for (int a = 0; a < 16; ++a)
        if (!(a & bk)) {
          const v16 x = r[a], y = r[a | bk];
          r[a] = __builtin_shuffle(x, y, m0);
          r[a | bk] = __builtin_shuffle(x, y, m1);
        }
    }
    for (int i = 0; i < 16; ++i) std::memcpy(dst + i * ldd, &r[i], 64);
  }
  // The 16-lane transposes pay where a vector holds 16 floats; elsewhere plain loops.
  static constexpr bool kBlockTranspose = Tag::N == 16;

  // Lane-ordered rows dst[rev[j]·L + l] = u[l·hop + j] for j < n, l < L.
  static void gather_lanes(const float* u, int64_t hop, const int32_t* rev, int64_t n, float* dst) {
    if constexpr (kBlockTranspose) {
      alignas(64) float t[256];
      for (int64_t j0 = 0; j0 < n; j0 += 16)
        for (int l0 = 0; l0 < L; l0 += 16) {
          transpose16(u + l0 * hop + j0, hop, t, 16);
          for (int jj = 0; jj < 16; ++jj) std::memcpy(dst + rev[j0 + jj] * L + l0, t + jj * 16, 64);
        }
    } else {
      for (int64_t j = 0; j < n; ++j) {
        float* d = dst + rev[j] * L;
        for (int l = 0; l < L; ++l) d[l] = u[l * hop + j];
      }
    }
  }

  // out[l·valid + j] (+)= src[j·L + l] + bias for j < valid and l·valid + j < limit.
  static void scatter_lanes(const float* src, float* out, int64_t valid, int64_t limit, float bias,
                            bool accumulate) {
    int l0 = 0;
    if constexpr (kBlockTranspose) {
      alignas(64) float t[256];
      for (; l0 + 16 <= L && (l0 + 16) * valid <= limit; l0 += 16) {
        int64_t j0 = 0;
        for (; j0 + 16 <= valid; j0 += 16) {
          transpose16(src + j0 * L + l0, L, t, 16);
          for (int ll = 0; ll < 16; ++ll) {
            float* o = out + (l0 + ll) * valid + j0;
            const float* tr = t + ll * 16;
            if (accumulate)
              for (int jj = 0; jj < 16; ++jj) o[jj] += tr[jj] + bias;
            else
              for (int jj = 0; jj < 16; ++jj) o[jj] = tr[jj] + bias;
          }
        }
        for (int ll = 0; ll < 16; ++ll) {
          float* o = out + (l0 + ll) * valid;
          for (int64_t j = j0; j < valid; ++j)
            o[j] = accumulate ? o[j] + (src[j * L + l0 + ll] + bias) : src[j * L + l0 + ll] + bias;
        }
      }
    }
    for (int l = l0; l < L; ++l) {
      const int64_t base = l * valid;
      const int64_t m = std::min(valid, limit - base);
      if (m <= 0) break;
      float* o = out + base;
      if (accumulate)
        for (int64_t j = 0; j < m; ++j) o[j] += src[j * L + l] + bias;
      else
        for (int64_t j = 0; j < m; ++j) o[j] = src[j * L + l] + bias;
    }
  }

  // In-place radix-2 decimation in time on re/im [n][L]: input in bit-reversed order, output
  // natural. Forward uses e^{-2πi m/n} (the table), inverse its conjugate, both unscaled.
  static void transform(float* __restrict re, float* __restrict im, int64_t n, const float* twr,
                        const float* twi, bool inverse) {
    // First two stages together (twiddles 1 and ∓i): one pass instead of two.
    const float s = inverse ? -1.f : 1.f;
    for (int64_t q = 0; q + 4 <= n; q += 4) {
      float* r0 = re + q * L;
      float* i0 = im + q * L;
#pragma GCC ivdep
      for (int l = 0; l < L; ++l) {
        const float ar = r0[l], ai = i0[l], br = r0[L + l], bi = i0[L + l];
        const float cr = r0[2 * L + l], ci = i0[2 * L + l], dr = r0[3 * L + l], di = i0[3 * L + l];
        const float e0r = ar + br, e0i = ai + bi, e1r = ar - br, e1i = ai - bi;
        const float o0r = cr + dr, o0i = ci + di, o1r = cr - dr, o1i = ci - di;
        // (o1r + i·o1i)·(∓i) with the forward sign −i: (o1i, −o1r).
        const float t1r = s * o1i, t1i = -s * o1r;
        r0[l] = e0r + o0r;
        i0[l] = e0i + o0i;
        r0[2 * L + l] = e0r - o0r;
        i0[2 * L + l] = e0i - o0i;
        r0[L + l] = e1r + t1r;
        i0[L + l] = e1i + t1i;
        r0[3 * L + l] = e1r - t1r;
        i0[3 * L + l] = e1i - t1i;
      }
    }
    for (int64_t len = 8; len <= n; len <<= 1) {
      const int64_t half = len / 2, step = n / len;
      for (int64_t st = 0; st < n; st += len)
        for (int64_t k = 0; k < half; ++k) {
          const float wr = twr[k * step], wi = inverse ? -twi[k * step] : twi[k * step];
          float* __restrict ar = re + (st + k) * L;
          float* __restrict ai = im + (st + k) * L;
          float* __restrict br = re + (st + k + half) * L;
          float* __restrict bi = im + (st + k + half) * L;
#pragma GCC ivdep
          for (int l = 0; l < L; ++l) {
            const float tr = br[l] * wr - bi[l] * wi, ti = br[l] * wi + bi[l] * wr;
            br[l] = ar[l] - tr;
            bi[l] = ai[l] - ti;
            ar[l] += tr;
            ai[l] += ti;
          }
        }
    }
  }

  // Two real input channels u0, u1 (lane b's block is u[b·hop + j], j < n) as one complex
  // transform, split into their half spectra (bins 0..n/2), each scaled by 2: channel c's
  // bin f goes to re/im planes at [f·fstride + c·L]. u1 may be null (a zero channel).
  static void forward_pair(const FftTables& t, const float* u0, const float* u1, int64_t hop, float* ws,
                           float* ur, float* ui, int64_t fstride) {
    const int64_t n = t.n;
    float* __restrict re = ws;
    float* __restrict im = ws + n * L;
    gather_lanes(u0, hop, t.rev, n, re);
    if (u1)
      gather_lanes(u1, hop, t.rev, n, im);
    else
      std::fill(im, im + n * L, 0.f);
    transform(re, im, n, t.twr, t.twi, false);
    for (int64_t f = 0; f <= n / 2; ++f) {
      const int64_t g = (n - f) & (n - 1);
      const float* __restrict ar = re + f * L;
      const float* __restrict ai = im + f * L;
      const float* __restrict br = re + g * L;
      const float* __restrict bi = im + g * L;
      float* __restrict r0 = ur + f * fstride;
      float* __restrict i0 = ui + f * fstride;
#pragma GCC ivdep
      for (int l = 0; l < L; ++l) {
        // Z = U0 + i·U1: 2·U0 = Z[f] + conj Z[n−f], 2·U1 = −i·(Z[f] − conj Z[n−f]).
        r0[l] = ar[l] + br[l];
        i0[l] = ai[l] - bi[l];
        r0[L + l] = ai[l] + bi[l];
        i0[L + l] = br[l] - ar[l];
      }
    }
  }

  // Two output channels from their half spectra (bins 0..n/2 at yr/yi[f·fstride + c·L], the
  // imaginary parts of bins 0 and n/2 ignored): one complex inverse transform, then lane b's
  // first `valid` samples go to out[b·valid + j] for b·valid + j < limit, plus bias, added to
  // out's contents when accumulate. out1 may be null (an odd last channel).
  static void inverse_pair(const FftTables& t, const float* yr, const float* yi, int64_t fstride, float* ws,
                           float* out0, float* out1, int64_t valid, int64_t limit, float bias0, float bias1,
                           bool accumulate) {
    const int64_t n = t.n, h = n / 2;
    float* __restrict re = ws;
    float* __restrict im = ws + n * L;
    for (int64_t f = 0; f <= h; ++f) {
      const float* __restrict y0r = yr + f * fstride;
      const float* __restrict y0i = yi + f * fstride;
      const float* __restrict y1r = yr + f * fstride + L;
      const float* __restrict y1i = yi + f * fstride + L;
      float* __restrict zr = re + t.rev[f] * L;
      float* __restrict zi = im + t.rev[f] * L;
      if (f == 0 || f == h) {
#pragma GCC ivdep
        for (int l = 0; l < L; ++l) {
          zr[l] = y0r[l];
          zi[l] = y1r[l];
        }
        continue;
      }
      float* __restrict wr = re + t.rev[n - f] * L;
      float* __restrict wi = im + t.rev[n - f] * L;
      // Z = Y0 + i·Y1 over the full circle, Y(n−f) = conj Y(f).
#pragma GCC ivdep
      for (int l = 0; l < L; ++l) {
        zr[l] = y0r[l] - y1i[l];
        zi[l] = y0i[l] + y1r[l];
        wr[l] = y0r[l] + y1i[l];
        wi[l] = y1r[l] - y0i[l];
      }
    }
    transform(re, im, n, t.twr, t.twi, true);
    scatter_lanes(re, out0, valid, limit, bias0, accumulate);
    if (out1) scatter_lanes(im, out1, valid, limit, bias1, accumulate);
  }

  // Sums over the taps [K][n] in registers, s_m[p] = Σ_k coef[m·K + k]·x[k·n + p] for m < M
  // (one fma per tap, in tap order), handed to out(p0, s) per NV vectors of positions
  // (s[m][v]) and to tail(p, s) (s[m] scalars) for the positions past the last of them. The
  // taps are read once for all M sums: they stream from L2 or L3, and one pass per bin left
  // the kernel spectra waiting on memory.
  static constexpr int kSumVectors = Tag::N == 16 ? 2 : 1;
  template <int M, class Out, class Tail>
  static void tap_sums(const float* __restrict x, int64_t K, const float* coef, int64_t n, Out out,
                       Tail tail) {
    using R = typename Tag::reg;
    constexpr int N = Tag::N, NV = kSumVectors;  // M·NV accumulators
    int64_t p0 = 0;
    for (; p0 + NV * N <= n; p0 += NV * N) {
      R acc[M][NV];
#pragma GCC unroll 12
      for (int m = 0; m < M; ++m)
        for (int v = 0; v < NV; ++v) acc[m][v] = Tag::zero();
      for (int64_t k = 0; k < K; ++k) {
        const float* xk = x + k * n + p0;
        R xv[NV];
        for (int v = 0; v < NV; ++v) xv[v] = Tag::load(xk + v * N);
#pragma GCC unroll 12
        for (int m = 0; m < M; ++m) {
          const R c = Tag::set1(coef[m * K + k]);
          for (int v = 0; v < NV; ++v) acc[m][v] = Tag::fma(c, xv[v], acc[m][v]);
        }
      }
      out(p0, acc);
    }
    for (int64_t p = p0; p < n; ++p) {
      float acc[M];
      for (int m = 0; m < M; ++m) {
        acc[m] = 0.f;
        for (int64_t k = 0; k < K; ++k) acc[m] += coef[m * K + k] * x[k * n + p];
      }
      tail(p, acc);
    }
  }

  // NB bins by direct sums, y[m][p] = Σ_k coef[m·K + k]·x[k·n + p], m < 3·NB (the Winograd
  // weight transform uses it too: 6 rows of 3 taps).
  template <int NB>
  static void dft_bins_n(const float* x, int64_t K, const float* coef, float* const* y, int64_t n) {
    constexpr int M = 3 * NB;
    tap_sums<M>(
        x, K, coef, n,
        [&](int64_t p0, const typename Tag::reg(&s)[M][kSumVectors]) {
          for (int m = 0; m < M; ++m)
            for (int v = 0; v < kSumVectors; ++v) Tag::store(y[m] + p0 + v * Tag::N, s[m][v]);
        },
        [&](int64_t p, const float(&s)[M]) {
          for (int m = 0; m < M; ++m) y[m][p] = s[m];
        });
  }
  // NB bins of the kernel spectra in the Gauss trick's three planes from two sums: with
  // r = Σ_k cs[(2b)·K + k]·x[k·n + p] and i = Σ_k cs[(2b + 1)·K + k]·x[k·n + p] (the cosine
  // and sine parts), y[3b] = r, y[3b + 1] = −(r + i), y[3b + 2] = i − r: two thirds of the
  // multiply-adds of three direct sums.
  template <int NB>
  static void gauss_bins_n(const float* x, int64_t K, const float* cs, float* const* y, int64_t n) {
    using R = typename Tag::reg;
    constexpr int M = 2 * NB;
    tap_sums<M>(
        x, K, cs, n,
        [&](int64_t p0, const R(&s)[M][kSumVectors]) {
          for (int b = 0; b < NB; ++b)
            for (int v = 0; v < kSumVectors; ++v) {
              const R r = s[2 * b][v], i = s[2 * b + 1][v];
              float* at[3] = {y[3 * b] + p0 + v * Tag::N, y[3 * b + 1] + p0 + v * Tag::N,
                              y[3 * b + 2] + p0 + v * Tag::N};
              Tag::store(at[0], r);
              Tag::store(at[1], Tag::sub(Tag::zero(), Tag::add(r, i)));
              Tag::store(at[2], Tag::sub(i, r));
            }
        },
        [&](int64_t p, const float(&s)[M]) {
          for (int b = 0; b < NB; ++b) {
            const float r = s[2 * b], i = s[2 * b + 1];
            y[3 * b][p] = r;
            y[3 * b + 1][p] = -(r + i);
            y[3 * b + 2][p] = i - r;
          }
        });
  }
  static void gauss_bins(const float* x, int64_t K, int nb, const float* cs, float* const* y, int64_t n) {
    switch (nb) {
      case 1:
        return gauss_bins_n<1>(x, K, cs, y, n);
      case 2:
        return gauss_bins_n<2>(x, K, cs, y, n);
      case 3:
        return gauss_bins_n<3>(x, K, cs, y, n);
      default:
        return gauss_bins_n<4>(x, K, cs, y, n);
    }
  }
  static void dft_bins(const float* x, int64_t K, int nb, const float* coef, float* const* y, int64_t n) {
    switch (nb) {
      case 1:
        return dft_bins_n<1>(x, K, coef, y, n);
      case 2:
        return dft_bins_n<2>(x, K, coef, y, n);
      case 3:
        return dft_bins_n<3>(x, K, coef, y, n);
      default:
        return dft_bins_n<4>(x, K, coef, y, n);
    }
  }
};

}  // namespace xnai::models::kokoro::simd
