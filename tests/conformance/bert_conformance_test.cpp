// Sentence embeddings of the bert family against llama.cpp (testdata/README.md §3, end):
// tiny-bert-bge-f16 with five sentences. Tokens must match exactly; normalised vectors
// need cosine ≥ 0.9999 and max |Δ| ≤ 1e-3 against `embedding` (llama-embedding, all five
// in one batch) and `embedding_full_precision` (each alone, float32). The raw pooled
// vector (`embedding_unnormalized`, norm ≈ 11) is held to the same cosine and to
// max |Δ| ≤ 1e-3 relative to its norm. Then the embedder's own contract: batching never
// changes a vector (≤ 1e-5) or the order, truncation keeps [SEP], the empty string embeds,
// and a decoder LLM file is refused by architecture name.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.h"
#include "models/encoder/bert.h"
#include "runtime/bert_embedder.h"
#include "test_support.h"
#include "text/tokenizer.h"

namespace xnai {
namespace {

struct Sentence {
  std::string text;
  std::vector<int32_t> tokens;
  std::vector<float> embedding, full_precision, unnormalized;
};

std::vector<Sentence> load_sentences(const std::filesystem::path& p) {
  std::ifstream in(p);
  const auto j = nlohmann::json::parse(in);
  std::vector<Sentence> out;
  for (const auto& s : j.at("sentences")) {
    Sentence x;
    x.text = s.at("text").get<std::string>();
    x.tokens = s.at("tokens").get<std::vector<int32_t>>();
    x.embedding = s.at("embedding").get<std::vector<float>>();
    x.full_precision = s.at("embedding_full_precision").get<std::vector<float>>();
    x.unnormalized = s.at("embedding_unnormalized").get<std::vector<float>>();
    out.push_back(std::move(x));
  }
  return out;
}

double cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ab += double(a[i]) * b[i];
    aa += double(a[i]) * a[i];
    bb += double(b[i]) * b[i];
  }
  return ab / std::sqrt(aa * bb);
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(double(a[i]) - b[i]));
  return m;
}

double norm(const std::vector<float>& a) {
  double s = 0;
  for (float v : a) s += double(v) * v;
  return std::sqrt(s);
}

struct Measured {
  double min_cos = 1, max_diff = 0;
  void add(const std::vector<float>& ours, const std::vector<float>& ref, double scale = 1.0) {
    min_cos = std::min(min_cos, cosine(ours, ref));
    max_diff = std::max(max_diff, max_abs_diff(ours, ref) / scale);
  }
};

// Runs every reference check for one model file.
void check_model(const std::filesystem::path& model, const std::filesystem::path& json) {
  const auto ref = load_sentences(json);
  ASSERT_EQ(ref.size(), 5u);
  auto e = runtime::BertEmbedder::load(model.string());
  ASSERT_EQ(e->dim(), 128);
  EXPECT_EQ(e->pooling(), models::Pooling::Cls);  // bert.pooling_type = 2

  std::vector<std::string> texts;
  for (const auto& s : ref) {
    EXPECT_EQ(e->tokenize(s.text), s.tokens) << s.text;
    EXPECT_EQ(e->count_tokens(s.text), static_cast<int>(s.tokens.size()));
    texts.push_back(s.text);
  }

  // All five in one batch, as llama-embedding ran them.
  const auto batched = e->embed(texts);
  ASSERT_EQ(batched.size(), 5u);
  Measured vs_tool, vs_full, alone_vs_full, raw;
  for (size_t i = 0; i < ref.size(); ++i) {
    ASSERT_EQ(batched[i].size(), 128u);
    vs_tool.add(batched[i], ref[i].embedding);
    vs_full.add(batched[i], ref[i].full_precision);
    const auto alone = e->embed({ref[i].text});
    alone_vs_full.add(alone[0], ref[i].full_precision);
    const auto unnorm = e->embed_tokens({ref[i].tokens}, false);
    raw.add(unnorm[0], ref[i].unnormalized, norm(ref[i].unnormalized));
  }
  std::printf(
      "[ measured ] %s: batched vs embedding: min cos %.9f, max|d| %.3g; vs full precision: min cos "
      "%.9f, max|d| %.3g; alone vs full precision: min cos %.9f, max|d| %.3g; unnormalized: min cos %.9f, "
      "max|d|/norm %.3g\n",
      model.filename().c_str(), vs_tool.min_cos, vs_tool.max_diff, vs_full.min_cos, vs_full.max_diff,
      alone_vs_full.min_cos, alone_vs_full.max_diff, raw.min_cos, raw.max_diff);
  for (const Measured* m : {&vs_tool, &vs_full, &alone_vs_full, &raw}) {
    EXPECT_GE(m->min_cos, 0.9999);
    EXPECT_LE(m->max_diff, 1e-3);
  }
}

std::vector<std::string> reference_texts() {
  auto json = test::testdata_file("llm/reference/tiny-bert-bge-f16.embeddings.json");
  std::vector<std::string> t;
  for (const auto& s : load_sentences(json)) t.push_back(s.text);
  return t;
}

TEST(BertConformance, TinyBgeF16MatchesLlamaCpp) {
  XNAI_SKIP_IF_MISSING(model, "llm/tiny-bert-bge-f16.gguf");
  XNAI_SKIP_IF_MISSING(json, "llm/reference/tiny-bert-bge-f16.embeddings.json");
  check_model(model, json);
}

TEST(BertConformance, TinyBgeQ8_0MatchesLlamaCpp) {
  XNAI_SKIP_IF_MISSING(json, "llm/reference/tiny-bert-bge-q8_0.embeddings.json");
  // The reference JSON is stored but the Q8_0 model file is not (testdata/README.md).
  XNAI_SKIP_IF_MISSING(model, "llm/tiny-bert-bge-q8_0.gguf");
  check_model(model, json);
}

class BertEmbedderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = test::testdata_file("llm/tiny-bert-bge-f16.gguf");
    if (path_.empty() || test::testdata_file("llm/reference/tiny-bert-bge-f16.embeddings.json").empty())
      GTEST_SKIP() << "conformance data missing: " << (test::testdata_dir() / "llm/tiny-bert-bge-f16.gguf")
                   << " (set XNAI_TESTDATA to ../shared/testdata)";
  }
  std::filesystem::path path_;
};

void expect_same_vectors(const std::vector<float>& a, const std::vector<float>& b, double tol,
                         const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  EXPECT_LE(max_abs_diff(a, b), tol) << what;
}

TEST_F(BertEmbedderTest, BatchEqualsAloneAndKeepsOrder) {
  auto e = runtime::BertEmbedder::load(path_.string());
  const auto texts = reference_texts();
  const auto batched = e->embed(texts);
  ASSERT_EQ(batched.size(), texts.size());
  for (size_t i = 0; i < texts.size(); ++i)
    expect_same_vectors(batched[i], e->embed({texts[i]})[0], 1e-5, "sentence " + std::to_string(i));

  // Reversed input gives the same vectors in reversed order.
  const std::vector<std::string> rev(texts.rbegin(), texts.rend());
  const auto reversed = e->embed(rev);
  for (size_t i = 0; i < texts.size(); ++i)
    expect_same_vectors(reversed[texts.size() - 1 - i], batched[i], 1e-5, "reversed " + std::to_string(i));

  // Repeats within one batch are identical and do not disturb their neighbours.
  const auto twice = e->embed({texts[0], texts[1], texts[0]});
  expect_same_vectors(twice[0], twice[2], 1e-5, "repeat");
  expect_same_vectors(twice[1], batched[1], 1e-5, "neighbour");
}

TEST_F(BertEmbedderTest, SmallBatchesSplitIntoSeveralPasses) {
  runtime::BertEmbedderOptions o;
  o.max_tokens = 20;
  o.batch_tokens = 20;  // every sentence (12–19 tokens) needs its own pass
  auto small = runtime::BertEmbedder::load(path_.string(), o);
  auto big = runtime::BertEmbedder::load(path_.string());
  const auto texts = reference_texts();
  const auto a = small->embed(texts), b = big->embed(texts);
  ASSERT_EQ(a.size(), texts.size());
  for (size_t i = 0; i < texts.size(); ++i)
    expect_same_vectors(a[i], b[i], 1e-5, "sentence " + std::to_string(i));
}

TEST_F(BertEmbedderTest, TruncatesKeepingSep) {
  auto e = runtime::BertEmbedder::load(path_.string());
  const text::Tokenizer& tok = e->model().tokenizer();
  EXPECT_EQ(e->max_tokens(), 512);  // bert.context_length
  std::string long_text;
  for (int i = 0; i < 700; ++i) long_text += "word" + std::to_string(i % 10) + " ";
  const auto full = tok.encode(long_text, true);
  ASSERT_GT(full.size(), 512u);
  EXPECT_EQ(e->count_tokens(long_text), static_cast<int>(full.size()));
  const auto cut = e->tokenize(long_text);
  ASSERT_EQ(cut.size(), 512u);
  EXPECT_EQ(cut.front(), 101);  // [CLS]
  EXPECT_EQ(cut.back(), 102);   // [SEP]
  EXPECT_TRUE(std::equal(cut.begin(), cut.end() - 1, full.begin()));
  const auto v = e->embed({long_text, "short"});
  ASSERT_EQ(v.size(), 2u);
  EXPECT_NEAR(norm(v[0]), 1.0, 1e-6);
  for (float x : v[0]) ASSERT_TRUE(std::isfinite(x));

  // A smaller limit: the first max-1 tokens and [SEP]; the vector is that sequence's.
  runtime::BertEmbedderOptions o;
  o.max_tokens = 8;
  auto e8 = runtime::BertEmbedder::load(path_.string(), o);
  const std::string text = reference_texts()[0];
  const auto ids = tok.encode(text, true);
  std::vector<int32_t> expect(ids.begin(), ids.begin() + 7);
  expect.push_back(102);
  EXPECT_EQ(e8->tokenize(text), expect);
  expect_same_vectors(e8->embed({text})[0], e->embed_tokens({expect})[0], 1e-5, "truncated");
  EXPECT_THROW(e8->embed_tokens({ids}), Error);  // explicit tokens are not cut silently
}

TEST_F(BertEmbedderTest, EmptyStringEmbedsClsSep) {
  auto e = runtime::BertEmbedder::load(path_.string());
  EXPECT_EQ(e->tokenize(""), (std::vector<int32_t>{101, 102}));
  EXPECT_EQ(e->count_tokens(""), 2);
  const auto v = e->embed({"", "hello"});
  ASSERT_EQ(v.size(), 2u);
  ASSERT_EQ(v[0].size(), 128u);
  for (float x : v[0]) ASSERT_TRUE(std::isfinite(x));
  EXPECT_NEAR(norm(v[0]), 1.0, 1e-6);
  expect_same_vectors(v[0], e->embed_tokens({{101, 102}})[0], 1e-5, "empty");
  EXPECT_TRUE(e->embed({}).empty());
}

TEST_F(BertEmbedderTest, NameDimAndBadTokens) {
  auto e = runtime::BertEmbedder::load(path_.string());
  EXPECT_EQ(e->model_name(), "tiny-bert-bge (random weights, seed 4567)");
  EXPECT_EQ(e->dim(), 128);
  try {
    e->embed_tokens({{101, 30522, 102}});
    FAIL() << "expected an error";
  } catch (const Error& err) {
    EXPECT_EQ(err.kind(), ErrorKind::InvalidArgument);
    EXPECT_NE(std::string(err.what()).find("30522"), std::string::npos) << err.what();
  }
  EXPECT_THROW(e->embed_tokens({{}}), Error);
}

TEST(BertEmbedderErrors, DecoderLlmIsRefusedByArchitecture) {
  XNAI_SKIP_IF_MISSING(llm, "llm/tiny-qwen2-f16.gguf");
  try {
    runtime::BertEmbedder::load(llm.string());
    FAIL() << "expected an error";
  } catch (const Error& err) {
    EXPECT_EQ(err.kind(), ErrorKind::Unsupported);
    const std::string msg = err.what();
    EXPECT_NE(msg.find("'qwen2'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("tiny-qwen2-f16.gguf"), std::string::npos) << msg;
  }
}

// Throughput, run on request only (XNAI_BENCH_EMBED=1): the tiny model and a random model
// with bge-small's shape (384-d, 12 layers, 12 heads, ff 1536, vocab 30522).
double sentences_per_second(runtime::BertEmbedder& e, const std::vector<std::string>& texts, int rounds) {
  e.embed(texts);  // warm-up
  const auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < rounds; ++r) e.embed(texts);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return static_cast<double>(texts.size()) * rounds / s;
}

TEST(BertEmbedderBench, Throughput) {
  if (!std::getenv("XNAI_BENCH_EMBED"))
    GTEST_SKIP() << "set XNAI_BENCH_EMBED=1 to measure embedding throughput";
  XNAI_SKIP_IF_MISSING(tiny, "llm/tiny-bert-bge-f16.gguf");
  // Chunk-like texts of ~60 words (~80 tokens) and the short reference sentences.
  std::vector<std::string> chunks;
  for (int i = 0; i < 64; ++i) {
    std::string t;
    for (int w = 0; w < 60; ++w)
      t += std::string(w % 7 ? "local " : "retrieval ") + "model" + std::to_string((i + w) % 13) + " ";
    chunks.push_back(t);
  }
  std::vector<std::string> sentences;
  for (int i = 0; i < 13; ++i)
    for (const auto& s : reference_texts()) sentences.push_back(s);

  auto e = runtime::BertEmbedder::load(tiny.string());
  int chunk_tokens = 0;
  for (const auto& c : chunks) chunk_tokens += e->count_tokens(c);
  std::printf(
      "[ measured ] tiny-bert-bge-f16: %.0f sentences/s (≈15 tokens), %.0f chunks/s (%d tokens avg)\n",
      sentences_per_second(*e, sentences, 20), sentences_per_second(*e, chunks, 5),
      chunk_tokens / static_cast<int>(chunks.size()));

  const auto path = std::filesystem::temp_directory_path() /
                    ("xnai-bge-small-synth-" + std::to_string(::getpid()) + ".gguf");
  models::SyntheticBertShape shape;  // bge-small-en-v1.5
  shape.vocab_from = tiny.string();
  models::write_synthetic_bert(shape, path.string());
  auto big = runtime::BertEmbedder::load(path.string());
  std::printf(
      "[ measured ] bge-small-shaped F16 (%s): %.1f sentences/s (≈15 tokens), %.1f chunks/s (%d tokens "
      "avg)\n",
      big->model().backend().name().c_str(), sentences_per_second(*big, sentences, 3),
      sentences_per_second(*big, chunks, 1), chunk_tokens / static_cast<int>(chunks.size()));
  big.reset();
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace xnai
