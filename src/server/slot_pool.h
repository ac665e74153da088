// Generation slots: `parallel` Generators (each its own KV cache and cached prompt prefix)
// over one loaded model, a bounded wait queue in front of them, and one continuous-batching
// decoder (runtime/batch_decoder.h) that all slots' generators run their forward passes
// through: the next token of every running stream is computed in one batched step, new
// requests join between steps, and a stream that ends (or whose client went away) frees
// its slot at once.
//
// Thread-safety: all members may be called from any thread; a Lease belongs to one thread.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "runtime/batch_decoder.h"
#include "runtime/generator.h"

namespace xnai::server {

class SlotPool;

struct Slot {
  explicit Slot(const models::LlmModel& model, const runtime::ContextOptions& opts) : generator(model, opts) {}
  runtime::Generator generator;
  bool busy = false;                 // guarded by SlotPool::mu_
  std::atomic<int64_t> kv_used{0};  // n_past, published by the owning thread
};

using TextCallback = std::function<bool(std::string_view)>;

// The right to use one slot; returned to the pool when destroyed.
class Lease {
 public:
  Lease(SlotPool* pool, Slot* slot) : pool_(pool), slot_(slot) {}
  ~Lease();
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

  // Runs `body` with the slot's generator; the callback it is given wraps on_text (which
  // may block on a slow client: the other streams go on without this one meanwhile).
  // on_text returning false (or throwing) stops the generation. Errors of body propagate.
  void run(const std::function<void(runtime::Generator&, const TextCallback&)>& body, const TextCallback& on_text);
  runtime::GenerateResult generate(const std::vector<int32_t>& prompt, const runtime::GenerateOptions& opts,
                                   const TextCallback& on_text);
  int64_t n_ctx() const { return slot_->generator.context().n_ctx(); }

 private:
  SlotPool* pool_;
  Slot* slot_;
};

enum class AcquireStatus { Ok, QueueFull, TimedOut };

class SlotPool {
 public:
  // Throws Error(InvalidArgument) when parallel < 1 or queue < 0; allocates every KV cache now.
  SlotPool(const models::LlmModel& model, const runtime::ContextOptions& ctx, int parallel, int queue,
           const runtime::BatchDecoderOptions& batching = {});

  // A free slot — preferring the one whose cached tokens share the longest prefix with
  // `prompt` (a chat's next turn then re-uses its cache) — waiting in the queue up to
  // `deadline` when all are busy. QueueFull at once when `queue` requests already wait.
  AcquireStatus acquire(const std::vector<int32_t>& prompt, std::chrono::steady_clock::time_point deadline,
                        std::unique_ptr<Lease>& out);

  int slots() const { return static_cast<int>(slots_.size()); }
  int64_t n_ctx() const { return slots_.front()->generator.context().n_ctx(); }  // per slot
  int active() const;
  int waiting() const;
  int64_t kv_cells_used() const;
  int64_t kv_cells_total() const;
  runtime::BatchStats batch_stats() const { return decoder_->stats(); }

 private:
  friend class Lease;
  void release(Slot* slot);

  // Declared first so it outlives the generators that run through it.
  std::unique_ptr<runtime::BatchDecoder> decoder_;
  std::vector<std::unique_ptr<Slot>> slots_;
  int max_waiting_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int waiting_ = 0;
  int active_ = 0;
};

}  // namespace xnai::server
