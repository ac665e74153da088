// GgufFile against the llama.cpp-made files in ../shared/testdata: the facts asserted
// here come from testdata/README.md and vocab/README.md, not from our own output.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <set>

#include "core/error.h"
#include "core/fp16.h"
#include "formats/gguf.h"
#include "test_support.h"

namespace xnai::gguf {
namespace {

std::vector<int64_t> ne(std::initializer_list<int64_t> v) { return v; }

// Mean and standard deviation of an F32 tensor's values.
std::pair<double, double> f32_stats(const TensorInfo& t) {
  EXPECT_EQ(t.type, DType::F32);
  const size_t n = t.nbytes / 4;
  double s = 0, s2 = 0;
  for (size_t i = 0; i < n; ++i) {
    float x;
    std::memcpy(&x, t.data + 4 * i, 4);
    s += x;
    s2 += double(x) * x;
  }
  const double mean = s / n;
  return {mean, std::sqrt(std::max(0.0, s2 / n - mean * mean))};
}

// Layer-invariant checks every model file must pass.
void check_common(const GgufFile& f) {
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), 32u);
  EXPECT_EQ(f.data_offset() % 32, 0u);
  std::set<std::string> names;
  for (const auto& t : f.tensors()) {
    EXPECT_TRUE(names.insert(t.name).second) << t.name;
    EXPECT_EQ(t.offset % 32, 0u) << t.name;
    EXPECT_EQ(t.data, f.bytes() + f.data_offset() + t.offset) << t.name;
    EXPECT_LE(f.data_offset() + t.offset + t.nbytes, f.file_size()) << t.name;
    EXPECT_EQ(t.nbytes, row_size(t.type, t.dim(0)) * static_cast<size_t>(t.n_elements() / t.dim(0)))
        << t.name;
    EXPECT_EQ(f.find_tensor(t.name), &t);
    // README: 1-D tensors (norms, biases) are always F32.
    if (t.ne.size() == 1) {
      EXPECT_EQ(t.type, DType::F32) << t.name;
    }
  }
}

TEST(GgufReader, TinyLlamaSpmF32) {
  XNAI_SKIP_IF_MISSING(path, "llm/tiny-llama-spm-f32.gguf");
  const auto f = GgufFile::open(path.string());
  check_common(f);
  EXPECT_EQ(f.path(), path.string());
  EXPECT_EQ(f.file_size(), std::filesystem::file_size(path));
  EXPECT_EQ(f.architecture(), "llama");
  EXPECT_EQ(f.require_int("llama.embedding_length"), 256);
  EXPECT_EQ(f.require_int("llama.feed_forward_length"), 512);
  EXPECT_EQ(f.require_int("llama.attention.head_count"), 4);
  EXPECT_EQ(f.require_int("llama.attention.head_count_kv"), 2);
  EXPECT_EQ(f.require_int("llama.block_count"), 2);
  EXPECT_EQ(f.require_int("llama.context_length"), 256);
  EXPECT_FLOAT_EQ(static_cast<float>(f.require_float("llama.rope.freq_base")), 10000.0f);
  EXPECT_FLOAT_EQ(static_cast<float>(f.require_float("llama.attention.layer_norm_rms_epsilon")), 1e-5f);
  EXPECT_EQ(f.get_string("tokenizer.ggml.model"), "llama");

  const auto tokens = f.require_strings("tokenizer.ggml.tokens");
  ASSERT_EQ(tokens.size(), 32000u);
  EXPECT_EQ(tokens[1], "<s>");
  EXPECT_EQ(tokens[2], "</s>");
  EXPECT_EQ(f.get("tokenizer.ggml.scores").size(), 32000u);
  EXPECT_EQ(f.get("tokenizer.ggml.token_type").size(), 32000u);
  EXPECT_EQ(f.require_int("tokenizer.ggml.bos_token_id"), 1);
  EXPECT_TRUE(f.require_bool("tokenizer.ggml.add_bos_token"));

  // Tied: no output.weight. Two global tensors plus nine per layer.
  EXPECT_EQ(f.find_tensor("output.weight"), nullptr);
  EXPECT_EQ(f.tensors().size(), 2u + 2u * 9u);
  for (const auto& t : f.tensors()) EXPECT_EQ(t.type, DType::F32) << t.name;
  EXPECT_EQ(f.get_tensor("token_embd.weight").ne, ne({256, 32000}));
  EXPECT_EQ(f.get_tensor("blk.0.attn_q.weight").ne, ne({256, 256}));
  EXPECT_EQ(f.get_tensor("blk.1.attn_k.weight").ne, ne({256, 128}));  // 2 kv heads x 64
  EXPECT_EQ(f.get_tensor("blk.1.ffn_down.weight").ne, ne({512, 256}));

  // The data pointers land on the right bytes: README's initialisation statistics.
  const auto [norm_mean, norm_std] = f32_stats(f.get_tensor("output_norm.weight"));
  EXPECT_NEAR(norm_mean, 4.0, 0.06);  // 4 + N(0, 0.2) over 256 values
  EXPECT_NEAR(norm_std, 0.2, 0.05);
  const auto [emb_mean, emb_std] = f32_stats(f.get_tensor("token_embd.weight"));
  EXPECT_NEAR(emb_mean, 0.0, 0.002);
  EXPECT_NEAR(emb_std, 0.04, 0.002);  // "std 0.04 for n_embd 256"
  const auto [q_mean, q_std] = f32_stats(f.get_tensor("blk.0.attn_q.weight"));
  EXPECT_NEAR(q_mean, 0.0, 0.001);
  EXPECT_NEAR(q_std, 1.0 / 16, 0.002);  // N(0, 1/sqrt(fan_in)), fan_in 256
}

TEST(GgufReader, TinyLlamaSpmQuantized) {
  XNAI_SKIP_IF_MISSING(q8, "llm/tiny-llama-spm-q8_0.gguf");
  XNAI_SKIP_IF_MISSING(q4km, "llm/tiny-llama-spm-q4_k_m.gguf");
  XNAI_SKIP_IF_MISSING(q40, "llm/tiny-llama-spm-q4_0-pure.gguf");
  {
    const auto f = GgufFile::open(q8.string());
    check_common(f);
    EXPECT_EQ(f.tensors().size(), 20u);
    for (const auto& t : f.tensors())
      EXPECT_EQ(t.type, t.ne.size() == 2 ? DType::Q8_0 : DType::F32) << t.name;
    EXPECT_EQ(f.get_tensor("token_embd.weight").nbytes, 256u / 32 * 34 * 32000);
  }
  {
    // Q4_K_M: Q4_K, with Q6_K for token_embd and 2 other tensors.
    const auto f = GgufFile::open(q4km.string());
    check_common(f);
    EXPECT_EQ(f.get_tensor("token_embd.weight").type, DType::Q6_K);
    int q6 = 0;
    for (const auto& t : f.tensors()) {
      if (t.ne.size() == 1) continue;
      EXPECT_TRUE(t.type == DType::Q4_K || t.type == DType::Q6_K) << t.name;
      q6 += t.type == DType::Q6_K;
    }
    EXPECT_EQ(q6, 3);
    EXPECT_EQ(f.require_int("general.file_type"), 15);  // LLAMA_FTYPE_MOSTLY_Q4_K_M
  }
  {
    const auto f = GgufFile::open(q40.string());
    check_common(f);
    for (const auto& t : f.tensors())
      EXPECT_EQ(t.type, t.ne.size() == 2 ? DType::Q4_0 : DType::F32) << t.name;
    const auto [m, s] = f32_stats(f.get_tensor("output_norm.weight"));
    EXPECT_NEAR(m, 4.0, 0.06);
    (void)s;
  }
}

TEST(GgufReader, TinyQwen2F16) {
  XNAI_SKIP_IF_MISSING(path, "llm/tiny-qwen2-f16.gguf");
  const auto f = GgufFile::open(path.string());
  check_common(f);
  EXPECT_EQ(f.architecture(), "qwen2");
  EXPECT_EQ(f.require_int("qwen2.embedding_length"), 64);
  EXPECT_EQ(f.require_int("qwen2.feed_forward_length"), 128);
  EXPECT_EQ(f.require_int("qwen2.attention.head_count_kv"), 2);
  EXPECT_FLOAT_EQ(static_cast<float>(f.require_float("qwen2.rope.freq_base")), 1e6f);
  EXPECT_FLOAT_EQ(static_cast<float>(f.require_float("qwen2.attention.layer_norm_rms_epsilon")), 1e-6f);
  EXPECT_EQ(f.get_string("tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(f.get_string("tokenizer.ggml.pre"), "qwen2");
  const auto& tokens = f.get("tokenizer.ggml.tokens");
  EXPECT_EQ(tokens.array_type(), ValueType::STRING);
  ASSERT_EQ(tokens.size(), 151936u);
  EXPECT_EQ(tokens.at(151643).as_string(), "<|endoftext|>");
  EXPECT_GT(f.get("tokenizer.ggml.merges").size(), 150000u);
  // vocab/README.md: qwen2 has add_bos_token = false, bos = eos = pad = 151643.
  EXPECT_FALSE(f.require_bool("tokenizer.ggml.add_bos_token"));
  EXPECT_EQ(f.require_int("tokenizer.ggml.bos_token_id"), 151643);
  EXPECT_EQ(f.require_int("tokenizer.ggml.eos_token_id"), 151643);
  EXPECT_EQ(f.require_int("tokenizer.ggml.padding_token_id"), 151643);
  EXPECT_EQ(f.get_tensor("token_embd.weight").type, DType::F16);
  EXPECT_EQ(f.get_tensor("token_embd.weight").ne, ne({64, 151936}));
  EXPECT_EQ(f.get_tensor("blk.0.attn_k.weight").ne, ne({64, 32}));  // 2 kv heads x 16
  EXPECT_EQ(f.get_tensor("blk.1.attn_q.bias").ne, ne({64}));        // q/k/v biases
  EXPECT_EQ(f.get_tensor("blk.1.attn_v.bias").ne, ne({32}));
  EXPECT_EQ(f.find_tensor("output.weight"), nullptr);
}

TEST(GgufReader, TinyQwen3Mixed) {
  XNAI_SKIP_IF_MISSING(path, "llm/tiny-qwen3-mixed.gguf");
  const auto f = GgufFile::open(path.string());
  check_common(f);
  EXPECT_EQ(f.architecture(), "qwen3");
  EXPECT_EQ(f.require_int("qwen3.embedding_length"), 64);
  EXPECT_EQ(f.require_int("qwen3.attention.key_length"), 32);
  EXPECT_EQ(f.require_int("qwen3.attention.value_length"), 32);
  EXPECT_EQ(f.require_int("qwen3.rope.dimension_count"), 32);
  EXPECT_EQ(f.require_int("qwen3.vocab_size"), 151936);
  EXPECT_EQ(f.require_int("general.file_type"), 1);  // MOSTLY_F16
  EXPECT_EQ(f.get("tokenizer.ggml.tokens").size(), 151936u);
  EXPECT_EQ(f.tensors().size(), 2u + 2u * 11u);
  for (int l = 0; l < 2; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    EXPECT_EQ(f.get_tensor(p + "attn_q.weight").ne, ne({64, 128}));
    EXPECT_EQ(f.get_tensor(p + "attn_k.weight").ne, ne({64, 64}));
    EXPECT_EQ(f.get_tensor(p + "attn_v.weight").ne, ne({64, 64}));
    EXPECT_EQ(f.get_tensor(p + "attn_q_norm.weight").ne, ne({32}));
    EXPECT_EQ(f.get_tensor(p + "attn_k_norm.weight").ne, ne({32}));
    EXPECT_EQ(f.get_tensor(p + "attn_output.weight").ne, ne({128, 64}));
    const auto [m, s] = f32_stats(f.get_tensor(p + "attn_q_norm.weight"));  // 1 + N(0, 0.05)
    EXPECT_NEAR(m, 1.0, 0.04);
    EXPECT_NEAR(s, 0.05, 0.03);
  }
  // Only the token embedding is F16.
  for (const auto& t : f.tensors())
    EXPECT_EQ(t.type, t.name == "token_embd.weight" ? DType::F16 : DType::F32) << t.name;
  // README: the tied embedding of an n_embd-64 model has std 0.08.
  const auto& emb = f.get_tensor("token_embd.weight");
  double s2 = 0;
  const size_t n = 64 * 4096;  // the first 4096 rows
  for (size_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, emb.data + 2 * i, 2);
    const double x = fp16_to_f32(h);
    s2 += x * x;
  }
  EXPECT_NEAR(std::sqrt(s2 / n), 0.08, 0.005);
}

TEST(GgufReader, TinyLlamaBpeAndBert) {
  XNAI_SKIP_IF_MISSING(bpe, "llm/tiny-llama-bpe-f16.gguf");
  XNAI_SKIP_IF_MISSING(bert, "llm/tiny-bert-bge-f16.gguf");
  {
    const auto f = GgufFile::open(bpe.string());
    check_common(f);
    EXPECT_EQ(f.architecture(), "llama");
    EXPECT_EQ(f.require_int("llama.attention.head_count_kv"), 1);
    EXPECT_FLOAT_EQ(static_cast<float>(f.require_float("llama.rope.freq_base")), 500000.0f);
    EXPECT_EQ(f.get_string("tokenizer.ggml.pre"), "llama-bpe");
    const auto& tokens = f.get("tokenizer.ggml.tokens");
    ASSERT_EQ(tokens.size(), 128256u);
    EXPECT_EQ(tokens.at(128000).as_string(), "<|begin_of_text|>");
    EXPECT_EQ(f.find("tokenizer.ggml.add_bos_token"), nullptr);  // vocab/README.md
    EXPECT_TRUE(f.get_bool("tokenizer.ggml.add_bos_token", true));
    EXPECT_EQ(f.get_tensor("blk.0.attn_k.weight").ne, ne({64, 16}));  // MQA: 1 kv head x 16
  }
  {
    const auto f = GgufFile::open(bert.string());
    check_common(f);
    EXPECT_EQ(f.architecture(), "bert");
    EXPECT_EQ(f.require_int("bert.embedding_length"), 128);
    EXPECT_EQ(f.require_int("bert.feed_forward_length"), 256);
    EXPECT_EQ(f.require_int("bert.context_length"), 512);
    EXPECT_EQ(f.require_int("bert.pooling_type"), 2);
    EXPECT_FALSE(f.require_bool("bert.attention.causal"));
    EXPECT_FLOAT_EQ(static_cast<float>(f.require_float("bert.attention.layer_norm_epsilon")), 1e-12f);
    EXPECT_EQ(f.get("tokenizer.ggml.tokens").size(), 30522u);
    EXPECT_EQ(f.get_tensor("token_types.weight").ne, ne({128, 2}));
    EXPECT_EQ(f.get_tensor("position_embd.weight").ne, ne({128, 512}));
    EXPECT_EQ(f.get_tensor("token_embd.weight").type, DType::F16);
  }
}

struct VocabFact {
  const char* file;
  const char* model;
  const char* pre;
  size_t n_tokens;
};

TEST(GgufReader, VocabOnlyFiles) {
  const VocabFact facts[] = {
      {"vocab/ggml-vocab-llama-spm.gguf", "llama", "default", 32000},
      {"vocab/ggml-vocab-phi-3.gguf", "llama", "default", 32064},
      {"vocab/ggml-vocab-bert-bge.gguf", "bert", "bert-bge", 30522},
      {"vocab/ggml-vocab-gpt-2.gguf", "gpt2", "gpt-2", 0},
      {"vocab/ggml-vocab-deepseek-coder.gguf", "gpt2", "deepseek-coder", 0},
  };
  for (const auto& fact : facts) {
    SCOPED_TRACE(fact.file);
    XNAI_SKIP_IF_MISSING(path, fact.file);
    const auto f = GgufFile::open(path.string());
    EXPECT_EQ(f.version(), 3u);
    EXPECT_TRUE(f.tensors().empty());  // "an ordinary GGUF file with zero tensors"
    EXPECT_EQ(f.get_string("tokenizer.ggml.model"), fact.model);
    EXPECT_EQ(f.get_string("tokenizer.ggml.pre"), fact.pre);
    const Value& tokens = f.get("tokenizer.ggml.tokens");
    EXPECT_EQ(tokens.array_type(), ValueType::STRING);
    if (fact.n_tokens) {
      EXPECT_EQ(tokens.size(), fact.n_tokens);
    }
    EXPECT_EQ(f.get("tokenizer.ggml.token_type").size(), tokens.size());
    if (std::string(fact.model) == "gpt2") {
      EXPECT_GT(f.get("tokenizer.ggml.merges").size(), 1000u);
    }
    if (std::string(fact.model) == "bert") {
      // vocab/README.md: WordPiece adds [CLS] (101) and [SEP] (102).
      EXPECT_EQ(tokens.at(101).as_string(), "[CLS]");
      EXPECT_EQ(tokens.at(102).as_string(), "[SEP]");
    }
  }
}

TEST(GgufReader, EveryTestdataFileOpens) {
  const auto root = test::testdata_dir();
  if (!std::filesystem::exists(root / "llm")) GTEST_SKIP() << "conformance data missing: " << root;
  int n = 0;
  for (const char* sub : {"llm", "vocab"}) {
    for (const auto& e : std::filesystem::directory_iterator(root / sub)) {
      if (e.path().extension() != ".gguf") continue;
      SCOPED_TRACE(e.path().string());
      EXPECT_NO_THROW({
        const auto f = GgufFile::open(e.path().string());
        EXPECT_FALSE(f.architecture().empty());
        for (const auto& [k, v] : f.metadata()) EXPECT_FALSE(v.to_display().empty()) << k;
      });
      ++n;
    }
  }
  EXPECT_EQ(n, 13);  // 8 models + 5 vocab-only files
}

TEST(GgufReader, MissingFileNamesPath) {
  try {
    GgufFile::open("/nonexistent/dir/model.gguf");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::NotFound);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/model.gguf"), std::string::npos) << e.what();
  }
}

TEST(GgufReader, TypedLookupErrorsNameFileAndKey) {
  XNAI_SKIP_IF_MISSING(path, "llm/tiny-qwen2-f16.gguf");
  const auto f = GgufFile::open(path.string());
  try {
    f.get("qwen2.no_such_key");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::NotFound);
    EXPECT_EQ(std::string(e.what()), path.string() + ": missing key 'qwen2.no_such_key'");
  }
  try {
    f.get_int("general.architecture", 0);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidFormat);
    EXPECT_EQ(std::string(e.what()),
              path.string() + ": key 'general.architecture': expected an integer, got string");
  }
  EXPECT_EQ(f.get_int("qwen2.no_such_key", -3), -3);
  EXPECT_EQ(f.get_float("qwen2.no_such_key", 2.5), 2.5);
  EXPECT_EQ(f.get_string("qwen2.no_such_key", "x"), "x");
  EXPECT_EQ(f.get_uint("qwen2.block_count", 0), 2u);
  EXPECT_DOUBLE_EQ(f.get_float("qwen2.block_count", 0), 2.0);  // integers widen to float
  EXPECT_THROW(f.require_floats("tokenizer.ggml.tokens"), Error);
  EXPECT_THROW(f.get_tensor("nope"), Error);
}

}  // namespace
}  // namespace xnai::gguf
