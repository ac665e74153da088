#include "runtime/generator.h"

#include <chrono>

#include "core/error.h"
#include "runtime/stop_strings.h"
#include "text/tokenizer.h"

namespace xnai::runtime {
namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

Generator::Generator(const models::LlmModel& model, const ContextOptions& opts) : ctx_(model, opts) {
  cached_.reserve(static_cast<size_t>(ctx_.n_ctx()));
}

GenerateResult Generator::generate(const std::vector<int32_t>& prompt, const GenerateOptions& opts,
                                   const TextCallback& on_text) {
  const auto& tok = ctx_.model().tokenizer();
  const int64_t n_vocab = ctx_.n_vocab();
  if (prompt.empty()) throw Error(ErrorKind::InvalidArgument, "the prompt is empty (no tokens)");
  for (int32_t id : prompt)
    if (id < 0 || id >= n_vocab)
      throw Error(ErrorKind::InvalidArgument, "prompt token id " + std::to_string(id) + " is outside the vocabulary of " +
                                                  std::to_string(n_vocab));
  if (static_cast<int64_t>(prompt.size()) >= ctx_.n_ctx())
    throw Error(ErrorKind::ContextFull, "the prompt has " + std::to_string(prompt.size()) +
                                            " tokens but the context holds " + std::to_string(ctx_.n_ctx()) +
                                            " (use a larger --ctx-size or a shorter prompt)");

  GenerateResult r;
  r.n_prompt = static_cast<int>(prompt.size());

  // Reuse the longest common prefix of the cache; the last prompt token is always run again
  // so its logits are fresh.
  size_t common = 0;
  while (common < cached_.size() && common + 1 < prompt.size() && cached_[common] == prompt[common]) ++common;
  cached_.resize(common);
  ctx_.truncate(static_cast<int64_t>(common));
  r.n_prompt_reused = static_cast<int>(common);

  auto t0 = std::chrono::steady_clock::now();
  const std::span<const int32_t> todo(prompt.data() + common, prompt.size() - common);
  std::span<const float> logits = scheduler_ ? scheduler_->prefill(ctx_, todo) : ctx_.decode(todo);
  cached_.assign(prompt.begin(), prompt.end());
  r.prompt_ms = ms_since(t0);

  Sampler sampler(opts.sampling, static_cast<int32_t>(n_vocab));
  r.seed = sampler.seed();
  for (int32_t id : prompt) sampler.accept(id);
  StopStrings stops(opts.stop);
  std::string pending_utf8;
  bool cancelled = false;
  auto emit = [&](const std::string& s) {
    if (s.empty() || cancelled) return;
    r.text += s;
    if (on_text && !on_text(s)) cancelled = true;
  };

  // The scheduler counts this stream as running until the loop is left, however it is left.
  struct StreamScope {
    DecodeScheduler* s;
    explicit StreamScope(DecodeScheduler* sched) : s(sched) {
      if (s) s->stream_begin();
    }
    ~StreamScope() {
      if (s) s->stream_end();
    }
    StreamScope(const StreamScope&) = delete;
    StreamScope& operator=(const StreamScope&) = delete;
  } scope(scheduler_);

  t0 = std::chrono::steady_clock::now();
  r.finish_reason = "length";
  while (opts.max_tokens < 0 || r.n_generated < opts.max_tokens) {
    const int32_t next = sampler.sample(logits.data());
    sampler.accept(next);
    ++r.n_generated;
    if (!opts.ignore_eog && tok.is_eog(next)) {
      r.finish_reason = "stop";
      break;
    }
    const auto res = stops.feed(text::take_complete_utf8(pending_utf8, tok.token_to_piece(next, false)));
    emit(res.text);
    if (res.stopped) {
      r.finish_reason = "stop";
      break;
    }
    if (cancelled) {
      r.finish_reason = "cancelled";
      break;
    }
    if (static_cast<int64_t>(cached_.size()) + 1 > ctx_.n_ctx()) {
      r.finish_reason = "context_full";
      break;
    }
    if (opts.max_tokens >= 0 && r.n_generated >= opts.max_tokens) break;  // no need to decode it
    if (opts.keep_going && !opts.keep_going()) {
      r.finish_reason = "cancelled";
      break;
    }
    if (scheduler_) {
      logits = scheduler_->step(ctx_, next);
    } else {
      const int32_t one[1] = {next};
      logits = ctx_.decode(std::span<const int32_t>(one, 1));
    }
    cached_.push_back(next);
  }
  if (!stops.stopped()) emit(stops.flush() + pending_utf8);
  r.generate_ms = ms_since(t0);
  return r;
}

}  // namespace xnai::runtime
