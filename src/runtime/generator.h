// Text generation over one sequence: prompt prefill (in n_batch chunks, reusing the longest
// cached prefix of the previous call, which makes multi-turn chat cheap), then one token at
// a time through the sampler, with stop strings and end-of-generation tokens. Text is handed
// out as it is produced, never splitting a UTF-8 character or a possible stop string.
//
// Context limit: a prompt that does not fit the context is an Error(ContextFull) naming both
// sizes; when generation reaches the end of the context it stops with finish_reason
// "context_full" (no silent context shift).
//
// Ownership: the model must outlive the generator. Not thread-safe: one stream per instance.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/decode_scheduler.h"
#include "runtime/llm_context.h"
#include "runtime/sampler.h"

namespace xnai::runtime {


struct GenerateOptions {
  int max_tokens = 128;     // < 0: until a stop, end-of-generation or the context end
  SamplingParams sampling;
  std::vector<std::string> stop;
  bool ignore_eog = false;  // keep going past end-of-generation tokens (benchmarks)
  // Asked before every token is decoded; false ends the generation ("cancelled") even when
  // no text is due (a server checks its client's connection and deadline here). Null: go on.
  std::function<bool()> keep_going;
};

struct GenerateResult {
  std::string text;           // everything handed to on_text
  int n_prompt = 0;           // prompt tokens
  int n_prompt_reused = 0;    // of which were already in the cache
  int n_generated = 0;        // sampled tokens (including a final end-of-generation token)
  double prompt_ms = 0;       // prefill wall time
  double generate_ms = 0;     // sampling loop wall time
  uint64_t seed = 0;          // the sampler's seed (the random one drawn when none was given)
  std::string finish_reason;  // "stop" (stop string or end-of-generation), "length", "context_full", "cancelled"
};

class Generator {
 public:
  // on_text gets each safe piece of text; returning false cancels the generation.
  using TextCallback = std::function<bool(std::string_view)>;

  explicit Generator(const models::LlmModel& model, const ContextOptions& opts = {});

  GenerateResult generate(const std::vector<int32_t>& prompt, const GenerateOptions& opts,
                          const TextCallback& on_text);

  // Runs the forward passes through `scheduler` (null: directly on the calling thread). The
  // scheduler must outlive the generator's use of it.
  void set_scheduler(DecodeScheduler* scheduler) { scheduler_ = scheduler; }

  // Forgets the cached tokens (the next prompt is decoded from scratch).
  void reset() {
    cached_.clear();
    ctx_.reset();
  }
  const LlmContext& context() const { return ctx_; }
  const std::vector<int32_t>& cached_tokens() const { return cached_; }

 private:
  LlmContext ctx_;
  DecodeScheduler* scheduler_ = nullptr;
  std::vector<int32_t> cached_;  // the tokens whose K/V rows are in ctx_, in order
};

}  // namespace xnai::runtime
