// One LLM sequence: a KV cache plus the bookkeeping to append tokens and read logits.
// Long inputs are split into batches of n_batch tokens; all memory is allocated when the
// context is created, so decoding allocates nothing (except the n_tokens × n_vocab result
// of an all_logits call).
//
// Thread-safety: a context is used by one thread at a time, and contexts sharing a model
// (hence a backend) must not decode at the same time.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "core/dtype.h"
#include "models/llm/llm.h"

namespace xnai::runtime {

struct ContextOptions {
  int64_t n_ctx = 0;           // 0 = the model's context_length, capped at kDefaultMaxContext
  DType kv_type = DType::F16;  // F16 (llama.cpp's default) or F32
  int64_t n_batch = 512;       // most tokens per forward pass
};

inline constexpr int64_t kDefaultMaxContext = 4096;

class LlmContext {
 public:
  // Throws Error(InvalidArgument) for a bad kv_type or sizes.
  explicit LlmContext(const models::LlmModel& model, const ContextOptions& opts = {});

  // Appends `tokens` at n_past() and returns the logits of the last one (n_vocab floats),
  // or with all_logits those of every token (tokens.size() rows of n_vocab). The span is
  // valid until the next decode/reset. Throws Error(InvalidArgument) for an empty input
  // or an id outside [0, n_vocab), Error(ContextFull) when n_past() + tokens.size()
  // exceeds n_ctx(); in both cases the context is unchanged.
  std::span<const float> decode(std::span<const int32_t> tokens, bool all_logits = false);

  // One token for each of several contexts of one model, run as one batched forward
  // (models::LlmModel::forward_batch: the weights are read once for all of them). After it,
  // each context's last_logits() holds its token's logits. Throws as decode() does (and
  // Error(InvalidArgument) for a context given twice, another model, or sizes that differ);
  // on error no context is changed.
  static void decode_batch(std::span<LlmContext* const> ctxs, std::span<const int32_t> tokens);
  // The logits of the last token decoded (not of an all_logits call): n_vocab floats.
  std::span<const float> last_logits() const { return last_logits_; }

  int64_t n_past() const { return n_past_; }
  int64_t n_ctx() const { return ws_.n_ctx(); }
  int64_t n_batch() const { return ws_.n_batch(); }
  int64_t n_vocab() const { return model_->hparams().n_vocab; }
  DType kv_type() const { return ws_.kv_type(); }
  const models::LlmModel& model() const { return *model_; }

  void reset() { n_past_ = 0; }
  // Keeps the first n cached tokens and forgets the rest (re-use of a common prompt
  // prefix). Throws Error(InvalidArgument) when n > n_past() or n < 0.
  void truncate(int64_t n);

 private:
  static int64_t resolve_n_ctx(const models::LlmModel& model, const ContextOptions& opts);
  static int64_t resolve_n_batch(const ContextOptions& opts, int64_t n_ctx);

  const models::LlmModel* model_;
  models::LlmWorkspace ws_;
  int64_t n_past_ = 0;
  std::vector<float> last_logits_;  // n_vocab
  std::vector<float> all_logits_;   // grown on demand by all_logits calls
};

}  // namespace xnai::runtime
