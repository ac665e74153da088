// Continuous batching: one batched decode step of several sequences must give each of them
// the logits it gets alone (bit for bit with quantized weights, whose matmul sums each
// output in one order at every batch size; within float rounding otherwise), and the
// BatchDecoder must merge concurrent generators' steps without changing their text.
#include "runtime/batch_decoder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <thread>

#include "compute/backend.h"
#include "core/error.h"
#include "runtime/generator.h"
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

const std::vector<std::string> kPrompts = {
    "The quick brown fox", "Once upon a time, in a land far away, there lived", "1, 2, 3,",
    "int main() { return"};

int32_t argmax(std::span<const float> v) {
  return static_cast<int32_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

class BatchedDecode : public ::testing::TestWithParam<std::string> {};

TEST_P(BatchedDecode, EverySequenceGetsTheLogitsItGetsAlone) {
  XNAI_SKIP_IF_MISSING(path, "llm/" + GetParam());
  auto l = load(path);
  const bool quantized = GetParam().find("q4") != std::string::npos || GetParam().find("q8") != std::string::npos;
  const size_t n = kPrompts.size();
  ContextOptions co;
  co.n_ctx = 128;
  std::vector<std::unique_ptr<LlmContext>> alone, batched;
  std::vector<int32_t> next(n);
  for (size_t i = 0; i < n; ++i) {
    const auto ids = l.model->tokenizer().encode(kPrompts[i], true);
    alone.push_back(std::make_unique<LlmContext>(*l.model, co));
    batched.push_back(std::make_unique<LlmContext>(*l.model, co));
    next[i] = argmax(alone[i]->decode(ids));
    batched[i]->decode(ids);
  }
  std::vector<LlmContext*> ptrs;
  for (auto& c : batched) ptrs.push_back(c.get());
  for (int step = 0; step < 8; ++step) {
    LlmContext::decode_batch(ptrs, next);
    for (size_t i = 0; i < n; ++i) {
      const std::vector<float> want(alone[i]->decode(std::span<const int32_t>(&next[i], 1)).begin(),
                                    alone[i]->last_logits().end());
      const auto got = batched[i]->last_logits();
      ASSERT_EQ(got.size(), want.size());
      ASSERT_EQ(batched[i]->n_past(), alone[i]->n_past());
      float max_diff = 0, max_abs = 0;
      for (size_t j = 0; j < want.size(); ++j) {
        max_diff = std::max(max_diff, std::fabs(got[j] - want[j]));
        max_abs = std::max(max_abs, std::fabs(want[j]));
      }
      // Float matmuls sum a batch in the tiled kernel's order, a single token in the row
      // kernel's: the last bit of a hidden value may differ, and where ggml-style F16
      // rounding of the activations follows (F16 weights) that can move one value by an F16
      // step (~1e-3 relative). Quantized weights are summed in one order at every batch size.
      if (quantized)
        ASSERT_EQ(max_diff, 0.0f) << "sequence " << i << " step " << step;
      else
        ASSERT_LE(max_diff, 1e-3f * std::max(1.0f, max_abs)) << "sequence " << i << " step " << step;
      ASSERT_EQ(argmax(got), argmax(want)) << "sequence " << i << " step " << step;
      next[i] = argmax(want);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(TinyModels, BatchedDecode,
                         ::testing::Values("tiny-llama-spm-f32.gguf", "tiny-llama-spm-q8_0.gguf",
                                           "tiny-llama-spm-q4_0-pure.gguf", "tiny-llama-spm-q4_k_m.gguf",
                                           "tiny-qwen2-f16.gguf", "tiny-qwen3-mixed.gguf",
                                           "tiny-llama-bpe-f16.gguf"),
                         [](const auto& info) {
                           std::string s = info.param.substr(0, info.param.size() - 5);
                           std::replace_if(s.begin(), s.end(), [](char c) { return !std::isalnum(c); }, '_');
                           return s;
                         });

TEST(BatchedDecodeErrors, BadBatchesChangeNoContext) {
  XNAI_SKIP_IF_MISSING(path, "llm/tiny-llama-spm-q8_0.gguf");
  auto l = load(path);
  ContextOptions co;
  co.n_ctx = 4;
  LlmContext a(*l.model, co), b(*l.model, co);
  const int32_t three[3] = {1, 2, 3};
  a.decode(three);
  b.decode(std::span<const int32_t>(three, 3));
  b.decode(std::span<const int32_t>(three, 1));  // b is full now
  std::vector<LlmContext*> both{&a, &b}, twice{&a, &a};
  const std::vector<int32_t> ok{5, 6};
  try {
    LlmContext::decode_batch(both, ok);
    FAIL() << "a full context must be refused";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::ContextFull);
  }
  EXPECT_EQ(a.n_past(), 3);
  EXPECT_EQ(b.n_past(), 4);
  EXPECT_THROW(LlmContext::decode_batch(twice, ok), Error);
  const std::vector<int32_t> bad{5, static_cast<int32_t>(a.n_vocab())};
  std::vector<LlmContext*> one_each{&a};
  EXPECT_THROW(LlmContext::decode_batch(one_each, std::span<const int32_t>(bad).subspan(1)), Error);
  EXPECT_EQ(a.n_past(), 3);
}

GenerateOptions greedy(int n) {
  GenerateOptions o;
  o.max_tokens = n;
  o.sampling.temperature = 0.0f;
  o.ignore_eog = true;
  return o;
}

TEST(BatchDecoder, ConcurrentGeneratorsWriteTheTextTheyWriteAloneInSharedSteps) {
  XNAI_SKIP_IF_MISSING(path, "llm/tiny-llama-spm-q8_0.gguf");
  auto l = load(path);
  ContextOptions co;
  co.n_ctx = 256;
  const int n_tok = 40;
  std::vector<std::string> want;
  for (const auto& p : kPrompts) {
    Generator g(*l.model, co);
    want.push_back(g.generate(l.model->tokenizer().encode(p, true), greedy(n_tok), nullptr).text);
  }
  BatchDecoderOptions bo;
  bo.prefill_chunk = 3;  // prompts are prefilled over several turns, between the others' steps
  BatchDecoder decoder(bo);
  std::vector<std::string> got(kPrompts.size());
  std::vector<int> generated(kPrompts.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < kPrompts.size(); ++i)
    threads.emplace_back([&, i] {
      Generator g(*l.model, co);
      g.set_scheduler(&decoder);
      const auto r = g.generate(l.model->tokenizer().encode(kPrompts[i], true), greedy(n_tok), nullptr);
      got[i] = r.text;
      generated[i] = r.n_generated;
    });
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < kPrompts.size(); ++i) {
    EXPECT_EQ(got[i], want[i]) << "prompt " << i;
    EXPECT_EQ(generated[i], n_tok);
  }
  const BatchStats s = decoder.stats();
  EXPECT_EQ(s.running, 0);
  // Every sampled token but the last of each stream is decoded by a step.
  EXPECT_EQ(s.tokens, static_cast<uint64_t>(kPrompts.size() * (n_tok - 1)));
  EXPECT_GE(s.max_batch, 2) << "the streams never shared a step";
  EXPECT_LT(s.steps, s.tokens) << "no step decoded more than one token";
  EXPECT_GT(s.prefill_chunks, kPrompts.size());
}

TEST(BatchDecoder, AStreamThatStopsEarlyLeavesTheOthersRunning) {
  XNAI_SKIP_IF_MISSING(path, "llm/tiny-llama-spm-q4_0-pure.gguf");
  auto l = load(path);
  ContextOptions co;
  co.n_ctx = 128;
  Generator alone(*l.model, co);
  const auto ids = l.model->tokenizer().encode(kPrompts[1], true);
  const std::string want = alone.generate(ids, greedy(30), nullptr).text;

  BatchDecoder decoder;
  GenerateResult quitter, stayer;
  std::thread t1([&] {
    Generator g(*l.model, co);
    g.set_scheduler(&decoder);
    int calls = 0;
    GenerateOptions o = greedy(30);
    o.keep_going = [&] { return ++calls < 3; };  // the client goes away after 3 tokens
    quitter = g.generate(ids, o, nullptr);
  });
  std::thread t2([&] {
    Generator g(*l.model, co);
    g.set_scheduler(&decoder);
    stayer = g.generate(ids, greedy(30), nullptr);
  });
  t1.join();
  t2.join();
  EXPECT_EQ(quitter.finish_reason, "cancelled");
  EXPECT_EQ(quitter.n_generated, 3);
  EXPECT_EQ(stayer.text, want);
  EXPECT_EQ(stayer.finish_reason, "length");
  EXPECT_EQ(decoder.stats().running, 0);
}

TEST(BatchDecoder, ErrorsReachTheCallerAndTheDecoderGoesOn) {
  XNAI_SKIP_IF_MISSING(path, "llm/tiny-llama-spm-q8_0.gguf");
  auto l = load(path);
  ContextOptions co;
  co.n_ctx = 8;
  BatchDecoder decoder;
  LlmContext full(*l.model, co);
  const std::vector<int32_t> eight{1, 2, 3, 4, 5, 6, 7, 8};
  decoder.prefill(full, eight);
  EXPECT_THROW(decoder.step(full, 9), Error);
  EXPECT_THROW(decoder.prefill(full, eight), Error);
  LlmContext fresh(*l.model, co);
  const auto logits = decoder.prefill(fresh, std::span<const int32_t>(eight).first(4));
  EXPECT_EQ(logits.size(), static_cast<size_t>(fresh.n_vocab()));
  EXPECT_EQ(fresh.n_past(), 4);
}

}  // namespace
}  // namespace xnai::runtime
