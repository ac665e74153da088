// The generation loop end to end on the tiny conformance models: our tokenizer + model +
// greedy sampling must reproduce llama.cpp's greedy continuation, and the loop's own rules
// (stop strings, max tokens, seeds, context limit, prefix reuse) must hold.
#include "runtime/generator.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "compute/backend.h"
#include "core/error.h"
#include "test_support.h"
#include "text/tokenizer.h"

namespace xnai::runtime {
namespace {

struct Loaded {
  std::unique_ptr<compute::Backend> backend;
  std::unique_ptr<models::LlmModel> model;
};

Loaded load(const std::filesystem::path& p) {
  Loaded l;
  l.backend = compute::make_cpu_backend({});
  l.model = models::LlmModel::load(p.string(), *l.backend);
  return l;
}

nlohmann::json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

GenerateOptions greedy(int n) {
  GenerateOptions o;
  o.max_tokens = n;
  o.sampling.temperature = 0.0f;
  o.ignore_eog = true;
  return o;
}

TEST(Generator, GreedyTextMatchesLlamaCppFromOurOwnTokenization) {
  XNAI_SKIP_IF_MISSING(model_path, "llm/tiny-llama-spm-f32.gguf");
  XNAI_SKIP_IF_MISSING(ref_path, "llm/reference/tiny-llama-spm-f32.kvf32.english.json");
  const auto ref = read_json(ref_path);
  auto l = load(model_path);
  const auto prompt = l.model->tokenizer().encode(ref["prompt"].get<std::string>(), true);
  ASSERT_EQ(prompt, ref["tokens"].get<std::vector<int32_t>>());
  ContextOptions co;
  co.kv_type = DType::F32;
  Generator g(*l.model, co);
  // The first greedy steps are far from ties in this reference; later ones may flip on
  // 1-ulp differences (teacher-forced comparisons live in the conformance tests).
  const auto want = ref["greedy"]["tokens"].get<std::vector<int32_t>>();
  std::string want_text;
  for (int i = 0; i < 8; ++i) want_text += l.model->tokenizer().token_to_piece(want[static_cast<size_t>(i)], false);
  const auto r = g.generate(prompt, greedy(8), nullptr);
  EXPECT_EQ(r.n_generated, 8);
  EXPECT_EQ(r.finish_reason, "length");
  EXPECT_EQ(r.text, want_text);
}

TEST(Generator, SameSeedSameTextAndCallbackSeesEverything) {
  XNAI_SKIP_IF_MISSING(model_path, "llm/tiny-qwen2-f16.gguf");
  auto l = load(model_path);
  const auto prompt = l.model->tokenizer().encode("Once upon a time", true);
  GenerateOptions o;
  o.max_tokens = 20;
  o.sampling.seed = 1234;
  o.sampling.temperature = 1.0f;
  o.ignore_eog = true;
  Generator g1(*l.model), g2(*l.model);
  std::string streamed;
  const auto a = g1.generate(prompt, o, [&](std::string_view s) {
    streamed += s;
    return true;
  });
  const auto b = g2.generate(prompt, o, nullptr);
  EXPECT_EQ(a.text, b.text);
  EXPECT_EQ(a.text, streamed);
  EXPECT_EQ(a.seed, 1234u);
  o.sampling.seed = 99;
  const auto c = g2.generate(prompt, o, nullptr);
  EXPECT_NE(a.text, c.text);  // 20 tokens at temperature 1 over 151k tokens: a collision is negligible
}

TEST(Generator, StopStringEndsTheTextBeforeIt) {
  XNAI_SKIP_IF_MISSING(model_path, "llm/tiny-qwen2-f16.gguf");
  auto l = load(model_path);
  const auto prompt = l.model->tokenizer().encode("The capital of France is", true);
  Generator g(*l.model);
  const auto full = g.generate(prompt, greedy(16), nullptr);
  ASSERT_GE(full.text.size(), 8u);
  // Stop on a piece of the greedy text that starts after its first 3 bytes.
  const std::string stop = full.text.substr(3, 4);
  auto o = greedy(16);
  o.stop = {stop};
  const auto r = g.generate(prompt, o, nullptr);
  EXPECT_EQ(r.finish_reason, "stop");
  EXPECT_EQ(r.text, full.text.substr(0, full.text.find(stop)));
  EXPECT_LT(r.n_generated, 16);
}

TEST(Generator, ReusesTheCachedPrefixWithIdenticalResults) {
  XNAI_SKIP_IF_MISSING(model_path, "llm/tiny-llama-bpe-f16.gguf");
  auto l = load(model_path);
  const auto& tok = l.model->tokenizer();
  const auto p1 = tok.encode("A long shared prefix about cats and dogs.", true);
  auto p2 = p1;
  const auto tail = tok.encode(" And then birds.", false);
  p2.insert(p2.end(), tail.begin(), tail.end());

  Generator warm(*l.model);
  warm.generate(p1, greedy(4), nullptr);
  const auto reused = warm.generate(p2, greedy(6), nullptr);
  EXPECT_EQ(reused.n_prompt_reused, static_cast<int>(p1.size()));
  Generator cold(*l.model);
  const auto fresh = cold.generate(p2, greedy(6), nullptr);
  EXPECT_EQ(fresh.n_prompt_reused, 0);
  EXPECT_EQ(reused.text, fresh.text);
}

TEST(Generator, PromptLargerThanContextIsAClearError) {
  XNAI_SKIP_IF_MISSING(model_path, "llm/tiny-qwen2-f16.gguf");
  auto l = load(model_path);
  ContextOptions co;
  co.n_ctx = 16;
  Generator g(*l.model, co);
  std::vector<int32_t> prompt(40, 100);
  try {
    g.generate(prompt, greedy(4), nullptr);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::ContextFull);
    EXPECT_NE(std::string(e.what()).find("40 tokens"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("16"), std::string::npos) << e.what();
  }
  // Generation that runs into the end of the context stops and says so.
  std::vector<int32_t> short_prompt(10, 100);
  const auto r = g.generate(short_prompt, greedy(100), nullptr);
  EXPECT_EQ(r.finish_reason, "context_full");
  EXPECT_LE(r.n_generated, 7);
}

TEST(Generator, CancelFromTheCallbackStops) {
  XNAI_SKIP_IF_MISSING(model_path, "llm/tiny-qwen2-f16.gguf");
  auto l = load(model_path);
  Generator g(*l.model);
  int calls = 0;
  const auto r = g.generate(l.model->tokenizer().encode("Hello", true), greedy(50), [&](std::string_view) {
    return ++calls < 3;
  });
  EXPECT_EQ(r.finish_reason, "cancelled");
  EXPECT_EQ(calls, 3);
}

}  // namespace
}  // namespace xnai::runtime
