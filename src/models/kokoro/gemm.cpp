// Fast paths of conv1d / linear on the CPU backend's float matmul (compute/cpu/matmul.h):
// a convolution is a matrix product of the [Cout, Cin·K] weight with im2col columns, built
// here a block of time steps at a time so the columns stay in cache-sized buffers.
#include <algorithm>

#include "compute/cpu/matmul.h"
#include "core/error.h"
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
  if (w.packed_mr) throw Error(ErrorKind::Internal, "conv1d_gemm: the weight is packed (use conv1d)");
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

// Transposed conv as products Z[t_in, (o,k)] = Σ_i w[i,o,k]·x[i,t_in] followed by the
// scatter y[o, t_in·stride + k − pad] += Z; the weight is rearranged to [(o,k), i] rows.
// Z is computed for a block of input steps at a time (the whole Z of a long utterance is
// twice the output's size); blocks go in time order, so every output sums its terms in
// the same order as one product over all steps would.
Mat conv_transpose1d_gemm(const Mat& x, const Param& w, const Param* b, int stride, int pad,
                          int output_padding) {
  const int64_t cin = w.dim(0), cout = w.dim(1), K = w.dim(2), L = x.cols;
  const int64_t lout = (L - 1) * stride - 2 * pad + K + output_padding;
  // The rearrangement and the scatter below are split by output channel: serial, they held
  // the other threads waiting for milliseconds at each upsampling.
  std::vector<float> wt(static_cast<size_t>(cout * K * cin));
  parallel_for(cout, 16.0 * double(cout) * K * cin, [&](int64_t o0, int64_t o1) {
    for (int64_t i = 0; i < cin; ++i)
      for (int64_t o = o0; o < o1; ++o)
        for (int64_t k = 0; k < K; ++k) wt[(o * K + k) * cin + i] = w.data[(i * cout + o) * K + k];
  });
  // Input steps per product: Z of about 4 MB. Every block has at least `block` steps (the
  // last one takes the remainder), so none falls to matmul's few-column path.
  const int64_t block = std::max<int64_t>((int64_t{1} << 20) / std::max<int64_t>(cout * K, 1), 16);
  const int64_t nblocks = std::max<int64_t>(L / block, 1);
  thread_local std::vector<uint8_t> scratch;
  std::vector<float> xt, z;
  Mat y(cout, lout);
  if (b)
    for (int64_t o = 0; o < cout; ++o) std::fill(y.row(o), y.row(o) + lout, b->data[o]);
  for (int64_t n = 0; n < nblocks; ++n) {
    const int64_t t0 = n * block, t1 = n + 1 == nblocks ? L : t0 + block, m = t1 - t0;
    xt.resize(static_cast<size_t>(m * cin));  // [m, cin]: one token per input time step
    parallel_for(m, 16.0 * double(m) * cin, [&](int64_t j0, int64_t j1) {
      for (int64_t i = 0; i < cin; ++i)
        for (int64_t j = j0; j < j1; ++j) xt[j * cin + i] = x.at(i, t0 + j);
    });
    z.resize(static_cast<size_t>(m * cout * K));
    cpu::matmul(pool_or_serial(), DType::F32, wt.data(), cin, cout * K, xt.data(), m, z.data(), scratch);
    parallel_for(cout, 16.0 * double(cout) * m * K, [&](int64_t o0, int64_t o1) {
      for (int64_t o = o0; o < o1; ++o) {
        float* yr = y.row(o);
        for (int64_t ti = t0; ti < t1; ++ti) {
          const float* zr = z.data() + (ti - t0) * cout * K + o * K;
          for (int64_t k = 0; k < K; ++k) {
            const int64_t t = ti * stride + k - pad;
            if (t >= 0 && t < lout) yr[t] += zr[k];
          }
        }
      }
    });
  }
  return y;
}

}  // namespace xnai::models::kokoro
