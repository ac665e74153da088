// Loading decoder LLMs: hyper-parameters of the testdata models (facts from
// testdata/README.md), and small broken models written with GgufWriter, each of which must
// fail with an Error that names the offending tensor or key.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "compute/backend.h"
#include "core/error.h"
#include "core/fp16.h"
#include "formats/gguf.h"
#include "models/llm/llm.h"
#include "test_support.h"
#include "text/tokenizer.h"

namespace xnai::models {
namespace {

namespace fs = std::filesystem;

compute::Backend& backend() {
  static auto be = compute::make_cpu_backend({1});
  return *be;
}

// A small llama-style model that a test can break before writing it out.
struct TinyModel {
  std::string arch = "llama";
  int64_t n_embd = 32, n_head = 4, n_head_kv = 2, n_ff = 48, n_layer = 2, n_vocab = 100;
  // Keys without the "<arch>." prefix where they take one; tests edit, add or erase.
  std::map<std::string, gguf::Value> arch_keys;
  std::map<std::string, gguf::Value> other_keys;
  struct T {
    std::vector<int64_t> ne;
    DType type = DType::F32;
  };
  std::map<std::string, T> tensors;

  explicit TinyModel(std::string a = "llama", bool biases = false, bool qk_norm = false)
      : arch(std::move(a)) {
    const int64_t hd = n_embd / n_head;
    arch_keys["context_length"] = gguf::Value::u32(128);
    arch_keys["embedding_length"] = gguf::Value::u32(static_cast<uint32_t>(n_embd));
    arch_keys["feed_forward_length"] = gguf::Value::u32(static_cast<uint32_t>(n_ff));
    arch_keys["block_count"] = gguf::Value::u32(static_cast<uint32_t>(n_layer));
    arch_keys["attention.head_count"] = gguf::Value::u32(static_cast<uint32_t>(n_head));
    arch_keys["attention.head_count_kv"] = gguf::Value::u32(static_cast<uint32_t>(n_head_kv));
    arch_keys["attention.layer_norm_rms_epsilon"] = gguf::Value::f32(1e-5f);
    arch_keys["vocab_size"] = gguf::Value::u32(static_cast<uint32_t>(n_vocab));
    tensors["token_embd.weight"] = {{n_embd, n_vocab}};
    tensors["output_norm.weight"] = {{n_embd}};
    for (int64_t l = 0; l < n_layer; ++l) {
      const std::string p = "blk." + std::to_string(l) + ".";
      tensors[p + "attn_norm.weight"] = {{n_embd}};
      tensors[p + "attn_q.weight"] = {{n_embd, n_head * hd}};
      tensors[p + "attn_k.weight"] = {{n_embd, n_head_kv * hd}};
      tensors[p + "attn_v.weight"] = {{n_embd, n_head_kv * hd}};
      tensors[p + "attn_output.weight"] = {{n_head * hd, n_embd}};
      if (biases) {
        tensors[p + "attn_q.bias"] = {{n_head * hd}};
        tensors[p + "attn_k.bias"] = {{n_head_kv * hd}};
        tensors[p + "attn_v.bias"] = {{n_head_kv * hd}};
      }
      if (qk_norm) {
        tensors[p + "attn_q_norm.weight"] = {{hd}};
        tensors[p + "attn_k_norm.weight"] = {{hd}};
      }
      tensors[p + "ffn_norm.weight"] = {{n_embd}};
      tensors[p + "ffn_gate.weight"] = {{n_embd, n_ff}};
      tensors[p + "ffn_up.weight"] = {{n_embd, n_ff}};
      tensors[p + "ffn_down.weight"] = {{n_ff, n_embd}};
    }
  }

  // Writes the model; every tensor holds small random values (1-D ones are near 1).
  std::string write(const std::string& file_name) const {
    const fs::path dir = fs::temp_directory_path() / ("xnai_llm_load_test_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const std::string path = (dir / file_name).string();
    gguf::GgufWriter w;
    w.set_string("general.architecture", arch);
    for (const auto& [k, v] : arch_keys) w.set(arch + "." + k, v);
    for (const auto& [k, v] : other_keys) w.set(k, v);
    std::mt19937 rng(42);
    std::normal_distribution<float> d(0.0f, 0.1f);
    for (const auto& [name, t] : tensors) {
      int64_t n = 1;
      for (int64_t x : t.ne) n *= x;
      const bool one_d = t.ne.size() == 1;
      std::vector<float> vals(static_cast<size_t>(n));
      for (auto& x : vals) x = (one_d ? 1.0f : 0.0f) + d(rng);
      const DType type = t.type;
      w.add_tensor_generated(name, type, t.ne, [vals, type](uint8_t* dst, size_t nbytes) {
        if (type == DType::F32) {
          std::memcpy(dst, vals.data(), nbytes);
        } else {
          auto* h = reinterpret_cast<uint16_t*>(dst);
          for (size_t i = 0; i < vals.size(); ++i) h[i] = f32_to_fp16(vals[i]);
        }
      });
    }
    w.write(path);
    return path;
  }
};

// Runs load() and returns the Error it throws (fails the test if it does not throw).
Error load_error(const std::string& path) {
  try {
    LlmModel::load(path, backend());
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "loading " << path << " did not throw";
  return Error(ErrorKind::Internal, "");
}

void expect_error(const TinyModel& m, const std::string& file, ErrorKind kind,
                  std::vector<std::string> parts) {
  const std::string path = m.write(file);
  const Error e = load_error(path);
  EXPECT_EQ(e.kind(), kind) << e.what();
  EXPECT_NE(std::string(e.what()).find(path), std::string::npos)
      << "message should name the file: " << e.what();
  for (const auto& p : parts)
    EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << "missing '" << p << "' in: " << e.what();
}

TEST(LlmLoadErrors, MissingTensorIsNamedWithItsShape) {
  TinyModel m;
  m.tensors.erase("blk.1.ffn_up.weight");
  expect_error(m, "missing.gguf", ErrorKind::NotFound, {"blk.1.ffn_up.weight", "[32, 48]"});
}

TEST(LlmLoadErrors, WrongShapeNamesExpectedAndActual) {
  TinyModel m;
  m.tensors["blk.0.attn_k.weight"].ne = {32, 24};
  expect_error(m, "shape.gguf", ErrorKind::InvalidFormat,
               {"blk.0.attn_k.weight", "[32, 24]", "expected [32, 16]"});
}

TEST(LlmLoadErrors, WrongEmbeddingRowsForVocab) {
  TinyModel m;
  m.tensors["token_embd.weight"].ne = {32, 99};
  expect_error(m, "vocab.gguf", ErrorKind::InvalidFormat,
               {"token_embd.weight", "[32, 99]", "expected [32, 100]"});
}

TEST(LlmLoadErrors, QuantizedNormIsRejected) {
  TinyModel m;
  m.tensors["blk.0.ffn_norm.weight"].type = DType::F16;
  expect_error(m, "f16norm.gguf", ErrorKind::Unsupported, {"blk.0.ffn_norm.weight", "f16"});
}

TEST(LlmLoadErrors, MissingRequiredKey) {
  TinyModel m;
  m.arch_keys.erase("block_count");
  expect_error(m, "nokey.gguf", ErrorKind::NotFound, {"llama.block_count"});
}

TEST(LlmLoadErrors, UnknownArchitecture) {
  TinyModel m("gptj");
  expect_error(m, "arch.gguf", ErrorKind::Unsupported, {"gptj"});
}

TEST(LlmLoadErrors, HeadsNotMultipleOfKvHeads) {
  TinyModel m;
  m.arch_keys["attention.head_count_kv"] = gguf::Value::u32(3);
  expect_error(m, "gqa.gguf", ErrorKind::InvalidFormat, {"head_count_kv"});
}

TEST(LlmLoadErrors, UnsupportedRopeScaling) {
  TinyModel m;
  m.arch_keys["rope.scaling.type"] = gguf::Value::string("longrope");
  expect_error(m, "rope.gguf", ErrorKind::Unsupported, {"longrope"});
}

TEST(LlmLoadErrors, Qwen2NeedsBiases) {
  TinyModel m("qwen2", /*biases=*/true);
  m.tensors.erase("blk.0.attn_v.bias");
  expect_error(m, "qwen2bias.gguf", ErrorKind::NotFound, {"blk.0.attn_v.bias"});
}

TEST(LlmLoadErrors, Qwen3NeedsQkNorms) {
  TinyModel m("qwen3", false, /*qk_norm=*/true);
  m.tensors.erase("blk.1.attn_k_norm.weight");
  expect_error(m, "qwen3norm.gguf", ErrorKind::NotFound, {"blk.1.attn_k_norm.weight", "[8]"});
}

TEST(LlmLoadErrors, MissingTokenizerAfterValidWeights) {
  // Every tensor is right, but there is no tokenizer.* metadata.
  TinyModel m;
  const Error e = load_error(m.write("notok.gguf"));
  EXPECT_NE(std::string(e.what()).find("tokenizer"), std::string::npos) << e.what();
}

TEST(LlmLoadErrors, MissingFile) {
  const Error e = load_error("/nonexistent/dir/model.gguf");
  EXPECT_EQ(e.kind(), ErrorKind::NotFound);
}

// --- the testdata models (facts from testdata/README.md) ---

TEST(LlmHParams, TinyLlamaSpm) {
  XNAI_SKIP_IF_MISSING(path, "llm/tiny-llama-spm-f32.gguf");
  const auto m = LlmModel::load(path.string(), backend());
  const auto& hp = m->hparams();
  EXPECT_EQ(hp.arch, LlmArch::Llama);
  EXPECT_EQ(hp.n_embd, 256);
  EXPECT_EQ(hp.n_ff, 512);
  EXPECT_EQ(hp.n_head, 4);
  EXPECT_EQ(hp.n_head_kv, 2);
  EXPECT_EQ(hp.head_dim, 64);
  EXPECT_EQ(hp.n_layer, 2);
  EXPECT_EQ(hp.n_ctx_train, 256);
  EXPECT_EQ(hp.n_vocab, 32000);
  EXPECT_FLOAT_EQ(hp.rms_eps, 1e-5f);
  EXPECT_EQ(hp.rope.mode, compute::RopeMode::Normal);
  EXPECT_FLOAT_EQ(hp.rope.freq_base, 10000.0f);
  EXPECT_EQ(hp.rope.n_dims, 64);
  EXPECT_EQ(hp.rope.ext_factor, 0.0f);
  EXPECT_EQ(hp.rope.freq_scale, 1.0f);
  EXPECT_EQ(hp.rope.freq_factors, nullptr);
  EXPECT_FALSE(hp.qkv_bias);
  EXPECT_FALSE(hp.qk_norm);
  EXPECT_EQ(m->weights().output.data, m->weights().tok_embd.data);  // tied LM head
  EXPECT_EQ(m->weights().tok_embd.type, DType::F32);
}

TEST(LlmHParams, TinyQwen2AndQwen3) {
  XNAI_SKIP_IF_MISSING(q2, "llm/tiny-qwen2-f16.gguf");
  XNAI_SKIP_IF_MISSING(q3, "llm/tiny-qwen3-mixed.gguf");
  const auto m2 = LlmModel::load(q2.string(), backend());
  EXPECT_EQ(m2->hparams().arch, LlmArch::Qwen2);
  EXPECT_EQ(m2->hparams().head_dim, 16);
  EXPECT_TRUE(m2->hparams().qkv_bias);
  EXPECT_EQ(m2->hparams().rope.mode, compute::RopeMode::Neox);
  EXPECT_FLOAT_EQ(m2->hparams().rope.freq_base, 1e6f);
  EXPECT_FLOAT_EQ(m2->hparams().rms_eps, 1e-6f);
  EXPECT_EQ(m2->hparams().n_vocab, 151936);
  EXPECT_EQ(m2->weights().layers[0].wq.type, DType::F16);

  const auto m3 = LlmModel::load(q3.string(), backend());
  const auto& hp = m3->hparams();
  EXPECT_EQ(hp.arch, LlmArch::Qwen3);
  EXPECT_EQ(hp.n_embd, 64);
  EXPECT_EQ(hp.head_dim, 32);  // key_length, not n_embd / n_head
  EXPECT_EQ(hp.n_embd_q(), 128);
  EXPECT_EQ(hp.n_head_kv, 2);
  EXPECT_TRUE(hp.qk_norm);
  EXPECT_FALSE(hp.qkv_bias);
  EXPECT_EQ(hp.rope.n_dims, 32);
  EXPECT_EQ(m3->weights().tok_embd.type, DType::F16);
  EXPECT_EQ(m3->weights().layers[1].wq.type, DType::F32);
  EXPECT_EQ(m3->weights().layers[1].wq.ne[0], 64);
  EXPECT_EQ(m3->weights().layers[1].wq.ne[1], 128);
}

// Rope scaling keys as llama.cpp reads them, on a tiny model that borrows a real tokenizer.
TEST(LlmHParams, RopeScalingKeysAndFreqFactors) {
  XNAI_SKIP_IF_MISSING(spm, "llm/tiny-llama-spm-f32.gguf");
  const auto src = gguf::GgufFile::open(spm.string());
  TinyModel m;
  m.n_vocab = 32000;
  m.arch_keys["vocab_size"] = gguf::Value::u32(32000);
  m.tensors["token_embd.weight"].ne = {m.n_embd, 32000};
  for (const auto& [k, v] : src.metadata())
    if (k.rfind("tokenizer.", 0) == 0) m.other_keys[k] = v;
  m.arch_keys["rope.scaling.type"] = gguf::Value::string("yarn");
  m.arch_keys["rope.scaling.factor"] = gguf::Value::f32(4.0f);
  m.arch_keys["rope.scaling.original_context_length"] = gguf::Value::u32(64);
  m.tensors["rope_freqs.weight"] = {{4}};
  const auto model = LlmModel::load(m.write("yarn.gguf"), backend());
  const auto& r = model->hparams().rope;
  EXPECT_FLOAT_EQ(r.freq_scale, 0.25f);
  EXPECT_EQ(r.ext_factor, 1.0f);
  EXPECT_EQ(r.n_ctx_orig, 64);
  EXPECT_EQ(r.beta_fast, 32.0f);
  EXPECT_EQ(r.beta_slow, 1.0f);
  ASSERT_NE(r.freq_factors, nullptr);
  EXPECT_EQ(r.freq_factors->ne[0], 4);
  EXPECT_EQ(model->tokenizer().n_vocab(), 32000);

  m.arch_keys["rope.scaling.type"] = gguf::Value::string("none");  // "none" ignores the factor
  const auto plain = LlmModel::load(m.write("none.gguf"), backend());
  EXPECT_EQ(plain->hparams().rope.freq_scale, 1.0f);
  EXPECT_EQ(plain->hparams().rope.ext_factor, 0.0f);

  m.tensors["rope_freqs.weight"] = {{5}};
  expect_error(m, "freqs.gguf", ErrorKind::InvalidFormat, {"rope_freqs.weight", "[5]", "expected [4]"});
}

}  // namespace
}  // namespace xnai::models
