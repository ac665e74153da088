// Fast paths of conv1d / linear on the CPU backend's float matmul (compute/cpu/matmul.h):
// a convolution is a matrix product of the [Cout, Cin·K] weight with im2col columns, built
// here a block of time steps at a time so the columns stay in cache-sized buffers.
#include <algorithm>

#include "compute/cpu/matmul.h"
#include "models/kokoro/kokoro_internal.h"
#include "models/kokoro/parallel.h"

namespace xnai::models::kokoro {
namespace {

ThreadPool& pool_or_serial() {
  thread_local ThreadPool serial(1);  // a one-thread pool spawns nothing
  ThreadPool* p = current_pool();
  return p ? *p : serial;
}

}  // namespace

Mat conv1d_gemm(const Mat& x, const Param& w, const Param* b, int stride, int pad, int dilation) {
  const int64_t cout = w.dim(0), cin = w.dim(1), K = w.dim(2), L = x.cols, KK = cin * K;
  const int64_t lout = std::max<int64_t>((L + 2 * pad - dilation * (K - 1) - 1) / stride + 1, 0);
  Mat y(cout, lout);
  const int64_t block = std::clamp<int64_t>((int64_t{1} << 20) / std::max<int64_t>(KK, 1), 16, 4096);
  // Per-thread buffers reused across calls: fresh multi-megabyte vectors cost more in page
  // faults and zero-filling than the im2col itself.
  thread_local std::vector<float> col, out;
  thread_local std::vector<uint8_t> scratch;
  const size_t rows = static_cast<size_t>(std::min(block, std::max<int64_t>(lout, 1)));
  if (col.size() < rows * KK) col.resize(rows * KK);
  if (out.size() < rows * cout) out.resize(rows * cout);
  ThreadPool& pool = pool_or_serial();
  for (int64_t t0 = 0; t0 < lout; t0 += block) {
    const int64_t m = std::min(block, lout - t0);
    for (int64_t j = 0; j < m; ++j) {
      float* c = col.data() + j * KK;
      const int64_t base = (t0 + j) * stride - pad;
      for (int64_t i = 0; i < cin; ++i) {
        const float* xr = x.row(i);
        for (int64_t k = 0; k < K; ++k) {
          const int64_t at = base + k * dilation;
          c[i * K + k] = at >= 0 && at < L ? xr[at] : 0.f;
        }
      }
    }
    cpu::matmul(pool, DType::F32, w.data.data(), KK, cout, col.data(), m, out.data(), scratch);
    for (int64_t o = 0; o < cout; ++o) {
      float* yr = y.row(o) + t0;
      const float bias = b ? b->data[o] : 0.f;
      for (int64_t j = 0; j < m; ++j) yr[j] = out[j * cout + o] + bias;
    }
  }
  return y;
}

Mat linear_gemm(const Mat& x, const Param& w, const Param* b) {
  const int64_t out = w.dim(0), in = w.dim(1);
  Mat y(x.rows, out);
  thread_local std::vector<uint8_t> scratch;
  cpu::matmul(pool_or_serial(), DType::F32, w.data.data(), in, out, x.v.data(), x.rows, y.v.data(), scratch);
  if (b)
    for (int64_t n = 0; n < x.rows; ++n)
      for (int64_t o = 0; o < out; ++o) y.at(n, o) += b->data[o];
  return y;
}

}  // namespace xnai::models::kokoro

namespace xnai::models::kokoro {

// Transposed conv as one product Z[t_in, (o,k)] = Σ_i w[i,o,k]·x[i,t_in] followed by the
// scatter y[o, t_in·stride + k − pad] += Z; the weight is rearranged to [(o,k), i] rows.
Mat conv_transpose1d_gemm(const Mat& x, const Param& w, const Param* b, int stride, int pad,
                          int output_padding) {
  const int64_t cin = w.dim(0), cout = w.dim(1), K = w.dim(2), L = x.cols;
  const int64_t lout = (L - 1) * stride - 2 * pad + K + output_padding;
  std::vector<float> wt(static_cast<size_t>(cout * K * cin));
  for (int64_t i = 0; i < cin; ++i)
    for (int64_t o = 0; o < cout; ++o)
      for (int64_t k = 0; k < K; ++k) wt[(o * K + k) * cin + i] = w.data[(i * cout + o) * K + k];
  const Mat xt = transpose(x);  // [L, cin]: one token per input time step
  std::vector<float> z(static_cast<size_t>(L * cout * K));
  thread_local std::vector<uint8_t> scratch;
  cpu::matmul(pool_or_serial(), DType::F32, wt.data(), cin, cout * K, xt.v.data(), L, z.data(), scratch);
  Mat y(cout, lout);
  for (int64_t o = 0; o < cout; ++o) {
    float* yr = y.row(o);
    if (b) std::fill(yr, yr + lout, b->data[o]);
    for (int64_t ti = 0; ti < L; ++ti) {
      const float* zr = z.data() + ti * cout * K + o * K;
      for (int64_t k = 0; k < K; ++k) {
        const int64_t t = ti * stride + k - pad;
        if (t >= 0 && t < lout) yr[t] += zr[k];
      }
    }
  }
  return y;
}

}  // namespace xnai::models::kokoro
