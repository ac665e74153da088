#include "models/kokoro/parallel.h"

#include <algorithm>
#include <atomic>

#include "core/thread_pool.h"

namespace xnai::models::kokoro {
namespace {
thread_local ThreadPool* t_pool = nullptr;
// Multiply-add units (~10 us serial). The workers spin for milliseconds between jobs, so a
// job reaches them in well under a microsecond; below this the split costs more than it saves.
constexpr double kMinParallelWork = 5e5;
}  // namespace

PoolScope::PoolScope(ThreadPool* pool) : previous_(t_pool) { t_pool = pool; }
PoolScope::~PoolScope() { t_pool = previous_; }
ThreadPool* current_pool() { return t_pool; }

void parallel_for(int64_t n, double work, const std::function<void(int64_t, int64_t)>& fn) {
  ThreadPool* pool = t_pool;
  if (!pool || pool->size() <= 1 || n < 2 || work < kMinParallelWork) {
    fn(0, n);
    return;
  }
  pool->run([&](int ith, int nth) {
    const auto [b, e] = ThreadPool::split(n, ith, nth);
    if (b < e) fn(b, e);
  });
}

void parallel_for_dynamic(int64_t n, int64_t chunk, double work,
                          const std::function<void(int64_t, int64_t)>& fn) {
  ThreadPool* pool = t_pool;
  chunk = std::max<int64_t>(chunk, 1);
  if (!pool || pool->size() <= 1 || n <= chunk || work < kMinParallelWork) {
    fn(0, n);
    return;
  }
  std::atomic<int64_t> next{0};
  pool->run([&](int, int) {
    for (int64_t b; (b = next.fetch_add(chunk, std::memory_order_relaxed)) < n;)
      fn(b, std::min(n, b + chunk));
  });
}

void for_each_span(float* data, int64_t size, const std::function<void(float*, int64_t)>& fn) {
  constexpr int64_t kPiece = 1 << 14;  // floats: 64 KiB, a few microseconds of work
  // A streaming pass costs about as much per float as a few dozen multiply-adds in cache.
  parallel_for_dynamic((size + kPiece - 1) / kPiece, 4, 32.0 * double(size), [&](int64_t b, int64_t e) {
    const int64_t lo = b * kPiece, hi = std::min(size, e * kPiece);
    fn(data + lo, hi - lo);
  });
}

}  // namespace xnai::models::kokoro
