#include "runtime/llm_context.h"

#include <algorithm>
#include <string>

#include "core/error.h"

namespace xnai::runtime {

int64_t LlmContext::resolve_n_ctx(const models::LlmModel& model, const ContextOptions& opts) {
  if (opts.n_ctx < 0)
    throw Error(ErrorKind::InvalidArgument,
                "context size must not be negative, got " + std::to_string(opts.n_ctx));
  if (opts.n_ctx > 0) return opts.n_ctx;
  return std::min(model.hparams().n_ctx_train, kDefaultMaxContext);
}

int64_t LlmContext::resolve_n_batch(const ContextOptions& opts, int64_t n_ctx) {
  if (opts.n_batch < 1)
    throw Error(ErrorKind::InvalidArgument,
                "batch size must be at least 1, got " + std::to_string(opts.n_batch));
  return std::min(opts.n_batch, n_ctx);
}

LlmContext::LlmContext(const models::LlmModel& model, const ContextOptions& opts)
    : model_(&model),
      ws_(model, resolve_n_ctx(model, opts), resolve_n_batch(opts, resolve_n_ctx(model, opts)), opts.kv_type),
      last_logits_(static_cast<size_t>(model.hparams().n_vocab)) {}

std::span<const float> LlmContext::decode(std::span<const int32_t> tokens, bool all_logits) {
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (n == 0) throw Error(ErrorKind::InvalidArgument, "decode: no tokens given");
  const int64_t n_vocab = this->n_vocab();
  for (int64_t i = 0; i < n; ++i) {
    const int32_t id = tokens[static_cast<size_t>(i)];
    if (id < 0 || id >= n_vocab)
      throw Error(ErrorKind::InvalidArgument, "decode: token id " + std::to_string(id) + " at index " +
                                                  std::to_string(i) + " is outside the vocabulary [0, " +
                                                  std::to_string(n_vocab) + ")");
  }
  if (n_past_ + n > n_ctx())
    throw Error(ErrorKind::ContextFull, "context full: " + std::to_string(n_past_) + " cached + " +
                                            std::to_string(n) + " new tokens need " +
                                            std::to_string(n_past_ + n) +
                                            " positions, but the context holds " + std::to_string(n_ctx()));

  float* out = last_logits_.data();
  if (all_logits) {
    all_logits_.resize(static_cast<size_t>(n * n_vocab));
    out = all_logits_.data();
  }
  const int64_t B = n_batch();
  for (int64_t c0 = 0; c0 < n; c0 += B) {
    const int64_t m = std::min(B, n - c0);
    const bool last_chunk = c0 + m == n;
    const int64_t first_logit = all_logits ? 0 : (last_chunk ? m - 1 : m);
    float* dst = all_logits ? out + c0 * n_vocab : out;
    model_->forward(ws_, tokens.subspan(static_cast<size_t>(c0), static_cast<size_t>(m)), n_past_ + c0,
                    first_logit, dst);
  }
  n_past_ += n;
  return {out, static_cast<size_t>(all_logits ? n * n_vocab : n_vocab)};
}

void LlmContext::decode_batch(std::span<LlmContext* const> ctxs, std::span<const int32_t> tokens) {
  if (ctxs.empty() || ctxs.size() != tokens.size())
    throw Error(ErrorKind::InvalidArgument, "decode_batch: " + std::to_string(ctxs.size()) + " contexts but " +
                                                std::to_string(tokens.size()) + " tokens");
  const models::LlmModel* model = ctxs[0]->model_;
  for (size_t i = 0; i < ctxs.size(); ++i) {
    LlmContext& c = *ctxs[i];
    if (c.model_ != model)
      throw Error(ErrorKind::InvalidArgument, "decode_batch: context " + std::to_string(i) + " uses another model");
    for (size_t j = 0; j < i; ++j)
      if (ctxs[j] == ctxs[i])
        throw Error(ErrorKind::InvalidArgument, "decode_batch: context " + std::to_string(i) + " is given twice");
    if (tokens[i] < 0 || tokens[i] >= c.n_vocab())
      throw Error(ErrorKind::InvalidArgument, "decode_batch: token id " + std::to_string(tokens[i]) + " of context " +
                                                  std::to_string(i) + " is outside the vocabulary [0, " +
                                                  std::to_string(c.n_vocab()) + ")");
    if (c.n_past_ + 1 > c.n_ctx())
      throw Error(ErrorKind::ContextFull, "context full: context " + std::to_string(i) + " holds " +
                                              std::to_string(c.n_ctx()) + " positions, all in use");
  }
  // Groups of at most the first context's n_batch (its activations are the scratch).
  const size_t group = static_cast<size_t>(ctxs[0]->n_batch());
  std::vector<models::LlmWorkspace*> ws;
  std::vector<int64_t> pos;
  std::vector<float*> out;
  for (size_t g0 = 0; g0 < ctxs.size(); g0 += group) {
    const size_t m = std::min(group, ctxs.size() - g0);
    ws.clear(), pos.clear(), out.clear();
    for (size_t i = g0; i < g0 + m; ++i) {
      ws.push_back(&ctxs[i]->ws_);
      pos.push_back(ctxs[i]->n_past_);
      out.push_back(ctxs[i]->last_logits_.data());
    }
    model->forward_batch(ctxs[0]->ws_, ws, tokens.subspan(g0, m), pos, out);
  }
  for (LlmContext* c : ctxs) ++c->n_past_;
}

void LlmContext::truncate(int64_t n) {
  if (n < 0 || n > n_past_)
    throw Error(ErrorKind::InvalidArgument, "truncate: cannot keep " + std::to_string(n) + " tokens of the " +
                                                std::to_string(n_past_) + " cached");
  n_past_ = n;
}

}  // namespace xnai::runtime
