// How a Generator runs its forward passes. Without a scheduler it decodes on its own
// thread; a server gives every generation slot the same scheduler (runtime/batch_decoder.h)
// so that the single-token steps of all running streams are merged into one batched
// forward while each stream keeps its own sampling loop on its own thread.
#pragma once
#include <cstdint>
#include <span>

namespace xnai::runtime {

class LlmContext;

class DecodeScheduler {
 public:
  virtual ~DecodeScheduler() = default;
  // Appends tokens (all of one prompt, or its uncached tail) to ctx and returns the logits
  // of the last one, as LlmContext::decode. Errors of the forward pass propagate.
  virtual std::span<const float> prefill(LlmContext& ctx, std::span<const int32_t> tokens) = 0;
  // Appends one sampled token to ctx and returns its logits (valid until ctx's next decode).
  virtual std::span<const float> step(LlmContext& ctx, int32_t token) = 0;
  // A stream enters / leaves its token loop. Between the two, the scheduler may wait a
  // moment for its next step() so that the step joins the others in one batch.
  virtual void stream_begin() = 0;
  virtual void stream_end() = 0;
};

}  // namespace xnai::runtime
