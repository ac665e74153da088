// The slot pool hands out each slot once, queues up to `queue` waiters and refuses the rest.
#include "server/slot_pool.h"

#include "compute/backend.h"
#include "models/llm/llm.h"
#include "test_support.h"

namespace {

TEST(SlotPool, FullQueueIsRefusedAndReleaseFreesTheSlot) {
  XNAI_SKIP_IF_MISSING(path, "llm/tiny-llama-spm-q8_0.gguf");
  auto backend = xnai::compute::make_cpu_backend({});
  auto model = xnai::models::LlmModel::load(path.string(), *backend);
  xnai::server::SlotPool pool(*model, {}, 1, 0);
  const auto soon = std::chrono::steady_clock::now() + std::chrono::milliseconds(50);
  std::unique_ptr<xnai::server::Lease> a, b;
  ASSERT_EQ(pool.acquire({1, 2}, soon, a), xnai::server::AcquireStatus::Ok);
  EXPECT_EQ(pool.active(), 1);
  EXPECT_EQ(pool.acquire({1, 2}, soon, b), xnai::server::AcquireStatus::QueueFull);
  a.reset();
  EXPECT_EQ(pool.active(), 0);
  EXPECT_EQ(pool.acquire({1, 2}, soon, b), xnai::server::AcquireStatus::Ok);
}

TEST(SlotPool, WaiterTimesOutWhenNoSlotFrees) {
  XNAI_SKIP_IF_MISSING(path, "llm/tiny-llama-spm-q8_0.gguf");
  auto backend = xnai::compute::make_cpu_backend({});
  auto model = xnai::models::LlmModel::load(path.string(), *backend);
  xnai::server::SlotPool pool(*model, {}, 1, 1);
  std::unique_ptr<xnai::server::Lease> a, b;
  const auto soon = std::chrono::steady_clock::now() + std::chrono::milliseconds(20);
  ASSERT_EQ(pool.acquire({}, soon, a), xnai::server::AcquireStatus::Ok);
  EXPECT_EQ(pool.acquire({}, soon, b), xnai::server::AcquireStatus::TimedOut);
  EXPECT_EQ(pool.waiting(), 0);
}

}  // namespace
