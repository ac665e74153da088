// Every op of the CPU backend against a plain float64 reference on random inputs of awkward
// sizes (odd lengths, GQA ratios, partial rope, positions that do not start at 0). Where
// the backend rounds on purpose as ggml does (F16 cache, F16 activations, quantized
// activations, the GELU table), the reference applies the same rounding to its inputs and
// then computes in double, so the tolerances stay tight.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "compute/backend.h"
#include "compute/cpu/cpu_vec.h"
#include "compute/cpu/quant.h"
#include "core/error.h"
#include "core/fp16.h"

namespace xnai::compute {
namespace {

std::vector<float> randn(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

float r16(float x) { return fp16_to_f32(f32_to_fp16(x)); }

// A backend tensor holding a copy of `v`.
Tensor make(Backend& be, DType type, std::array<int64_t, 4> ne, const std::vector<float>* v = nullptr,
            const char* name = "t") {
  Tensor t = be.alloc(type, ne, name);
  if (v) {
    if (type == DType::F32) {
      be.upload(t, v->data(), v->size() * sizeof(float));
    } else {
      std::vector<uint8_t> bytes(t.nbytes());
      cpu::kernels(type).from_float(v->data(), bytes.data(), static_cast<int64_t>(v->size()));
      be.upload(t, bytes.data(), bytes.size());
    }
  }
  return t;
}

std::vector<float> read(Backend& be, const Tensor& t) {
  std::vector<float> out(static_cast<size_t>(t.nelements()));
  be.download(t, out.data(), out.size() * sizeof(float));
  return out;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<double>& b) {
  EXPECT_EQ(a.size(), b.size());
  double m = 0.0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i)
    m = std::max(m, std::abs(static_cast<double>(a[i]) - b[i]));
  return m;
}

class BackendOps : public ::testing::TestWithParam<int> {  // param: thread count
 protected:
  void SetUp() override { be_ = make_cpu_backend({GetParam()}); }
  Backend& be() { return *be_; }
  std::unique_ptr<Backend> be_;
};

TEST_P(BackendOps, RmsNormRowsAndPerHead) {
  // Plain rows of 67, and per-head rows of 20 inside columns of 3 heads.
  for (auto [n, rows] : {std::pair<int64_t, int64_t>{67, 5}, {20, 3 * 7}}) {
    auto x = randn(static_cast<size_t>(n * rows), 1, 2.0f);
    auto w = randn(static_cast<size_t>(n), 2);
    Tensor tx = make(be(), DType::F32, {n, rows, 1, 1}, &x);
    if (n == 20) tx.ne = {60, 7, 1, 1};  // the op sees rows of w.ne[0] values
    Tensor tw = make(be(), DType::F32, {n, 1, 1, 1}, &w);
    Tensor out = make(be(), DType::F32, tx.ne);
    be().rms_norm(tx, tw, 1e-5f, out);
    std::vector<double> ref(x.size());
    for (int64_t r = 0; r < rows; ++r) {
      double ss = 0;
      for (int64_t i = 0; i < n; ++i) ss += double(x[r * n + i]) * x[r * n + i];
      const double s = 1.0 / std::sqrt(ss / n + 1e-5);
      for (int64_t i = 0; i < n; ++i) ref[r * n + i] = x[r * n + i] * s * w[i];
    }
    EXPECT_LT(max_abs_diff(read(be(), out), ref), 1e-5) << "n=" << n;
  }
}

TEST_P(BackendOps, LayerNormWithAndWithoutBias) {
  const int64_t n = 129, rows = 3;
  auto x = randn(n * rows, 3, 1.5f);
  for (auto& v : x) v += 0.7f;
  auto w = randn(n, 4), b = randn(n, 5);
  Tensor tx = make(be(), DType::F32, {n, rows, 1, 1}, &x), tw = make(be(), DType::F32, {n, 1, 1, 1}, &w);
  Tensor tb = make(be(), DType::F32, {n, 1, 1, 1}, &b), out = make(be(), DType::F32, {n, rows, 1, 1});
  for (bool with_bias : {true, false}) {
    be().layer_norm(tx, tw, with_bias ? tb : Tensor{}, 1e-12f, out);
    std::vector<double> ref(x.size());
    for (int64_t r = 0; r < rows; ++r) {
      double mean = 0, var = 0;
      for (int64_t i = 0; i < n; ++i) mean += x[r * n + i];
      mean /= n;
      for (int64_t i = 0; i < n; ++i) var += (x[r * n + i] - mean) * (x[r * n + i] - mean);
      var /= n;
      for (int64_t i = 0; i < n; ++i)
        ref[r * n + i] = (x[r * n + i] - mean) / std::sqrt(var + 1e-12) * w[i] + (with_bias ? b[i] : 0.0);
    }
    EXPECT_LT(max_abs_diff(read(be(), out), ref), 2e-5) << "bias=" << with_bias;
  }
}

TEST_P(BackendOps, AddSameShapeBroadcastAndInPlace) {
  const int64_t n = 37, rows = 11;
  auto a = randn(n * rows, 6), b = randn(n * rows, 7), bias = randn(n, 8);
  Tensor ta = make(be(), DType::F32, {n, rows, 1, 1}, &a), tb = make(be(), DType::F32, {n, rows, 1, 1}, &b);
  Tensor tbias = make(be(), DType::F32, {n, 1, 1, 1}, &bias), out = make(be(), DType::F32, {n, rows, 1, 1});
  be().add(ta, tb, out);
  std::vector<double> ref(a.size());
  for (size_t i = 0; i < a.size(); ++i) ref[i] = a[i] + b[i];  // one float rounding
  EXPECT_EQ(max_abs_diff(read(be(), out), ref), 0.0);
  be().add(ta, tbias, ta);  // out aliases a, as the contract allows
  for (size_t i = 0; i < a.size(); ++i) ref[i] = a[i] + bias[i % n];
  EXPECT_EQ(max_abs_diff(read(be(), ta), ref), 0.0);
}

TEST_P(BackendOps, SiluMulLargeAndSmall) {
  for (int64_t n : {int64_t{13}, int64_t{70001}}) {  // below and above the parallel threshold
    auto g = randn(n, 9, 3.0f), u = randn(n, 10);
    Tensor tg = make(be(), DType::F32, {n, 1, 1, 1}, &g), tu = make(be(), DType::F32, {n, 1, 1, 1}, &u);
    Tensor out = make(be(), DType::F32, {n, 1, 1, 1});
    be().silu_mul(tg, tu, out);
    std::vector<double> ref(g.size());
    for (size_t i = 0; i < g.size(); ++i) ref[i] = g[i] / (1.0 + std::exp(-double(g[i]))) * u[i];
    EXPECT_LT(max_abs_diff(read(be(), out), ref), 5e-6) << "n=" << n;
  }
}

TEST_P(BackendOps, GeluMatchesTanhFormulaAndGgmlTable) {
  const int64_t n = 1001;
  auto x = randn(n, 11, 4.0f);
  x[0] = -12.0f;
  x[1] = 11.0f;
  x[2] = 0.0f;
  Tensor tx = make(be(), DType::F32, {n, 1, 1, 1}, &x), out = make(be(), DType::F32, {n, 1, 1, 1});
  be().gelu(tx, out);
  const auto y = read(be(), out);
  constexpr double kS = 0.79788456080286535587989211986876;
  for (int64_t i = 0; i < n; ++i) {
    const double v = x[i];
    const double exact = 0.5 * v * (1.0 + std::tanh(kS * v * (1.0 + 0.044715 * v * v)));
    // The F16 table rounds the input and the output: half-precision accuracy.
    EXPECT_NEAR(y[i], exact, 2e-3 * std::abs(exact) + 2e-3) << "x=" << v;
    if (v > -10 && v < 10) {  // exactly ggml's table lookup
      const double xr = r16(x[i]);
      const float t = static_cast<float>(0.5 * xr * (1.0 + std::tanh(kS * xr * (1.0 + 0.044715 * xr * xr))));
      EXPECT_NEAR(y[i], r16(t), std::abs(r16(t)) * 2e-3 + 1e-6) << "x=" << v << " xr=" << xr;
    }
  }
  EXPECT_EQ(y[0], 0.0f);
  EXPECT_EQ(y[1], 11.0f);
  be().gelu(tx, tx);  // in place
  EXPECT_EQ(read(be(), tx), y);
}

// Double-precision rope reference with the same parameters.
std::vector<double> rope_ref(const std::vector<float>& x, int64_t hd, int64_t n_head,
                             const std::vector<int32_t>& pos, const RopeParams& p,
                             const std::vector<float>* ff) {
  std::vector<double> y(x.begin(), x.end());
  const double pi = 3.14159265358979323846;
  auto corr = [&](double beta) {
    return p.n_dims * std::log(p.n_ctx_orig / (beta * 2 * pi)) / (2 * std::log(p.freq_base));
  };
  const double lo = std::max(0.0, std::floor(corr(p.beta_fast)));
  const double hi = std::min(double(p.n_dims - 1), std::ceil(corr(p.beta_slow)));
  for (size_t t = 0; t < pos.size(); ++t)
    for (int64_t h = 0; h < n_head; ++h) {
      const size_t base = (t * n_head + h) * hd;
      for (int64_t i = 0; i < p.n_dims / 2; ++i) {
        const double extrap =
            pos[t] * std::pow(double(p.freq_base), -2.0 * i / p.n_dims) / (ff ? (*ff)[i] : 1.0);
        const double interp = p.freq_scale * extrap;
        double theta = interp, mscale = p.attn_factor;
        if (p.ext_factor != 0) {
          const double ramp = 1 - std::min(1.0, std::max(0.0, (i - lo) / std::max(0.001, hi - lo)));
          const double mix = ramp * p.ext_factor;
          theta = interp * (1 - mix) + extrap * mix;
          mscale *= 1 + 0.1 * std::log(1 / double(p.freq_scale));
        }
        const size_t a = p.mode == RopeMode::Normal ? base + 2 * i : base + i;
        const size_t b = p.mode == RopeMode::Normal ? a + 1 : a + p.n_dims / 2;
        const double x0 = x[a], x1 = x[b];
        y[a] = (x0 * std::cos(theta) - x1 * std::sin(theta)) * mscale;
        y[b] = (x0 * std::sin(theta) + x1 * std::cos(theta)) * mscale;
      }
    }
  return y;
}

TEST_P(BackendOps, RopeModesScalingYarnAndFreqFactors) {
  const int64_t hd = 24, n_head = 3, n_tok = 5;
  const std::vector<int32_t> pos = {0, 7, 8, 31, 60};
  auto x = randn(hd * n_head * n_tok, 12);
  auto ff = randn(hd / 2, 13, 0.3f);
  for (auto& f : ff) f = 1.0f + std::abs(f);
  Tensor tpos = be().alloc(DType::I32, {n_tok, 1, 1, 1}, "pos");
  be().upload(tpos, pos.data(), pos.size() * 4);
  Tensor tff = make(be(), DType::F32, {hd / 2, 1, 1, 1}, &ff);
  struct Case {
    RopeMode mode;
    int n_dims;
    float freq_scale, ext_factor, attn_factor;
    bool factors;
  };
  for (const Case& c :
       {Case{RopeMode::Normal, 24, 1.0f, 0.0f, 1.0f, false},
        Case{RopeMode::Neox, 24, 1.0f, 0.0f, 1.0f, false},
        Case{RopeMode::Neox, 16, 1.0f, 0.0f, 1.0f, false},      // partial: dims 16..23 pass through
        Case{RopeMode::Normal, 24, 0.25f, 0.0f, 1.0f, false},   // linear scaling
        Case{RopeMode::Neox, 24, 0.25f, 1.0f, 1.0f, false},     // YaRN
        Case{RopeMode::Normal, 24, 0.5f, 1.0f, 0.9f, true}}) {  // YaRN + factors
    RopeParams p;
    p.n_dims = c.n_dims;
    p.mode = c.mode;
    p.freq_base = 10000.0f;
    p.freq_scale = c.freq_scale;
    p.n_ctx_orig = 64;
    p.ext_factor = c.ext_factor;
    p.attn_factor = c.attn_factor;
    p.freq_factors = c.factors ? &tff : nullptr;
    Tensor tx = make(be(), DType::F32, {hd, n_head, n_tok, 1}, &x), out = make(be(), DType::F32, tx.ne);
    be().rope(tx, tpos, p, out);
    const auto ref = rope_ref(x, hd, n_head, pos, p, c.factors ? &ff : nullptr);
    // Angles are built in float as ggml does: error grows with the position.
    EXPECT_LT(max_abs_diff(read(be(), out), ref), 2e-4) << "mode " << int(c.mode) << " dims " << c.n_dims;
    be().rope(tx, tpos, p, tx);  // in place gives the same
    EXPECT_EQ(read(be(), tx), read(be(), out));
  }
}

// The rotation's rounding, bit for bit: ggml's build fuses the first product of each
// rotated value (fma(x0, c, -x1·s), fma(x0, s, x1·c)) with float cos/sin of angles built by
// repeated float multiplication. The unfused form differs by an ulp in many values, which
// flipped F16 roundings of q/k and moved quantized-model logits by ~0.1 (conformance tier).
TEST_P(BackendOps, RopeRotationRoundsAsGgml) {
  const int64_t hd = 64, n_head = 2, n_tok = 6;
  const std::vector<int32_t> pos = {0, 1, 5, 17, 33, 90};
  auto x = randn(hd * n_head * n_tok, 21);
  Tensor tpos = be().alloc(DType::I32, {n_tok, 1, 1, 1}, "pos");
  be().upload(tpos, pos.data(), pos.size() * 4);
  RopeParams p;
  p.n_dims = static_cast<int>(hd);
  p.mode = RopeMode::Normal;
  p.freq_base = 10000.0f;
  Tensor tx = make(be(), DType::F32, {hd, n_head, n_tok, 1}, &x), out = make(be(), DType::F32, tx.ne);
  be().rope(tx, tpos, p, out);
  const auto y = read(be(), out);
  int unfused_differs = 0;
  for (int64_t t = 0; t < n_tok; ++t) {
    const float theta_scale = std::pow(10000.0f, -2.0f / static_cast<float>(hd));
    float theta = static_cast<float>(pos[static_cast<size_t>(t)]);
    for (int64_t i = 0; i < hd; i += 2, theta *= theta_scale) {
      const float c = std::cos(theta), sn = std::sin(theta);
      for (int64_t h = 0; h < n_head; ++h) {
        const size_t a = static_cast<size_t>((t * n_head + h) * hd + i);
        const float x0 = x[a], x1 = x[a + 1];
        const float p0 = x1 * sn, p1 = x1 * c, q0 = x0 * c, q1 = x0 * sn;
        EXPECT_EQ(y[a], std::fma(x0, c, -p0)) << "token " << t << " head " << h << " dim " << i;
        EXPECT_EQ(y[a + 1], std::fma(x0, sn, p1)) << "token " << t << " head " << h << " dim " << i + 1;
        unfused_differs += (q0 - p0 != y[a]) + (q1 + p1 != y[a + 1]);
      }
    }
  }
  EXPECT_GT(unfused_differs, 0) << "inputs do not tell the fused rotation from the unfused one";
}

TEST_P(BackendOps, CopyRowsIntoF32AndF16Caches) {
  const int64_t ne0 = 44, n = 3, rows = 10;
  auto src = randn(ne0 * n, 14, 3.0f);
  Tensor ts = make(be(), DType::F32, {ne0, n, 1, 1}, &src);
  for (DType t : {DType::F32, DType::F16}) {
    Tensor dst = be().alloc(t, {ne0, rows, 1, 1}, "cache");
    be().copy_rows(ts, dst, 6);
    std::vector<uint8_t> bytes(dst.nbytes());
    be().download(dst, bytes.data(), bytes.size());
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = 0; i < ne0; ++i) {
        const float want = (r >= 6 && r < 6 + n) ? src[(r - 6) * ne0 + i] : 0.0f;
        const int64_t k = r * ne0 + i;
        if (t == DType::F32) {
          float got;
          std::memcpy(&got, bytes.data() + 4 * k, 4);
          EXPECT_EQ(got, want);
        } else {
          uint16_t got;
          std::memcpy(&got, bytes.data() + 2 * k, 2);
          EXPECT_EQ(got, f32_to_fp16(want));
        }
      }
    EXPECT_THROW(be().copy_rows(ts, dst, 8), Error);  // rows 8..10 overflow the 10-row cache
  }
}

// Reference attention in double. With an F16 cache it applies ggml's two roundings (Q and the
// probabilities to F16) to otherwise exact math.
std::vector<double> attention_ref(const std::vector<float>& q, const std::vector<float>& k,
                                  const std::vector<float>& v, int64_t hd, int64_t n_head, int64_t n_head_kv,
                                  int64_t n_tok, const AttentionParams& p, bool f16) {
  std::vector<double> out(hd * n_head * n_tok, 0.0);
  const int64_t kv_row = hd * n_head_kv;
  for (int64_t t = 0; t < n_tok; ++t)
    for (int64_t h = 0; h < n_head; ++h) {
      const int64_t g = h / (n_head / n_head_kv);
      const int64_t n_vis = p.causal ? std::min(p.n_kv, p.pos0 + t + 1) : p.n_kv;
      std::vector<double> s(n_vis);
      double mx = -1e300;
      for (int64_t j = 0; j < n_vis; ++j) {
        double d = 0;
        for (int64_t i = 0; i < hd; ++i) {
          const float qi = q[(t * n_head + h) * hd + i];
          const float ki = k[j * kv_row + g * hd + i];
          d += double(f16 ? r16(qi) : qi) * (f16 ? r16(ki) : ki);
        }
        s[j] = d * p.scale;
        mx = std::max(mx, s[j]);
      }
      double sum = 0;
      for (auto& e : s) sum += (e = std::exp(e - mx));
      for (int64_t j = 0; j < n_vis; ++j) {
        const double pj = f16 ? r16(float(s[j] / sum)) : s[j] / sum;
        for (int64_t i = 0; i < hd; ++i) {
          const float vi = v[j * kv_row + g * hd + i];
          out[t * hd * n_head + h * hd + i] += pj * (f16 ? r16(vi) : vi);
        }
      }
    }
  return out;
}

TEST_P(BackendOps, AttentionGqaCausalAndFull) {
  struct Case {
    int64_t hd, n_head, n_head_kv, n_tok, n_kv;
    bool causal;
  };
  for (cpu::SimdLevel level : {cpu::detected_simd_level(), cpu::SimdLevel::Portable}) {
    cpu::set_simd_level(level);
    for (const Case& c : {Case{20, 6, 2, 5, 37, true}, Case{36, 4, 4, 1, 300, true},
                          Case{17, 3, 1, 9, 9, true}, Case{16, 4, 2, 7, 7, false}}) {
      const int64_t n_ctx = c.n_kv + 3, kv_row = c.hd * c.n_head_kv;
      auto q = randn(c.hd * c.n_head * c.n_tok, 15, 1.0f);
      auto k = randn(kv_row * c.n_kv, 16, 1.0f);
      auto v = randn(kv_row * c.n_kv, 17, 1.0f);
      AttentionParams p;
      p.n_kv = c.n_kv;
      p.pos0 = c.n_kv - c.n_tok;
      p.scale = 1.0f / std::sqrt(float(c.hd));
      p.causal = c.causal;
      for (DType kv : {DType::F32, DType::F16}) {
        Tensor tq = make(be(), DType::F32, {c.hd, c.n_head, c.n_tok, 1}, &q);
        Tensor kc = be().alloc(kv, {kv_row, n_ctx, 1, 1}, "k"),
               vc = be().alloc(kv, {kv_row, n_ctx, 1, 1}, "v");
        Tensor tk = make(be(), DType::F32, {kv_row, c.n_kv, 1, 1}, &k),
               tv = make(be(), DType::F32, {kv_row, c.n_kv, 1, 1}, &v);
        be().copy_rows(tk, kc, 0);
        be().copy_rows(tv, vc, 0);
        Tensor out = make(be(), DType::F32, {c.hd * c.n_head, c.n_tok, 1, 1});
        be().attention(tq, kc, vc, int(c.n_head_kv), p, out);
        const auto ref = attention_ref(q, k, v, c.hd, c.n_head, c.n_head_kv, c.n_tok, p, kv == DType::F16);
        EXPECT_LT(max_abs_diff(read(be(), out), ref), kv == DType::F16 ? 2e-5 : 2e-6)
            << "hd " << c.hd << " heads " << c.n_head << "/" << c.n_head_kv << " kv " << dtype_name(kv)
            << " level " << cpu::simd_level_name(level);
      }
    }
  }
  cpu::set_simd_level(cpu::detected_simd_level());
}

// Matmul: each weight type against double math on the dequantized weight and on the
// activations as the weight type's partner layout represents them.
TEST_P(BackendOps, MatmulPerWeightType) {
  struct Case {
    DType type;
    int64_t K, N, M;
  };
  for (const Case& c :
       {Case{DType::F32, 67, 13, 5}, Case{DType::F16, 67, 13, 3}, Case{DType::Q8_0, 96, 7, 4},
        Case{DType::Q4_0, 64, 9, 1}, Case{DType::Q4_K, 512, 5, 3}, Case{DType::Q6_K, 256, 3, 2}}) {
    auto wf = randn(c.K * c.N, 18, 0.5f), x = randn(c.K * c.M, 19);
    Tensor tw = make(be(), c.type, {c.K, c.N, 1, 1}, &wf);
    Tensor tx = make(be(), DType::F32, {c.K, c.M, 1, 1}, &x), out = make(be(), DType::F32, {c.N, c.M, 1, 1});
    be().matmul(tw, tx, out);
    // What the kernels actually multiply: dequantized w, and x through its partner layout.
    const auto& wk = cpu::kernels(c.type);
    std::vector<uint8_t> wbytes(tw.nbytes());
    be().download(tw, wbytes.data(), wbytes.size());
    std::vector<float> wd(wf.size()), xd(x.size());
    wk.to_float(wbytes.data(), wd.data(), c.K * c.N);
    const auto& ak = cpu::kernels(wk.vec_dot_type);
    std::vector<uint8_t> abytes(row_size(wk.vec_dot_type, c.K));
    for (int64_t m = 0; m < c.M; ++m) {
      ak.from_float(x.data() + m * c.K, abytes.data(), c.K);
      ak.to_float(abytes.data(), xd.data() + m * c.K, c.K);
    }
    std::vector<double> ref(c.N * c.M);
    double scale = 0;
    for (int64_t m = 0; m < c.M; ++m)
      for (int64_t n = 0; n < c.N; ++n) {
        double s = 0, a = 0;
        for (int64_t i = 0; i < c.K; ++i) {
          s += double(wd[n * c.K + i]) * xd[m * c.K + i];
          a += std::abs(double(wd[n * c.K + i]) * xd[m * c.K + i]);
        }
        ref[m * c.N + n] = s;
        scale = std::max(scale, a);
      }
    // Float accumulation (and Q8_K's float block sums) only: relative to Σ|w·x|.
    EXPECT_LT(max_abs_diff(read(be(), out), ref), 2e-6 * scale + 1e-6) << dtype_name(c.type);
  }
}

TEST_P(BackendOps, GetRowsDequantizes) {
  const std::vector<int32_t> ids = {3, 0, 3, 6};
  for (DType t : {DType::F32, DType::F16, DType::Q8_0, DType::Q4_K}) {
    const int64_t ne0 = t == DType::Q4_K ? 256 : 64, rows = 7;
    auto v = randn(ne0 * rows, 20);
    Tensor table = make(be(), t, {ne0, rows, 1, 1}, &v);
    Tensor tids = be().alloc(DType::I32, {4, 1, 1, 1}, "ids");
    be().upload(tids, ids.data(), 16);
    Tensor out = make(be(), DType::F32, {ne0, 4, 1, 1});
    be().get_rows(table, tids, out);
    std::vector<uint8_t> bytes(table.nbytes());
    be().download(table, bytes.data(), bytes.size());
    std::vector<float> deq(v.size());
    cpu::kernels(t).to_float(bytes.data(), deq.data(), ne0 * rows);
    const auto got = read(be(), out);
    for (size_t i = 0; i < ids.size(); ++i)
      for (int64_t j = 0; j < ne0; ++j) ASSERT_EQ(got[i * ne0 + j], deq[ids[i] * ne0 + j]) << dtype_name(t);
  }
}

TEST_P(BackendOps, ShapeMismatchesThrow) {
  Tensor a = be().alloc(DType::F32, {8, 2, 1, 1}, "a"), b = be().alloc(DType::F32, {7, 2, 1, 1}, "b");
  Tensor out = be().alloc(DType::F32, {8, 2, 1, 1}, "out");
  EXPECT_THROW(be().add(a, b, out), Error);
  EXPECT_THROW(be().matmul(a, b, out), Error);
  EXPECT_THROW(be().alloc(DType::Q8_0, {33, 1, 1, 1}, "bad"), Error);  // not a whole block
}

INSTANTIATE_TEST_SUITE_P(Threads, BackendOps, ::testing::Values(1, 3));

// The AVX2 vector kernels must give the portable kernels' bits: both follow ggml's
// summation orders (cpu_vec.h), which is what keeps logits identical to llama.cpp's.
TEST(VecKernels, Avx2MatchesPortableBitForBit) {
  if (cpu::detected_simd_level() == cpu::SimdLevel::Portable) GTEST_SKIP() << "no AVX2 on this CPU";
  const cpu::VecKernels& p = cpu::vec_portable();
  const cpu::VecKernels& v = *cpu::vec_avx2();
  for (int64_t n : {int64_t{1}, int64_t{15}, int64_t{16}, int64_t{64}, int64_t{100}, int64_t{257}}) {
    auto a = randn(n, 30), b = randn(n, 31);
    std::vector<uint16_t> h(n);
    p.to_f16(a.data(), h.data(), n);
    std::vector<uint16_t> h2(n);
    v.to_f16(a.data(), h2.data(), n);
    EXPECT_EQ(h, h2);
    auto b16 = b;
    p.round_f16(b16.data(), n);
    EXPECT_EQ(p.dot_f32(a.data(), b.data(), n), v.dot_f32(a.data(), b.data(), n)) << n;
    EXPECT_EQ(p.dot_f16_gemm(h.data(), b16.data(), n), v.dot_f16_gemm(h.data(), b16.data(), n)) << n;
    EXPECT_EQ(p.dot_f16_vecdot(h.data(), b16.data(), n), v.dot_f16_vecdot(h.data(), b16.data(), n)) << n;
    auto s = randn(n, 32, 30.0f);  // includes exp arguments far below -87
    s[0] = -INFINITY;
    std::vector<float> e1(n), e2(n);
    EXPECT_EQ(p.softmax_exp(e1.data(), s.data(), 5.0f, n), v.softmax_exp(e2.data(), s.data(), 5.0f, n));
    EXPECT_EQ(e1, e2);
    std::vector<float> y1(n), y2(n);
    p.silu_mul(s.data(), b.data(), y1.data(), n);
    v.silu_mul(s.data(), b.data(), y2.data(), n);
    EXPECT_EQ(std::memcmp(y1.data(), y2.data(), n * sizeof(float)), 0);  // bitwise: silu(-inf) is NaN
  }
  const int64_t hd = 20, stride = 44, nrow = 150;
  auto rows = randn(stride * nrow, 33), w = randn(nrow, 34);
  w[3] = 0.0f;
  std::vector<uint16_t> rows16(rows.size());
  p.to_f16(rows.data(), rows16.data(), static_cast<int64_t>(rows.size()));
  std::vector<float> lanes(64 * hd), o1(hd), o2(hd);
  for (auto order : {cpu::DotOrder::Gemm, cpu::DotOrder::VecDot})
    for (int64_t n : {int64_t{5}, int64_t{64}, int64_t{100}, int64_t{150}}) {
      const int64_t n_pad = (n + 31) / 32 * 32;
      p.weighted_rows_f16(o1.data(), w.data(), rows16.data(), stride, n, n_pad, hd, order, lanes.data());
      v.weighted_rows_f16(o2.data(), w.data(), rows16.data(), stride, n, n_pad, hd, order, lanes.data());
      EXPECT_EQ(o1, o2) << "f16 n=" << n;
      p.weighted_rows_f32(o1.data(), w.data(), rows.data(), stride, n, n_pad, hd, order, lanes.data());
      v.weighted_rows_f32(o2.data(), w.data(), rows.data(), stride, n, n_pad, hd, order, lanes.data());
      EXPECT_EQ(o1, o2) << "f32 n=" << n;
    }
}

// exp_ggml is within 2.5 ulp of the true e^x (ggml documents 1.45 + 0.5 ulp) and gets the
// special cases right.
TEST(VecKernels, ExpGgmlAccuracy) {
  for (float x = -103.0f; x < 88.7f; x += 0.00737f) {
    const double want = std::exp(static_cast<double>(x));
    const float w = static_cast<float>(want);
    const double ulp = std::nextafter(w, INFINITY) - w;
    EXPECT_NEAR(cpu::exp_ggml(x), want, 2.5 * ulp) << "x=" << x;
  }
  EXPECT_EQ(cpu::exp_ggml(-INFINITY), 0.0f);
  EXPECT_EQ(cpu::exp_ggml(0.0f), 1.0f);
  EXPECT_EQ(cpu::exp_ggml(200.0f), INFINITY);
  EXPECT_TRUE(std::isnan(cpu::exp_ggml(NAN)));
}

}  // namespace
}  // namespace xnai::compute
