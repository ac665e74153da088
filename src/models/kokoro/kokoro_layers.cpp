// The small building blocks shared by the Kokoro stages: linear, norms, AdaIN and the two
// residual blocks of StyleTTS2 / iSTFTNet (spec §2.8–2.10).
#include <cmath>

#include "core/error.h"
#include "models/kokoro/conv1d_stride1.h"
#include "models/kokoro/kokoro_internal.h"
#include "models/kokoro/kokoro_simd.h"
#include "models/kokoro/parallel.h"

namespace xnai::models::kokoro {

const Param* Weights::find(const std::string& name) const {
  auto it = params.find(name);
  return it == params.end() ? nullptr : &it->second;
}

const Param& Weights::get(const std::string& name) const {
  if (const Param* p = find(name)) return *p;
  throw Error(ErrorKind::NotFound, source + ": Kokoro checkpoint has no tensor module." + name);
}

Mat linear(const Mat& x, const Param& w, const Param* b) {
  const int64_t out = w.dim(0), in = w.dim(1);
  if (in != x.cols)
    throw Error(ErrorKind::Internal,
                "linear: input width " + std::to_string(x.cols) + " vs weight " + std::to_string(in));
  if (x.rows >= 4 && out >= 16 && in >= 32) {
    if (simd::has_conv_direct()) return linear_direct(x, w, b);
    if (!w.packed_mr) return linear_gemm(x, w, b);
  }
  // A weight packed at load on another path (one or two rows, the portable level).
  if (w.packed_mr) return linear(x, unpacked(w), b);
  return linear_plain(x, w, b);
}

// A linear layer is a kernel-1 convolution over the rows: the direct conv's tile kernel
// (and its split over output channels, which keeps both cores busy on a few dozen tokens)
// beats the general float matmul on these [tokens, 512..2048] shapes. The input is
// transposed once into the conv's padded layout, which every work item reads in place
// (a panel per item copied the whole input once per block of output channels).
Mat linear_direct(const Mat& x, const Param& w, const Param* b) {
  // [in, rows], reused (ALBERT calls this 72 times). A reference, so that the pool's
  // threads below see this thread's buffer, not their own thread_local one.
  thread_local simd::PaddedInput t_xt;
  simd::PaddedInput& xt = t_xt;
  simd::reset_padded_input(xt, x.cols, x.rows, 0, 1, 1);
  parallel_for(x.cols, 16.0 * double(x.cols) * x.rows, [&](int64_t i0, int64_t i1) {
    for (int64_t t = 0; t < x.rows; ++t) {
      const float* xr = x.row(t);
      for (int64_t i = i0; i < i1; ++i) xt.row(i)[t] = xr[i];
    }
  });
  Mat yt(w.dim(0), x.rows);  // [out, rows]
  simd::conv1d_direct(xt, w, b, 0, 1, yt, false);
  return transpose(yt);
}

Mat linear_plain(const Mat& x, const Param& w, const Param* b) {
  const int64_t out = w.dim(0), in = w.dim(1);
  if (w.packed_mr) throw Error(ErrorKind::Internal, "linear_plain: the weight is packed (use linear)");
  Mat y(x.rows, out);
  parallel_for(out, double(out) * in * x.rows, [&](int64_t o_begin, int64_t o_end) {
    for (int64_t n = 0; n < x.rows; ++n) {
      const float* xr = x.row(n);
      float* yr = y.row(n);
      for (int64_t o = o_begin; o < o_end; ++o) {
        const float* wr = w.data.data() + o * in;
        float acc = 0.f;
        for (int64_t i = 0; i < in; ++i) acc += xr[i] * wr[i];
        yr[o] = acc + (b ? b->data[o] : 0.f);
      }
    }
  });
  return y;
}

std::vector<float> linear_vec(std::span<const float> x, const Param& w, const Param& b) {
  Mat m(1, static_cast<int64_t>(x.size()));
  std::copy(x.begin(), x.end(), m.v.begin());
  return linear(m, w, &b).v;
}

void leaky_relu(Mat& x, float slope) {
  for_each_span(x.v.data(), static_cast<int64_t>(x.v.size()), [slope](float* p, int64_t n) {
    for (int64_t i = 0; i < n; ++i) p[i] = p[i] >= 0.f ? p[i] : p[i] * slope;
  });
}

void layer_norm_rows(Mat& x, const float* gamma, const float* beta, float eps) {
  for (int64_t n = 0; n < x.rows; ++n) {
    float* r = x.row(n);
    double mean = 0, var = 0;
    for (int64_t c = 0; c < x.cols; ++c) mean += r[c];
    mean /= static_cast<double>(x.cols);
    for (int64_t c = 0; c < x.cols; ++c) var += (r[c] - mean) * (r[c] - mean);
    var /= static_cast<double>(x.cols);
    const double inv = 1.0 / std::sqrt(var + eps);
    for (int64_t c = 0; c < x.cols; ++c) {
      float v = static_cast<float>((r[c] - mean) * inv);
      if (gamma) v = v * gamma[c] + beta[c];
      r[c] = v;
    }
  }
}

Mat transpose(const Mat& x) {
  Mat y(x.cols, x.rows);
  // Split by output row: a serial transpose of a [2048, tokens] product held the pool.
  parallel_for(x.cols, 16.0 * double(x.cols) * x.rows, [&](int64_t c0, int64_t c1) {
    for (int64_t r = 0; r < x.rows; ++r)
      for (int64_t c = c0; c < c1; ++c) y.at(c, r) = x.at(r, c);
  });
  return y;
}

Mat adain1d(const Mat& x, std::span<const float> s, const Weights& w, const std::string& prefix) {
  const std::vector<float> h = linear_vec(s, w.get(prefix + ".fc.weight"), w.get(prefix + ".fc.bias"));
  const int64_t C = x.rows;
  if (static_cast<int64_t>(h.size()) != 2 * C)
    throw Error(ErrorKind::InvalidFormat, w.source + ": " + prefix + ".fc gives " + std::to_string(h.size()) +
                                              " values for " + std::to_string(C) + " channels");
  // InstanceNorm1d(affine=True) params are absent in the real file: identity (spec §5.4).
  const Param* nw = w.find(prefix + ".norm.weight");
  const Param* nb = w.find(prefix + ".norm.bias");
  Mat y(C, x.cols);
  // Channels are independent: split over the pool (a serial pass here held the other
  // thread waiting at every decoder and F0/N block).
  parallel_for(C, double(C) * x.cols * 8, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const float* r = x.row(c);
      double mean = 0, var = 0;
      for (int64_t t = 0; t < x.cols; ++t) mean += r[t];
      mean /= static_cast<double>(x.cols);
      for (int64_t t = 0; t < x.cols; ++t) var += (r[t] - mean) * (r[t] - mean);
      var /= static_cast<double>(x.cols);
      const double inv = 1.0 / std::sqrt(var + 1e-5);
      const float gamma = 1.f + h[c], beta = h[C + c];
      const float aw = nw ? nw->data[c] : 1.f, ab = nb ? nb->data[c] : 0.f;
      float* o = y.row(c);
      for (int64_t t = 0; t < x.cols; ++t) {
        const float xn = static_cast<float>((r[t] - mean) * inv) * aw + ab;
        o[t] = gamma * xn + beta;
      }
    }
  });
  return y;
}

Mat adain_res_blk1d(const Mat& x, std::span<const float> s, const Weights& w, const std::string& p,
                    bool upsample) {
  Mat h = adain1d(x, s, w, p + ".norm1");
  leaky_relu(h, 0.2f);
  if (upsample) {
    const Param& pw = w.get(p + ".pool.weight");
    h = conv_transpose1d(h, pw, w.find(p + ".pool.bias"), 2, 1, 1, static_cast<int>(h.rows));
  }
  h = conv1d(h, w.get(p + ".conv1.weight"), w.find(p + ".conv1.bias"), 1, 1, 1);
  h = adain1d(h, s, w, p + ".norm2");
  leaky_relu(h, 0.2f);
  h = conv1d(h, w.get(p + ".conv2.weight"), w.find(p + ".conv2.bias"), 1, 1, 1);

  Mat sc;
  if (upsample) {
    sc = Mat(x.rows, x.cols * 2);
    parallel_for(x.rows, double(x.rows) * x.cols * 4, [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c)
        for (int64_t t = 0; t < x.cols; ++t) sc.at(c, 2 * t) = sc.at(c, 2 * t + 1) = x.at(c, t);
    });
  }
  const Mat* sp = upsample ? &sc : &x;  // x itself when neither upsampled nor projected
  if (const Param* sw = w.find(p + ".conv1x1.weight")) {
    sc = conv1d(*sp, *sw, nullptr, 1, 0, 1);
    sp = &sc;
  }
  const Mat& shortcut = *sp;
  if (shortcut.rows != h.rows || shortcut.cols != h.cols)
    throw Error(ErrorKind::InvalidFormat, w.source + ": block " + p + " shortcut and residual shapes differ");
  const float k = 1.f / std::sqrt(2.f);
  const float* sv = shortcut.v.data();
  const float* hbase = h.v.data();
  for_each_span(h.v.data(), static_cast<int64_t>(h.v.size()), [&](float* q, int64_t n) {
    const float* s2 = sv + (q - hbase);
    for (int64_t i = 0; i < n; ++i) q[i] = (q[i] + s2[i]) * k;
  });
  return h;
}

namespace {

// AdaIN (instance norm over time, style affine) then Snake, per channel c:
// y = v + sin(alpha·v)² / alpha with v = (x − mean[c])·scale[c] + shift[c].
struct AdainSnake {
  std::vector<float> mean, scale, shift, alpha;
};

// The statistics pass over x (one parallel pass per channel); the values themselves are
// computed later, a panel at a time, by the conv that reads them.
AdainSnake adain_snake_params(const Mat& x, std::span<const float> s, const Weights& w,
                              const std::string& prefix, const Param& alpha) {
  const std::vector<float> h = linear_vec(s, w.get(prefix + ".fc.weight"), w.get(prefix + ".fc.bias"));
  const int64_t C = x.rows, L = x.cols;
  if (static_cast<int64_t>(h.size()) != 2 * C)
    throw Error(ErrorKind::InvalidFormat, w.source + ": " + prefix + ".fc gives " + std::to_string(h.size()) +
                                              " values for " + std::to_string(C) + " channels");
  const Param* nw = w.find(prefix + ".norm.weight");
  const Param* nb = w.find(prefix + ".norm.bias");
  AdainSnake a;
  a.mean.resize(C);
  a.scale.resize(C);
  a.shift.resize(C);
  a.alpha.assign(alpha.data.begin(), alpha.data.begin() + C);
  parallel_for(C, double(C) * L * 4, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const float* r = x.row(c);
      // Double sums in 8 lanes (the compiler vectorises them), combined at the end.
      double m8[8] = {}, v8[8] = {};
      const int64_t L8 = L / 8 * 8;
      for (int64_t t = 0; t < L8; t += 8)
        for (int l = 0; l < 8; ++l) m8[l] += r[t + l];
      double mean = 0, var = 0;
      for (int l = 0; l < 8; ++l) mean += m8[l];
      for (int64_t t = L8; t < L; ++t) mean += r[t];
      mean /= static_cast<double>(L);
      for (int64_t t = 0; t < L8; t += 8)
        for (int l = 0; l < 8; ++l) v8[l] += (r[t + l] - mean) * (r[t + l] - mean);
      for (int l = 0; l < 8; ++l) var += v8[l];
      for (int64_t t = L8; t < L; ++t) var += (r[t] - mean) * (r[t] - mean);
      var /= static_cast<double>(L);
      const double inv = 1.0 / std::sqrt(var + 1e-5);
      const double gamma = 1.0 + h[c], beta = h[C + c];
      const double aw = nw ? nw->data[c] : 1.0, ab = nb ? nb->data[c] : 0.0;
      a.mean[c] = static_cast<float>(mean);
      a.scale[c] = static_cast<float>(gamma * inv * aw);
      a.shift[c] = static_cast<float>(gamma * ab + beta);
    }
  });
  return a;
}

// A conv whose input is AdaIN + Snake of x, computed as the conv reads it (whatever
// conv1d_stride1 runs it as).
void conv_of_adain_snake(const Mat& x, const AdainSnake& a, const Param& w, const Param* b, int pad,
                         int dilation, Mat& y, bool accumulate) {
  conv1d_stride1(
      x.rows, x.cols,
      [&](int64_t i, int64_t c, int64_t count, int64_t stride, float* dst) {
        const float* xr = x.row(i) + c;
        if (stride != 1) {  // every d-th sample (a dilated conv by phases): gathered, then in place
          for (int64_t m = 0; m < count; ++m) dst[m] = xr[m * stride];
          xr = dst;
        }
        simd::affine_snake(xr, dst, count, a.mean[i], a.scale[i], a.shift[i], a.alpha[i]);
      },
      w, b, pad, dilation, y, accumulate);
}

}  // namespace

Mat adain_res_block1(Mat x, std::span<const float> s, const Weights& w, const std::string& p, int kernel,
                     const std::vector<int64_t>& dilations, Mat* scratch) {
  if (!simd::has_conv_direct()) return adain_res_block1_plain(std::move(x), s, w, p, kernel, dilations);
  // Fused path: AdaIN + Snake computed into each conv's input panels (no whole-sequence
  // copy of either conv input), the second conv accumulating into x (the residual add).
  // Only the first conv's output t is held whole: the second AdaIN needs its statistics.
  const int64_t C = x.rows, L = x.cols;
  Mat local;
  Mat& t = scratch ? *scratch : local;
  t.rows = C;
  t.cols = L;
  t.v.resize(static_cast<size_t>(C * L));  // fully overwritten by the conv
  for (size_t j = 0; j < dilations.size(); ++j) {
    const std::string js = std::to_string(j);
    const int d = static_cast<int>(dilations[j]);
    const int pad1 = d * (kernel - 1) / 2, pad2 = (kernel - 1) / 2;
    const Param& w1 = w.get(p + ".convs1." + js + ".weight");
    const Param& w2 = w.get(p + ".convs2." + js + ".weight");
    if (w1.dim(0) != C || w1.dim(1) != C || w2.dim(0) != C || w2.dim(1) != C || w1.dim(2) != kernel ||
        w2.dim(2) != kernel)
      throw Error(ErrorKind::InvalidFormat,
                  w.source + ": block " + p + " conv shapes do not match its input");
    const AdainSnake a1 = adain_snake_params(x, s, w, p + ".adain1." + js, w.get(p + ".alpha1." + js));
    conv_of_adain_snake(x, a1, w1, w.find(p + ".convs1." + js + ".bias"), pad1, d, t, false);
    const AdainSnake a2 = adain_snake_params(t, s, w, p + ".adain2." + js, w.get(p + ".alpha2." + js));
    conv_of_adain_snake(t, a2, w2, w.find(p + ".convs2." + js + ".bias"), pad2, 1, x, true);
  }
  return x;
}

Mat adain_res_block1_plain(Mat x, std::span<const float> s, const Weights& w, const std::string& p,
                           int kernel, const std::vector<int64_t>& dilations) {
  auto snake = [](Mat& t, const Param& alpha) {
    for (int64_t c = 0; c < t.rows; ++c) {
      const float a = alpha.data[c], inv = 1.f / a;
      float* r = t.row(c);
      for (int64_t i = 0; i < t.cols; ++i) {
        const float sn = std::sin(a * r[i]);
        r[i] = r[i] + inv * (sn * sn);
      }
    }
  };
  for (size_t j = 0; j < dilations.size(); ++j) {
    const std::string js = std::to_string(j);
    const int d = static_cast<int>(dilations[j]);
    Mat t = adain1d(x, s, w, p + ".adain1." + js);
    snake(t, w.get(p + ".alpha1." + js));
    t = conv1d(t, w.get(p + ".convs1." + js + ".weight"), w.find(p + ".convs1." + js + ".bias"), 1,
               d * (kernel - 1) / 2, d);
    t = adain1d(t, s, w, p + ".adain2." + js);
    snake(t, w.get(p + ".alpha2." + js));
    t = conv1d(t, w.get(p + ".convs2." + js + ".weight"), w.find(p + ".convs2." + js + ".bias"), 1,
               (kernel - 1) / 2, 1);
    for (size_t i = 0; i < x.v.size(); ++i) x.v[i] += t.v[i];
  }
  return x;
}

}  // namespace xnai::models::kokoro
