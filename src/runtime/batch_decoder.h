// Continuous batching for generators that share one model: a scheduler thread owns the
// backend and, step after step, gathers the next token of every running stream into one
// LlmContext::decode_batch (one read of the weights for all of them), then runs one chunk
// of a waiting prompt prefill. New streams join between steps; a stream that stops
// (finished, cancelled, client gone) simply asks for no more steps, so its slot is free
// at once. Every stream keeps its own sampling loop and stop strings on its own thread
// (runtime/generator.h); only the forward passes come here.
//
// Gathering: when fewer steps are waiting than streams are running, the thread waits up
// to `gather` for the rest (they are sampling or writing their last piece) before it runs
// the batch with the ones it has, so one slow client never stalls the others for long.
//
// Thread-safety: prefill/step/stream_* may be called from any number of threads; each
// LlmContext is used by one stream at a time. All contexts must share one model. The
// decoder must outlive every generator given it; destroying it fails waiting calls with
// Error(Internal).
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include "runtime/decode_scheduler.h"
#include "runtime/llm_context.h"

namespace xnai::runtime {

struct BatchDecoderOptions {
  int max_batch = 64;                                // most streams per batched step
  int64_t prefill_chunk = 128;                       // prompt tokens per prefill turn
  std::chrono::microseconds gather{2000};            // wait for streams not yet asking
};

struct BatchStats {
  uint64_t steps = 0;           // batched decode steps run
  uint64_t tokens = 0;          // tokens decoded by them (tokens / steps = mean batch size)
  uint64_t prefill_chunks = 0;  // prompt chunks run
  int max_batch = 0;            // the largest batch so far
  int running = 0;              // streams in their token loop now
};

class BatchDecoder final : public DecodeScheduler {
 public:
  explicit BatchDecoder(const BatchDecoderOptions& opts = {});
  ~BatchDecoder() override;
  BatchDecoder(const BatchDecoder&) = delete;
  BatchDecoder& operator=(const BatchDecoder&) = delete;

  std::span<const float> prefill(LlmContext& ctx, std::span<const int32_t> tokens) override;
  std::span<const float> step(LlmContext& ctx, int32_t token) override;
  void stream_begin() override;
  void stream_end() override;

  BatchStats stats() const;

 private:
  struct Job {
    LlmContext* ctx = nullptr;
    std::span<const int32_t> tokens;  // prefill: the tokens still to run; step: the one token
    std::span<const float> logits;
    std::exception_ptr error;
    bool done = false;
  };
  std::span<const float> submit(Job& job, std::deque<Job*>& queue);
  void loop();
  void run_steps(std::deque<Job*>& batch);
  void run_prefill_chunk(Job& job, bool& finished);

  const BatchDecoderOptions opts_;
  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // the scheduler thread waits here
  std::condition_variable done_cv_;  // callers wait here for their job
  std::deque<Job*> steps_, prefills_;
  int running_ = 0;
  bool stopping_ = false;
  BatchStats stats_;
  std::thread thread_;
};

}  // namespace xnai::runtime
