#include "runtime/batch_decoder.h"

#include <algorithm>
#include <vector>

#include "core/error.h"

namespace xnai::runtime {

BatchDecoder::BatchDecoder(const BatchDecoderOptions& opts) : opts_(opts) {
  if (opts.max_batch < 1 || opts.prefill_chunk < 1)
    throw Error(ErrorKind::InvalidArgument, "batch decoder: max_batch and prefill_chunk must be at least 1");
  thread_ = std::thread([this] { loop(); });
}

BatchDecoder::~BatchDecoder() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  thread_.join();
}

std::span<const float> BatchDecoder::submit(Job& job, std::deque<Job*>& queue) {
  std::unique_lock<std::mutex> lock(mu_);
  if (stopping_) throw Error(ErrorKind::Internal, "the batch decoder is shutting down");
  queue.push_back(&job);
  work_cv_.notify_one();
  done_cv_.wait(lock, [&] { return job.done; });
  if (job.error) std::rethrow_exception(job.error);
  return job.logits;
}

std::span<const float> BatchDecoder::prefill(LlmContext& ctx, std::span<const int32_t> tokens) {
  if (tokens.empty()) throw Error(ErrorKind::InvalidArgument, "decode: no tokens given");
  Job job;
  job.ctx = &ctx;
  job.tokens = tokens;
  return submit(job, prefills_);
}

std::span<const float> BatchDecoder::step(LlmContext& ctx, int32_t token) {
  Job job;
  job.ctx = &ctx;
  job.tokens = std::span<const int32_t>(&token, 1);
  return submit(job, steps_);
}

void BatchDecoder::stream_begin() {
  std::lock_guard<std::mutex> lock(mu_);
  ++running_;
}

void BatchDecoder::stream_end() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    --running_;
  }
  work_cv_.notify_one();  // a gathering step need not wait for this stream any more
}

BatchStats BatchDecoder::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  BatchStats s = stats_;
  s.running = running_;
  return s;
}

void BatchDecoder::run_steps(std::deque<Job*>& batch) {
  std::vector<LlmContext*> ctxs;
  std::vector<int32_t> tokens;
  for (Job* j : batch) {
    ctxs.push_back(j->ctx);
    tokens.push_back(j->tokens[0]);
  }
  try {
    LlmContext::decode_batch(ctxs, tokens);
    for (Job* j : batch) j->logits = j->ctx->last_logits();
  } catch (...) {
    // decode_batch validates before it runs anything: retry one by one so that a single
    // bad request (its context full) fails alone.
    for (Job* j : batch) {
      try {
        j->logits = j->ctx->decode(j->tokens);
      } catch (...) {
        j->error = std::current_exception();
      }
    }
  }
}

void BatchDecoder::run_prefill_chunk(Job& job, bool& finished) {
  const size_t n = std::min(job.tokens.size(), static_cast<size_t>(opts_.prefill_chunk));
  try {
    job.logits = job.ctx->decode(job.tokens.first(n));
    job.tokens = job.tokens.subspan(n);
    finished = job.tokens.empty();
  } catch (...) {
    job.error = std::current_exception();
    finished = true;
  }
}

void BatchDecoder::loop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    work_cv_.wait(lock, [&] { return stopping_ || !steps_.empty() || !prefills_.empty(); });
    if (stopping_) break;
    // Give the running streams that have not asked yet a moment to join this step.
    if (!steps_.empty() && static_cast<int>(steps_.size()) < running_)
      work_cv_.wait_for(lock, opts_.gather,
                        [&] { return stopping_ || static_cast<int>(steps_.size()) >= running_; });
    if (stopping_) break;

    std::deque<Job*> batch;
    while (!steps_.empty() && static_cast<int>(batch.size()) < opts_.max_batch) {
      batch.push_back(steps_.front());
      steps_.pop_front();
    }
    Job* prefill = prefills_.empty() ? nullptr : prefills_.front();
    lock.unlock();

    if (!batch.empty()) run_steps(batch);
    bool prefill_finished = false;
    if (prefill) run_prefill_chunk(*prefill, prefill_finished);

    lock.lock();
    if (!batch.empty()) {
      ++stats_.steps;
      stats_.tokens += batch.size();
      stats_.max_batch = std::max(stats_.max_batch, static_cast<int>(batch.size()));
    }
    if (prefill) ++stats_.prefill_chunks;
    for (Job* j : batch) j->done = true;
    if (prefill && prefill_finished) {
      prefills_.pop_front();
      prefill->done = true;
    }
    done_cv_.notify_all();
  }
  // Shutting down: whoever still waits gets an error instead of hanging.
  for (auto* q : {&steps_, &prefills_})
    for (Job* j : *q) {
      j->error = std::make_exception_ptr(Error(ErrorKind::Internal, "the batch decoder is shutting down"));
      j->done = true;
    }
  steps_.clear();
  prefills_.clear();
  done_cv_.notify_all();
}

}  // namespace xnai::runtime
