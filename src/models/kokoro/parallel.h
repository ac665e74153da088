// Optional data parallelism for the big Kokoro layers. A synthesis installs the model's
// thread pool for its own thread (PoolScope); the layers split their output channels
// with parallel_for. Without a pool (a second concurrent synthesis, or tests calling a
// layer directly) everything runs on the calling thread. Splitting by output channel
// keeps every element's summation order, so results do not depend on the thread count.
#pragma once
#include <cstdint>
#include <functional>

namespace xnai {
class ThreadPool;
}

namespace xnai::models::kokoro {

class PoolScope {
 public:
  explicit PoolScope(ThreadPool* pool);
  ~PoolScope();
  PoolScope(const PoolScope&) = delete;
  PoolScope& operator=(const PoolScope&) = delete;

 private:
  ThreadPool* previous_;
};

// The pool installed for this thread, or nullptr.
ThreadPool* current_pool();

// Runs fn(begin, end) over a split of [0, n); serial when `work` (multiply-adds) is small.
void parallel_for(int64_t n, double work, const std::function<void(int64_t, int64_t)>& fn);
// The same with [0, n) handed out in chunks of `chunk` to whichever thread is free (for
// loops whose pieces are independent, so a thread slowed by another process does not hold
// the others up). fn must not depend on which thread runs a chunk.
void parallel_for_dynamic(int64_t n, int64_t chunk, double work,
                          const std::function<void(int64_t, int64_t)>& fn);

// fn(p, n) over consecutive pieces of data[0, size), split over the pool when the array is
// long: for elementwise passes, which are memory-bound (a serial pass over a long stage-2
// activation leaves the other cores waiting for milliseconds).
void for_each_span(float* data, int64_t size, const std::function<void(float*, int64_t)>& fn);

}  // namespace xnai::models::kokoro
