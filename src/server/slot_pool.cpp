#include "server/slot_pool.h"

#include <algorithm>

#include "core/error.h"

namespace xnai::server {

void TurnLock::lock() {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t ticket = next_++;
  cv_.wait(lock, [&] { return serving_ == ticket; });
}

void TurnLock::unlock() {
  std::lock_guard<std::mutex> lock(mu_);
  ++serving_;
  cv_.notify_all();
}

Lease::~Lease() { pool_->release(slot_); }

void Lease::run(const std::function<void(runtime::Generator&, const TextCallback&)>& body,
                const TextCallback& on_text) {
  auto& gen = slot_->generator;
  TurnLock& turn = pool_->turn_;
  turn.lock();
  bool held = true;
  const TextCallback wrapped = [&](std::string_view piece) {
    slot_->kv_used.store(gen.context().n_past(), std::memory_order_relaxed);
    turn.unlock();
    held = false;
    bool go = false;
    try {
      go = on_text ? on_text(piece) : true;
    } catch (...) {
      go = false;
    }
    turn.lock();
    held = true;
    return go;
  };
  try {
    body(gen, wrapped);
  } catch (...) {
    slot_->kv_used.store(gen.context().n_past(), std::memory_order_relaxed);
    if (held) turn.unlock();
    throw;
  }
  slot_->kv_used.store(gen.context().n_past(), std::memory_order_relaxed);
  if (held) turn.unlock();
}

runtime::GenerateResult Lease::generate(const std::vector<int32_t>& prompt, const runtime::GenerateOptions& opts,
                                        const TextCallback& on_text) {
  runtime::GenerateResult r;
  run([&](runtime::Generator& g, const TextCallback& cb) { r = g.generate(prompt, opts, cb); }, on_text);
  return r;
}

SlotPool::SlotPool(const models::LlmModel& model, const runtime::ContextOptions& ctx, int parallel, int queue)
    : max_waiting_(queue) {
  if (parallel < 1 || parallel > 256)
    throw Error(ErrorKind::InvalidArgument, "--parallel must be between 1 and 256, got " + std::to_string(parallel));
  if (queue < 0) throw Error(ErrorKind::InvalidArgument, "--queue must not be negative, got " + std::to_string(queue));
  for (int i = 0; i < parallel; ++i) slots_.push_back(std::make_unique<Slot>(model, ctx));
}

AcquireStatus SlotPool::acquire(const std::vector<int32_t>& prompt, std::chrono::steady_clock::time_point deadline,
                                std::unique_ptr<Lease>& out) {
  std::unique_lock<std::mutex> lock(mu_);
  auto pick = [&]() -> Slot* {
    Slot* best = nullptr;
    size_t best_common = 0;
    for (auto& s : slots_) {
      if (s->busy) continue;
      const auto& cached = s->generator.cached_tokens();
      size_t common = 0;
      while (common < cached.size() && common < prompt.size() && cached[common] == prompt[common]) ++common;
      if (!best || common > best_common) best = s.get(), best_common = common;
    }
    return best;
  };
  Slot* slot = waiting_ == 0 ? pick() : nullptr;  // no overtaking the queue
  if (!slot) {
    if (waiting_ >= max_waiting_) return AcquireStatus::QueueFull;
    ++waiting_;
    const bool got = cv_.wait_until(lock, deadline, [&] { return (slot = pick()) != nullptr; });
    --waiting_;
    if (!got) {
      cv_.notify_all();
      return AcquireStatus::TimedOut;
    }
  }
  slot->busy = true;
  ++active_;
  out = std::make_unique<Lease>(this, slot);
  return AcquireStatus::Ok;
}

void SlotPool::release(Slot* slot) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    slot->busy = false;
    --active_;
  }
  cv_.notify_all();
}

int SlotPool::active() const {
  std::lock_guard<std::mutex> lock(mu_);
  return active_;
}

int SlotPool::waiting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return waiting_;
}

int64_t SlotPool::kv_cells_used() const {
  int64_t n = 0;
  for (const auto& s : slots_) n += s->kv_used.load(std::memory_order_relaxed);
  return n;
}

int64_t SlotPool::kv_cells_total() const {
  int64_t n = 0;
  for (const auto& s : slots_) n += s->generator.context().n_ctx();
  return n;
}

}  // namespace xnai::server
