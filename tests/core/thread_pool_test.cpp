#include "core/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <vector>

namespace {

TEST(ThreadPool, EveryThreadRunsEachJobOnce) {
  for (int n : {1, 2, 3, 5}) {
    xnai::ThreadPool pool(n);
    EXPECT_EQ(pool.size(), n);
    for (int rep = 0; rep < 200; ++rep) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      pool.run([&](int ith, int nth) {
        EXPECT_EQ(nth, n);
        hits[static_cast<size_t>(ith)].fetch_add(1);
      });
      for (auto& h : hits) ASSERT_EQ(h.load(), 1);
    }
  }
}

TEST(ThreadPool, SplitCoversTheRangeExactlyOnce) {
  for (int64_t n : {0, 1, 7, 64, 1001}) {
    for (int nth : {1, 2, 3, 8}) {
      int64_t expect_begin = 0;
      for (int ith = 0; ith < nth; ++ith) {
        auto [b, e] = xnai::ThreadPool::split(n, ith, nth);
        EXPECT_EQ(b, expect_begin);
        EXPECT_LE(b, e);
        expect_begin = e;
      }
      EXPECT_EQ(expect_begin, n);
    }
  }
}

TEST(ThreadPool, ResultsOfAParallelSumAreVisibleAfterRun) {
  xnai::ThreadPool pool(3);
  std::vector<int64_t> data(100000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<int64_t>(i);
  std::vector<int64_t> partial(3, 0);
  pool.run([&](int ith, int nth) {
    auto [b, e] = xnai::ThreadPool::split(static_cast<int64_t>(data.size()), ith, nth);
    for (int64_t i = b; i < e; ++i) partial[static_cast<size_t>(ith)] += data[static_cast<size_t>(i)];
  });
  EXPECT_EQ(partial[0] + partial[1] + partial[2], 99999LL * 100000 / 2);
}

TEST(ThreadPool, DefaultThreadCountHonoursEnv) {
  setenv("N_THREADS", "3", 1);
  EXPECT_EQ(xnai::default_thread_count(), 3);
  unsetenv("N_THREADS");
  EXPECT_GE(xnai::default_thread_count(), 1);
}

}  // namespace
