// The bert / nomic-bert encoders on small models written here with GgufWriter (F32
// weights, so only GELU's F16 table rounds): encode() against an independent float64
// forward pass written from the architecture description (every pooling, both
// architectures, packed batches), and every broken file failing with an Error that names
// the offending tensor, key or architecture. Conformance with llama.cpp on a real file is
// tests/conformance/bert_conformance_test.cpp.
#include "models/encoder/bert.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "compute/backend.h"
#include "core/error.h"
#include "core/fp16.h"
#include "formats/gguf.h"
#include "text/tokenizer.h"

namespace xnai::models {
namespace {

namespace fs = std::filesystem;

compute::Backend& backend() {
  static auto be = compute::make_cpu_backend({2});
  return *be;
}

fs::path temp_dir() { return fs::temp_directory_path() / ("xnai_bert_test_" + std::to_string(::getpid())); }

// Removes the test's files when the program ends.
struct TempDirCleanup {
  ~TempDirCleanup() {
    std::error_code ec;
    fs::remove_all(temp_dir(), ec);
  }
} g_cleanup;

fs::path temp_path(const std::string& name) {
  fs::create_directories(temp_dir());
  return temp_dir() / name;
}

// A small encoder a test can edit before writing it out.
struct TestEncoder {
  std::string arch;
  int64_t n_vocab = 40, n_ctx = 24, n_embd = 32, n_ff = 48, n_layer = 2, n_head = 4;
  float eps = 1e-12f;
  float rope_base = 1000.0f;
  std::map<std::string, gguf::Value> arch_keys;  // without the "<arch>." prefix
  struct T {
    std::vector<int64_t> ne;
    std::vector<float> data;
  };
  std::map<std::string, T> tensors;

  explicit TestEncoder(std::string a, int pooling = 2, uint64_t seed = 7) : arch(std::move(a)) {
    arch_keys["context_length"] = gguf::Value::u32(static_cast<uint32_t>(n_ctx));
    arch_keys["embedding_length"] = gguf::Value::u32(static_cast<uint32_t>(n_embd));
    arch_keys["feed_forward_length"] = gguf::Value::u32(static_cast<uint32_t>(n_ff));
    arch_keys["block_count"] = gguf::Value::u32(static_cast<uint32_t>(n_layer));
    arch_keys["attention.head_count"] = gguf::Value::u32(static_cast<uint32_t>(n_head));
    arch_keys["attention.layer_norm_epsilon"] = gguf::Value::f32(eps);
    arch_keys["attention.causal"] = gguf::Value::boolean(false);
    arch_keys["pooling_type"] = gguf::Value::u32(static_cast<uint32_t>(pooling));
    if (arch == "nomic-bert") arch_keys["rope.freq_base"] = gguf::Value::f32(rope_base);

    std::mt19937_64 rng(seed);
    // Scales that keep activations O(1) so attention is sharp and GELU is non-linear.
    auto add = [&](const std::string& name, std::vector<int64_t> ne, float center, float spread) {
      std::uniform_real_distribution<float> u(center - spread, center + spread);
      T t{ne, {}};
      int64_t n = 1;
      for (auto d : ne) n *= d;
      t.data.resize(static_cast<size_t>(n));
      for (auto& v : t.data) v = u(rng);
      tensors[name] = std::move(t);
    };
    const int64_t E = n_embd, F = n_ff;
    const float wE = std::sqrt(3.0f / static_cast<float>(E)), wF = std::sqrt(3.0f / static_cast<float>(F));
    add("token_embd.weight", {E, n_vocab}, 0.0f, 1.0f);
    add("token_types.weight", {E, 2}, 0.0f, 0.5f);
    if (arch == "bert") add("position_embd.weight", {E, n_ctx}, 0.0f, 0.5f);
    add("token_embd_norm.weight", {E}, 1.0f, 0.2f);
    add("token_embd_norm.bias", {E}, 0.0f, 0.2f);
    for (int64_t l = 0; l < n_layer; ++l) {
      const std::string p = "blk." + std::to_string(l) + ".";
      if (arch == "bert") {
        for (const char* t : {"attn_q", "attn_k", "attn_v"}) {
          add(p + t + ".weight", {E, E}, 0.0f, 2.0f * wE);
          add(p + t + ".bias", {E}, 0.0f, 0.3f);
        }
        add(p + "attn_output.bias", {E}, 0.0f, 0.3f);
        add(p + "ffn_up.bias", {F}, 0.0f, 0.3f);
        add(p + "ffn_down.bias", {E}, 0.0f, 0.3f);
      } else {
        add(p + "attn_qkv.weight", {E, 3 * E}, 0.0f, 2.0f * wE);
        add(p + "ffn_gate.weight", {E, F}, 0.0f, wE);
      }
      add(p + "attn_output.weight", {E, E}, 0.0f, wE);
      add(p + "attn_output_norm.weight", {E}, 1.0f, 0.2f);
      add(p + "attn_output_norm.bias", {E}, 0.0f, 0.2f);
      add(p + "ffn_up.weight", {E, F}, 0.0f, wE);
      add(p + "ffn_down.weight", {F, E}, 0.0f, wF);
      add(p + "layer_output_norm.weight", {E}, 1.0f, 0.2f);
      add(p + "layer_output_norm.bias", {E}, 0.0f, 0.2f);
    }
  }

  const std::vector<float>& w(const std::string& name) const { return tensors.at(name).data; }

  fs::path write(const std::string& file, const std::string& arch_name = "") const {
    gguf::GgufWriter g;
    const std::string a = arch_name.empty() ? arch : arch_name;
    g.set_string("general.architecture", a);
    g.set_string("general.name", "test-" + arch);
    for (const auto& [k, v] : arch_keys) g.set(a + "." + k, v);
    std::vector<std::string> toks = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
    while (static_cast<int64_t>(toks.size()) < n_vocab)
      toks.push_back("\xE2\x96\x81w" + std::to_string(toks.size()));
    std::vector<int32_t> types(toks.size(), 1);
    for (int i = 0; i < 5; ++i) types[static_cast<size_t>(i)] = 3;
    g.set_string("tokenizer.ggml.model", "bert");
    g.set_string("tokenizer.ggml.pre", "bert-bge");
    g.set_strings("tokenizer.ggml.tokens", toks);
    g.set_ints("tokenizer.ggml.token_type", types);
    g.set_u32("tokenizer.ggml.unknown_token_id", 1);
    g.set_u32("tokenizer.ggml.cls_token_id", 2);
    g.set_u32("tokenizer.ggml.seperator_token_id", 3);
    g.set_u32("tokenizer.ggml.padding_token_id", 0);
    for (const auto& [name, t] : tensors) g.add_tensor(name, DType::F32, t.ne, t.data.data());
    const auto path = temp_path(file);
    g.write(path.string());
    return path;
  }
};

// ---------------------------------------------------------------------------------------
// The reference: plain float64 loops over the GGUF tensors (a matrix with ne = {n_in,
// n_out} holds n_out rows of n_in values). Only GELU copies ggml's F16 lookup (the input
// and the result rounded to F16), which is part of the numerics we promise to follow.

using Mat = std::vector<std::vector<double>>;  // [token][feature]

std::vector<double> affine(const std::vector<float>& W, const std::vector<float>* b,
                           const std::vector<double>& x, int64_t n_out) {
  const auto n_in = static_cast<int64_t>(x.size());
  std::vector<double> y(static_cast<size_t>(n_out));
  for (int64_t r = 0; r < n_out; ++r) {
    double s = b ? (*b)[static_cast<size_t>(r)] : 0.0;
    for (int64_t i = 0; i < n_in; ++i)
      s += double(W[static_cast<size_t>(r * n_in + i)]) * x[static_cast<size_t>(i)];
    y[static_cast<size_t>(r)] = s;
  }
  return y;
}

std::vector<double> layer_norm(const std::vector<double>& x, const std::vector<float>& g,
                               const std::vector<float>& b, double eps) {
  double mean = 0, var = 0;
  for (double v : x) mean += v;
  mean /= static_cast<double>(x.size());
  for (double v : x) var += (v - mean) * (v - mean);
  var /= static_cast<double>(x.size());
  std::vector<double> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = (x[i] - mean) / std::sqrt(var + eps) * g[i] + b[i];
  return y;
}

double gelu_f16(double x) {
  if (x <= -10.0) return 0.0;
  if (x >= 10.0) return x;
  const double h = fp16_to_f32(f32_to_fp16(static_cast<float>(x)));
  const double g = 0.5 * h * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (h + 0.044715 * h * h * h)));
  return fp16_to_f32(f32_to_fp16(static_cast<float>(g)));
}

void rope_neox(std::vector<double>& v, int64_t n_head, int64_t hd, int pos, double base) {
  for (int64_t h = 0; h < n_head; ++h)
    for (int64_t i = 0; i < hd / 2; ++i) {
      const double theta = pos * std::pow(base, -2.0 * static_cast<double>(i) / static_cast<double>(hd));
      double& a = v[static_cast<size_t>(h * hd + i)];
      double& b = v[static_cast<size_t>(h * hd + i + hd / 2)];
      const double x0 = a, x1 = b;
      a = x0 * std::cos(theta) - x1 * std::sin(theta);
      b = x0 * std::sin(theta) + x1 * std::cos(theta);
    }
}

// One sequence alone; returns the final hidden state of every token.
Mat reference_hidden(const TestEncoder& m, const std::vector<int32_t>& ids) {
  const int64_t E = m.n_embd, F = m.n_ff, H = m.n_head, hd = E / H;
  const auto n = static_cast<int64_t>(ids.size());
  const bool nomic = m.arch == "nomic-bert";
  Mat x(static_cast<size_t>(n));
  for (int64_t t = 0; t < n; ++t) {
    std::vector<double> e(static_cast<size_t>(E));
    for (int64_t d = 0; d < E; ++d) {
      e[static_cast<size_t>(d)] = double(m.w("token_embd.weight")[static_cast<size_t>(ids[t] * E + d)]) +
                                  m.w("token_types.weight")[static_cast<size_t>(d)];
      if (!nomic) e[static_cast<size_t>(d)] += m.w("position_embd.weight")[static_cast<size_t>(t * E + d)];
    }
    x[static_cast<size_t>(t)] =
        layer_norm(e, m.w("token_embd_norm.weight"), m.w("token_embd_norm.bias"), m.eps);
  }
  for (int64_t l = 0; l < m.n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    Mat q(static_cast<size_t>(n)), k(static_cast<size_t>(n)), v(static_cast<size_t>(n));
    for (int64_t t = 0; t < n; ++t) {
      const auto& xt = x[static_cast<size_t>(t)];
      if (nomic) {
        const auto qkv = affine(m.w(p + "attn_qkv.weight"), nullptr, xt, 3 * E);
        q[static_cast<size_t>(t)].assign(qkv.begin(), qkv.begin() + E);
        k[static_cast<size_t>(t)].assign(qkv.begin() + E, qkv.begin() + 2 * E);
        v[static_cast<size_t>(t)].assign(qkv.begin() + 2 * E, qkv.end());
        rope_neox(q[static_cast<size_t>(t)], H, hd, static_cast<int>(t), m.rope_base);
        rope_neox(k[static_cast<size_t>(t)], H, hd, static_cast<int>(t), m.rope_base);
      } else {
        q[static_cast<size_t>(t)] = affine(m.w(p + "attn_q.weight"), &m.w(p + "attn_q.bias"), xt, E);
        k[static_cast<size_t>(t)] = affine(m.w(p + "attn_k.weight"), &m.w(p + "attn_k.bias"), xt, E);
        v[static_cast<size_t>(t)] = affine(m.w(p + "attn_v.weight"), &m.w(p + "attn_v.bias"), xt, E);
      }
    }
    Mat next(static_cast<size_t>(n));
    for (int64_t t = 0; t < n; ++t) {
      std::vector<double> att(static_cast<size_t>(E), 0.0);
      for (int64_t h = 0; h < H; ++h) {
        std::vector<double> s(static_cast<size_t>(n));
        double mx = -1e300, sum = 0;
        for (int64_t j = 0; j < n; ++j) {
          double dot = 0;
          for (int64_t i = 0; i < hd; ++i)
            dot += q[static_cast<size_t>(t)][static_cast<size_t>(h * hd + i)] *
                   k[static_cast<size_t>(j)][static_cast<size_t>(h * hd + i)];
          s[static_cast<size_t>(j)] = dot / std::sqrt(static_cast<double>(hd));
          mx = std::max(mx, s[static_cast<size_t>(j)]);
        }
        for (auto& e : s) sum += (e = std::exp(e - mx));
        for (int64_t j = 0; j < n; ++j)
          for (int64_t i = 0; i < hd; ++i)
            att[static_cast<size_t>(h * hd + i)] +=
                s[static_cast<size_t>(j)] / sum * v[static_cast<size_t>(j)][static_cast<size_t>(h * hd + i)];
      }
      auto o = affine(m.w(p + "attn_output.weight"), nomic ? nullptr : &m.w(p + "attn_output.bias"), att, E);
      for (int64_t d = 0; d < E; ++d)
        o[static_cast<size_t>(d)] += x[static_cast<size_t>(t)][static_cast<size_t>(d)];
      const auto hN =
          layer_norm(o, m.w(p + "attn_output_norm.weight"), m.w(p + "attn_output_norm.bias"), m.eps);
      std::vector<double> act;
      if (nomic) {
        const auto g = affine(m.w(p + "ffn_gate.weight"), nullptr, hN, F);
        const auto u = affine(m.w(p + "ffn_up.weight"), nullptr, hN, F);
        for (int64_t i = 0; i < F; ++i)
          act.push_back(g[static_cast<size_t>(i)] / (1.0 + std::exp(-g[static_cast<size_t>(i)])) *
                        u[static_cast<size_t>(i)]);
      } else {
        for (double u : affine(m.w(p + "ffn_up.weight"), &m.w(p + "ffn_up.bias"), hN, F))
          act.push_back(gelu_f16(u));
      }
      auto f = affine(m.w(p + "ffn_down.weight"), nomic ? nullptr : &m.w(p + "ffn_down.bias"), act, E);
      for (int64_t d = 0; d < E; ++d) f[static_cast<size_t>(d)] += hN[static_cast<size_t>(d)];
      next[static_cast<size_t>(t)] =
          layer_norm(f, m.w(p + "layer_output_norm.weight"), m.w(p + "layer_output_norm.bias"), m.eps);
    }
    x = std::move(next);
  }
  return x;
}

std::vector<double> reference_pooled(const TestEncoder& m, const std::vector<int32_t>& ids, Pooling pooling) {
  const Mat h = reference_hidden(m, ids);
  if (pooling == Pooling::Cls) return h.front();
  if (pooling == Pooling::Last) return h.back();
  std::vector<double> mean(h.front().size(), 0.0);
  for (const auto& row : h)
    for (size_t d = 0; d < row.size(); ++d) mean[d] += row[d] / static_cast<double>(h.size());
  return mean;
}

// ---------------------------------------------------------------------------------------

double max_rel_diff(const float* ours, const std::vector<double>& ref) {
  double scale = 0, m = 0;
  for (double v : ref) scale = std::max(scale, std::fabs(v));
  for (size_t i = 0; i < ref.size(); ++i) m = std::max(m, std::fabs(ours[i] - ref[i]));
  return m / scale;
}

const std::vector<std::vector<int32_t>> kSeqs = {
    {2, 17, 9, 33, 5, 21, 3},  // [CLS] … [SEP]
    {2, 3},
    {2, 8, 8, 8, 12, 39, 6, 30, 11, 7, 25, 14, 3},
    {2, 19, 3},
};

// Runs all of kSeqs packed into one encode() call and each alone, and compares both
// with the float64 reference.
void check_against_reference(const TestEncoder& m, const fs::path& path, Pooling pooling) {
  auto model = BertModel::load(path.string(), backend());
  BertWorkspace ws(*model, 64);
  const int64_t E = m.n_embd;
  std::vector<int32_t> flat, lens;
  for (const auto& s : kSeqs) {
    flat.insert(flat.end(), s.begin(), s.end());
    lens.push_back(static_cast<int32_t>(s.size()));
  }
  const bool per_token = pooling == Pooling::None;
  std::vector<float> batched((per_token ? flat.size() : kSeqs.size()) * static_cast<size_t>(E));
  model->encode(ws, flat, lens, pooling, batched.data());

  size_t row = 0;
  for (size_t s = 0; s < kSeqs.size(); ++s) {
    std::vector<float> alone((per_token ? kSeqs[s].size() : 1) * static_cast<size_t>(E));
    const int32_t len = static_cast<int32_t>(kSeqs[s].size());
    model->encode(ws, kSeqs[s], std::span<const int32_t>(&len, 1), pooling, alone.data());
    if (per_token) {
      const Mat ref = reference_hidden(m, kSeqs[s]);
      for (size_t t = 0; t < kSeqs[s].size(); ++t, ++row) {
        EXPECT_LE(max_rel_diff(batched.data() + row * static_cast<size_t>(E), ref[t]), 2e-5)
            << "seq " << s << " tok " << t;
        EXPECT_LE(max_rel_diff(alone.data() + t * static_cast<size_t>(E), ref[t]), 2e-5)
            << "seq " << s << " tok " << t;
      }
      continue;
    }
    const auto ref = reference_pooled(m, kSeqs[s], pooling);
    EXPECT_LE(max_rel_diff(batched.data() + s * static_cast<size_t>(E), ref), 2e-5)
        << m.arch << " " << pooling_name(pooling) << " seq " << s << " (batched)";
    EXPECT_LE(max_rel_diff(alone.data(), ref), 2e-5)
        << m.arch << " " << pooling_name(pooling) << " seq " << s;
    for (int64_t d = 0; d < E; ++d)
      EXPECT_NEAR(batched[s * static_cast<size_t>(E) + static_cast<size_t>(d)], alone[static_cast<size_t>(d)],
                  1e-5f);
  }
}

TEST(BertEncoder, BertMatchesFloat64ReferenceForEveryPooling) {
  const TestEncoder m("bert");
  const auto path = m.write("bert.gguf");
  for (Pooling p : {Pooling::Cls, Pooling::Mean, Pooling::Last, Pooling::None})
    check_against_reference(m, path, p);
}

TEST(BertEncoder, NomicBertMatchesFloat64Reference) {
  const TestEncoder m("nomic-bert", 1);
  const auto path = m.write("nomic.gguf");
  for (Pooling p : {Pooling::Mean, Pooling::Cls}) check_against_reference(m, path, p);
}

TEST(BertEncoder, HyperParametersAndPoolingFromTheFile) {
  const TestEncoder m("bert", 1);
  auto model = BertModel::load(m.write("hp.gguf").string(), backend());
  const auto& hp = model->hparams();
  EXPECT_EQ(hp.arch, EncoderArch::Bert);
  EXPECT_EQ(hp.n_embd, 32);
  EXPECT_EQ(hp.n_ff, 48);
  EXPECT_EQ(hp.n_layer, 2);
  EXPECT_EQ(hp.n_head, 4);
  EXPECT_EQ(hp.head_dim, 8);
  EXPECT_EQ(hp.n_ctx_train, 24);
  EXPECT_EQ(hp.n_vocab, 40);
  EXPECT_FLOAT_EQ(hp.norm_eps, 1e-12f);
  EXPECT_EQ(hp.pooling, Pooling::Mean);
  EXPECT_TRUE(hp.pooling_in_file);
  EXPECT_EQ(model->tokenizer().encode("w7 w9", true), (std::vector<int32_t>{2, 7, 9, 3}));

  TestEncoder none("bert");
  none.arch_keys.erase("pooling_type");
  auto m2 = BertModel::load(none.write("nopool.gguf").string(), backend());
  EXPECT_EQ(m2->hparams().pooling, Pooling::None);
  EXPECT_FALSE(m2->hparams().pooling_in_file);
}

TEST(BertEncoder, EncodeRejectsBadBatches) {
  const TestEncoder m("bert");
  auto model = BertModel::load(m.write("bad_batch.gguf").string(), backend());
  BertWorkspace ws(*model, 30);
  std::vector<float> out(32 * 30);
  auto expect_bad = [&](std::vector<int32_t> toks, std::vector<int32_t> lens, const std::string& needle) {
    try {
      model->encode(ws, toks, lens, Pooling::Cls, out.data());
      ADD_FAILURE() << "expected an error containing " << needle;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_bad({2, 40, 3}, {3}, "token id 40");
  expect_bad({2, -1, 3}, {3}, "token id -1");
  expect_bad({2, 5, 3}, {2}, "add up to 2");
  expect_bad({2, 5, 3}, {3, 0}, "sequence 1 has 0 tokens");
  expect_bad(std::vector<int32_t>(25, 5), {25}, "sequence 0 has 25 tokens");  // n_ctx 24
  expect_bad(std::vector<int32_t>(31, 5), {20, 11}, "exceed the workspace");
  expect_bad({}, {}, "no sequences");
  EXPECT_THROW(BertWorkspace(*model, 0), Error);
}

// --- broken files -------------------------------------------------------------------------

void expect_load_error(const TestEncoder& m, ErrorKind kind, const std::vector<std::string>& needles,
                       const std::string& arch_name = "") {
  const auto path = m.write("broken.gguf", arch_name);
  try {
    BertModel::load(path.string(), backend());
    ADD_FAILURE() << "expected an error mentioning " << needles.front();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path.string()), std::string::npos) << msg;
    for (const auto& n : needles)
      EXPECT_NE(msg.find(n), std::string::npos) << "'" << n << "' not in: " << msg;
  }
}

TEST(BertEncoderErrors, MissingTensorIsNamedWithItsShape) {
  TestEncoder m("bert");
  m.tensors.erase("blk.1.ffn_down.bias");
  expect_load_error(m, ErrorKind::NotFound, {"'blk.1.ffn_down.bias'", "[32]", "bert"});
  TestEncoder n("nomic-bert");
  n.tensors.erase("blk.0.attn_qkv.weight");
  expect_load_error(n, ErrorKind::NotFound, {"'blk.0.attn_qkv.weight'", "[32, 96]", "nomic-bert"});
  TestEncoder p("bert");
  p.tensors.erase("position_embd.weight");
  expect_load_error(p, ErrorKind::NotFound, {"'position_embd.weight'", "[32, 24]"});
}

TEST(BertEncoderErrors, MisshapedTensorShowsExpectedAndActual) {
  TestEncoder m("bert");
  m.tensors["blk.0.attn_k.weight"] = {{32, 36}, std::vector<float>(32 * 36, 0.0f)};
  expect_load_error(m, ErrorKind::InvalidFormat, {"'blk.0.attn_k.weight'", "[32, 36]", "expected [32, 32]"});
  TestEncoder e("bert");
  e.tensors["token_embd.weight"] = {{32, 39}, std::vector<float>(32 * 39, 0.0f)};
  expect_load_error(e, ErrorKind::InvalidFormat, {"'token_embd.weight'", "expected [32, 40]"});
}

TEST(BertEncoderErrors, DecoderArchitectureIsNamed) {
  const TestEncoder m("bert");
  expect_load_error(m, ErrorKind::Unsupported, {"'llama'", "not an embedding"}, "llama");
}

TEST(BertEncoderErrors, BadKeys) {
  TestEncoder eps("bert");
  eps.arch_keys.erase("attention.layer_norm_epsilon");
  expect_load_error(eps, ErrorKind::NotFound, {"bert.attention.layer_norm_epsilon"});
  TestEncoder causal("bert");
  causal.arch_keys["attention.causal"] = gguf::Value::boolean(true);
  expect_load_error(causal, ErrorKind::Unsupported, {"attention.causal"});
  TestEncoder rank("bert", 4);
  expect_load_error(rank, ErrorKind::Unsupported, {"pooling_type 4", "rank"});
  TestEncoder odd("bert", 9);
  expect_load_error(odd, ErrorKind::InvalidFormat, {"bert.pooling_type", "9"});
  TestEncoder heads("bert");
  heads.arch_keys["attention.head_count"] = gguf::Value::u32(5);
  expect_load_error(heads, ErrorKind::InvalidFormat, {"not a multiple", "5"});
  TestEncoder gqa("bert");
  gqa.arch_keys["attention.head_count_kv"] = gguf::Value::u32(2);
  expect_load_error(gqa, ErrorKind::Unsupported, {"head_count_kv 2"});
  TestEncoder layers("bert");
  layers.arch_keys["block_count"] = gguf::Value::u32(3);  // the file has two layers
  expect_load_error(layers, ErrorKind::NotFound, {"'blk.2.attn_q.weight'"});
}

// --- the synthetic writer ----------------------------------------------------------------

TEST(BertSynthetic, BgeSmallLayoutLoadsAndEncodes) {
  SyntheticBertShape s;  // bge-small-en-v1.5, cut to 2 layers to keep the test quick
  s.n_layer = 2;
  const auto path = temp_path("synth.gguf");
  write_synthetic_bert(s, path.string());
  const auto file = gguf::GgufFile::open(path.string());
  EXPECT_EQ(file.get_tensor("token_embd.weight").type, DType::F16);
  EXPECT_EQ(file.get_tensor("position_embd.weight").type, DType::F32);
  EXPECT_EQ(file.get_tensor("blk.1.ffn_up.weight").ne, (std::vector<int64_t>{384, 1536}));

  auto model = BertModel::load(path.string(), backend());
  const auto& hp = model->hparams();
  EXPECT_EQ(hp.n_embd, 384);
  EXPECT_EQ(hp.head_dim, 32);
  EXPECT_EQ(hp.n_vocab, 30522);
  EXPECT_EQ(hp.pooling, Pooling::Cls);
  const auto ids = model->tokenizer().encode("the local model is data", true);
  EXPECT_EQ(ids.size(), 7u);  // [CLS] five words [SEP]
  EXPECT_EQ(ids.front(), 101);
  EXPECT_EQ(ids.back(), 102);
  const auto chars = model->tokenizer().encode("zebra", true);  // no such word: one piece per letter
  EXPECT_EQ(chars.size(), 7u);

  BertWorkspace ws(*model, 64);
  std::vector<float> out(384);
  const int32_t len = static_cast<int32_t>(ids.size());
  model->encode(ws, ids, std::span<const int32_t>(&len, 1), Pooling::Cls, out.data());
  double norm = 0;
  for (float v : out) {
    ASSERT_TRUE(std::isfinite(v));
    norm += double(v) * v;
  }
  EXPECT_GT(norm, 1.0);
}

TEST(BertSynthetic, RejectsBadShapes) {
  SyntheticBertShape s;
  s.n_head = 5;
  EXPECT_THROW(write_synthetic_bert(s, temp_path("bad.gguf").string()), Error);
  SyntheticBertShape v;
  v.n_vocab = 50;
  EXPECT_THROW(write_synthetic_bert(v, temp_path("bad.gguf").string()), Error);
}

}  // namespace
}  // namespace xnai::models
