#include "server/slot_pool.h"

#include <algorithm>

#include "core/error.h"

namespace xnai::server {

Lease::~Lease() { pool_->release(slot_); }

void Lease::run(const std::function<void(runtime::Generator&, const TextCallback&)>& body,
                const TextCallback& on_text) {
  auto& gen = slot_->generator;
  const TextCallback wrapped = [&](std::string_view piece) {
    slot_->kv_used.store(gen.context().n_past(), std::memory_order_relaxed);
    try {
      return on_text ? on_text(piece) : true;
    } catch (...) {
      return false;
    }
  };
  try {
    body(gen, wrapped);
  } catch (...) {
    slot_->kv_used.store(gen.context().n_past(), std::memory_order_relaxed);
    throw;
  }
  slot_->kv_used.store(gen.context().n_past(), std::memory_order_relaxed);
}

runtime::GenerateResult Lease::generate(const std::vector<int32_t>& prompt, const runtime::GenerateOptions& opts,
                                        const TextCallback& on_text) {
  runtime::GenerateResult r;
  run([&](runtime::Generator& g, const TextCallback& cb) { r = g.generate(prompt, opts, cb); }, on_text);
  return r;
}

SlotPool::SlotPool(const models::LlmModel& model, const runtime::ContextOptions& ctx, int parallel, int queue,
                   const runtime::BatchDecoderOptions& batching)
    : max_waiting_(queue) {
  if (parallel < 1 || parallel > 256)
    throw Error(ErrorKind::InvalidArgument, "--parallel must be between 1 and 256, got " + std::to_string(parallel));
  if (queue < 0) throw Error(ErrorKind::InvalidArgument, "--queue must not be negative, got " + std::to_string(queue));
  runtime::BatchDecoderOptions b = batching;
  b.max_batch = std::min(b.max_batch, parallel);
  decoder_ = std::make_unique<runtime::BatchDecoder>(b);
  for (int i = 0; i < parallel; ++i) {
    slots_.push_back(std::make_unique<Slot>(model, ctx));
    slots_.back()->generator.set_scheduler(decoder_.get());
  }
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
