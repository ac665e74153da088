// Plain float32 1-d convolutions (cross-correlation, zero padding) in PyTorch's weight
// layouts. Loops run over time innermost so the compiler vectorises them.
#include <algorithm>

#include "core/error.h"
#include "models/kokoro/conv1d_stride1.h"
#include "models/kokoro/conv1d_winograd.h"
#include "models/kokoro/kokoro_internal.h"
#include "models/kokoro/kokoro_simd.h"
#include "models/kokoro/parallel.h"

namespace xnai::models::kokoro {

Mat conv1d(const Mat& x, const Param& w, const Param* b, int stride, int pad, int dilation, int groups) {
  const int64_t cout = w.dim(0), cin_g = w.dim(1), K = w.dim(2);
  // Matrix products pay off once the reduction and the output are not tiny; stride-1 ones
  // run as direct convolutions where the SIMD level has them, down to a few columns (the
  // text encoder on a short sentence: a part-empty tile still beats the plain loops).
  if (groups == 1 && stride == 1 && cin_g == x.rows && cin_g * K >= 32 && cout >= 8 && x.cols >= 4 &&
      simd::has_conv_direct())
    return conv1d_direct_mat(x, w, b, pad, dilation);
  // A weight packed at load that lands on another path (a sequence of 1-3 steps, or the
  // portable level): the plain loops and the GEMM read the original layout.
  if (w.packed_mr) return conv1d(x, unpacked(w), b, stride, pad, dilation, groups);
  if (groups == 1 && cin_g == x.rows && cin_g * K >= 32 && cout >= 16 && x.cols >= 32)
    return conv1d_gemm(x, w, b, stride, pad, dilation);
  return conv1d_plain(x, w, b, stride, pad, dilation, groups);
}

void conv1d_stride1(int64_t cin, int64_t cols, const ConvRowFill& fill, const Param& w, const Param* b,
                    int pad, int dilation, Mat& y, bool accumulate) {
  bool phases = false;
  if (const int64_t n = conv1d_fft_size(cin, w.dim(0), w.dim(2), dilation, y.cols, &phases)) {
    conv1d_fft(cin, cols, fill, w, b, pad, dilation, n, y, accumulate, phases);
    return;
  }
  if (conv1d_winograd_pays(cin, w.dim(0), w.dim(2), y.cols)) {
    conv1d_winograd(cin, cols, fill, w, b, pad, dilation, y, accumulate);
    return;
  }
  // A block of columns at a time into the conv's panels: no padded copy of the input.
  simd::conv1d_direct(
      cin, cols,
      [&](int64_t c0, int64_t c1, float* dst, int64_t ld) {
        for (int64_t i = 0; i < cin; ++i) fill(i, c0, c1 - c0, 1, dst + i * ld);
      },
      w, b, pad, dilation, y, accumulate);
}

Mat conv1d_direct_mat(const Mat& x, const Param& w, const Param* b, int pad, int dilation) {
  const int64_t K = w.dim(2);
  Mat y(w.dim(0), std::max<int64_t>(x.cols + 2 * pad - dilation * (K - 1), 0));
  conv1d_stride1(
      x.rows, x.cols,
      [&](int64_t i, int64_t c, int64_t count, int64_t stride, float* dst) {
        const float* xr = x.row(i) + c;
        for (int64_t m = 0; m < count; ++m) dst[m] = xr[m * stride];
      },
      w, b, pad, dilation, y, false);
  return y;
}

Mat conv1d_plain(const Mat& x, const Param& w, const Param* b, int stride, int pad, int dilation,
                 int groups) {
  const int64_t cout = w.dim(0), cin_g = w.dim(1), K = w.dim(2);
  if (w.packed_mr) throw Error(ErrorKind::Internal, "conv1d_plain: the weight is packed (use conv1d)");
  if (cin_g * groups != x.rows || cout % groups != 0)
    throw Error(ErrorKind::Internal, "conv1d: weight [" + std::to_string(cout) + "," + std::to_string(cin_g) +
                                         "] does not fit an input of " + std::to_string(x.rows) +
                                         " channels");
  const int64_t L = x.cols;
  const int64_t lout = (L + 2 * pad - dilation * (K - 1) - 1) / stride + 1;
  Mat y(cout, std::max<int64_t>(lout, 0));
  const int64_t cout_g = cout / groups;
  parallel_for(cout, double(cout) * cin_g * K * y.cols, [&](int64_t o_begin, int64_t o_end) {
    for (int64_t o = o_begin; o < o_end; ++o) {
      float* yr = y.row(o);
      if (b) std::fill(yr, yr + y.cols, b->data[o]);
      const int64_t g = o / cout_g;
      for (int64_t ii = 0; ii < cin_g; ++ii) {
        const float* xr = x.row(g * cin_g + ii);
        const float* wr = w.data.data() + (o * cin_g + ii) * K;
        for (int64_t k = 0; k < K; ++k) {
          const float wv = wr[k];
          const int64_t off = k * dilation - pad;
          // valid t: 0 <= t*stride + off < L
          int64_t t0 = off >= 0 ? 0 : (-off + stride - 1) / stride;
          int64_t t1 = L - 1 - off < 0 ? -1 : (L - 1 - off) / stride;
          t1 = std::min(t1, y.cols - 1);
          if (stride == 1) {
            const float* xs = xr + off;
            for (int64_t t = t0; t <= t1; ++t) yr[t] += wv * xs[t];
          } else {
            for (int64_t t = t0; t <= t1; ++t) yr[t] += wv * xr[t * stride + off];
          }
        }
      }
    }
  });
  return y;
}

Mat conv_transpose1d(const Mat& x, const Param& w, const Param* b, int stride, int pad, int output_padding,
                     int groups) {
  if (groups == 1 && w.dim(0) == x.rows && w.dim(0) >= 32 && w.dim(1) >= 16 && x.cols >= 16)
    return conv_transpose1d_gemm(x, w, b, stride, pad, output_padding);
  return conv_transpose1d_plain(x, w, b, stride, pad, output_padding, groups);
}

Mat conv_transpose1d_plain(const Mat& x, const Param& w, const Param* b, int stride, int pad,
                           int output_padding, int groups) {
  const int64_t cin = w.dim(0), cout_g = w.dim(1), K = w.dim(2);
  if (cin != x.rows || cin % groups != 0)
    throw Error(ErrorKind::Internal, "conv_transpose1d: weight for " + std::to_string(cin) +
                                         " channels, input has " + std::to_string(x.rows));
  const int64_t L = x.cols, cin_g = cin / groups, cout = cout_g * groups;
  const int64_t lout = (L - 1) * stride - 2 * pad + K + output_padding;
  Mat y(cout, lout);
  // Loop by output channel (parallel-safe); per output element the summation order over
  // input channels and taps is the same as a loop by input channel.
  parallel_for(cout, double(cin_g) * cout * K * L, [&](int64_t o_begin, int64_t o_end) {
    for (int64_t o = o_begin; o < o_end; ++o) {
      float* yr = y.row(o);
      if (b) std::fill(yr, yr + lout, b->data[o]);
      const int64_t g = o / cout_g, oo = o % cout_g;
      for (int64_t ii = 0; ii < cin_g; ++ii) {
        const int64_t i = g * cin_g + ii;
        const float* xr = x.row(i);
        const float* wr = w.data.data() + (i * cout_g + oo) * K;
        for (int64_t k = 0; k < K; ++k) {
          const float wv = wr[k];
          const int64_t off = k - pad;  // t = ti*stride + off
          const int64_t t0 = off >= 0 ? 0 : (-off + stride - 1) / stride;
          const int64_t t1 = std::min(L - 1, lout - 1 - off < 0 ? -1 : (lout - 1 - off) / stride);
          for (int64_t ti = t0; ti <= t1; ++ti) yr[ti * stride + off] += wv * xr[ti];
        }
      }
    }
  });
  return y;
}

}  // namespace xnai::models::kokoro
