// A process-lifetime pool of worker threads for compute kernels, in the style of ggml: the
// caller runs a job as thread 0 while n-1 workers run it as threads 1..n-1, and run()
// returns when all are done. Workers spin briefly between jobs (decode issues hundreds
// of small jobs per token) and then sleep, so an idle pool costs no CPU.
//
// Thread-safety: run() may be called from one thread at a time per pool.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace xnai {

class ThreadPool {
 public:
  // job(ith, nth): ith in [0, nth). Must not throw.
  using Job = std::function<void(int ith, int nth)>;

  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }
  void run(const Job& job);

  // Splits [0, n) into nth contiguous ranges; returns thread ith's [begin, end).
  static std::pair<int64_t, int64_t> split(int64_t n, int ith, int nth) {
    const int64_t per = (n + nth - 1) / nth;
    const int64_t b = std::min<int64_t>(n, per * ith);
    return {b, std::min<int64_t>(n, b + per)};
  }

 private:
  void worker_loop(int ith);

  int n_threads_;
  std::vector<std::thread> workers_;
  const Job* job_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
};

// Number of physical cores (SMT siblings counted once): the default thread count, since
// decode is memory-bound and SMT siblings slow it down. Honours env N_THREADS.
int default_thread_count();

}  // namespace xnai
