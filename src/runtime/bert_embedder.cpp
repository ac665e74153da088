#include "runtime/bert_embedder.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "formats/gguf.h"
#include "text/tokenizer.h"

namespace xnai::runtime {

void l2_normalize(float* v, int n) {
  double sum = 0.0;
  for (int i = 0; i < n; ++i) sum += static_cast<double>(v[i] * v[i]);
  const double norm = std::sqrt(sum);
  const double inv = norm > 0.0 ? 1.0 / norm : 0.0;
  for (int i = 0; i < n; ++i) v[i] = static_cast<float>(v[i] * inv);
}

std::unique_ptr<BertEmbedder> BertEmbedder::load(const std::string& path, const BertEmbedderOptions& opts) {
  if (opts.n_threads < 0 || opts.max_tokens < 0 || opts.batch_tokens < 0)
    throw Error(ErrorKind::InvalidArgument,
                "embedder options: threads, max_tokens and batch_tokens must be >= 0");
  std::unique_ptr<BertEmbedder> e(new BertEmbedder());
  compute::BackendOptions bo;
  bo.n_threads = opts.n_threads;
  // Embeddings are compared by cosine (≥ 0.9999 against llama.cpp), not bit for bit: the
  // tiled float matmul is worth several times its speed at ingest.
  bo.fast_float_matmul = true;
  e->backend_ = compute::make_cpu_backend(bo);
  e->model_ = models::BertModel::load(path, *e->backend_);
  const models::BertHParams& hp = e->model_->hparams();

  e->pooling_ = opts.pooling.value_or(hp.pooling);
  if (e->pooling_ == models::Pooling::None)
    throw Error(ErrorKind::Unsupported,
                path + ": pooling is none (" +
                    (hp.pooling_in_file ? "key '" + hp.arch_name + ".pooling_type' = 0"
                                        : "no '" + hp.arch_name + ".pooling_type' key") +
                    "), which gives one vector per token; choose mean or cls pooling to get one per text");

  const int n_ctx = static_cast<int>(std::min<int64_t>(hp.n_ctx_train, 1 << 20));
  e->max_tokens_ = opts.max_tokens == 0 ? n_ctx : std::min(opts.max_tokens, n_ctx);
  e->batch_tokens_ = opts.batch_tokens == 0 ? std::max(2048, e->max_tokens_) : opts.batch_tokens;
  if (e->batch_tokens_ < e->max_tokens_)
    throw Error(ErrorKind::InvalidArgument, "embedder batch of " + std::to_string(e->batch_tokens_) +
                                                " tokens is smaller than max_tokens " +
                                                std::to_string(e->max_tokens_));
  e->ws_ = std::make_unique<models::BertWorkspace>(*e->model_, e->batch_tokens_);
  e->pooled_.resize(static_cast<size_t>(e->batch_tokens_) * static_cast<size_t>(hp.n_embd));

  const text::Tokenizer& tok = e->model_->tokenizer();
  const auto empty = tok.encode("", true);
  if (!empty.empty() && (empty.back() == tok.sep() || empty.back() == tok.eos()))
    e->closing_token_ = empty.back();

  e->name_ = opts.model_name;
  if (e->name_.empty()) e->name_ = e->model_->gguf().get_string("general.name", "");
  if (e->name_.empty()) e->name_ = std::filesystem::path(path).stem().string();
  return e;
}

BertEmbedder::~BertEmbedder() {
  // The workspace and model hold backend memory: release them before the backend goes.
  ws_.reset();
  model_.reset();
}

int BertEmbedder::dim() const { return static_cast<int>(model_->hparams().n_embd); }

int BertEmbedder::count_tokens(std::string_view text) const {
  return static_cast<int>(model_->tokenizer().encode(text, true).size());
}

std::vector<int32_t> BertEmbedder::tokenize(std::string_view text) const {
  std::vector<int32_t> ids = model_->tokenizer().encode(text, true);
  const auto max = static_cast<size_t>(max_tokens_);
  if (ids.size() > max) {
    const bool keep_closing = closing_token_ >= 0 && ids.back() == closing_token_;
    ids.resize(keep_closing ? max - 1 : max);
    if (keep_closing) ids.push_back(closing_token_);
  }
  return ids;
}

std::vector<std::vector<float>> BertEmbedder::embed(const std::vector<std::string>& texts) {
  std::vector<std::vector<int32_t>> seqs;
  seqs.reserve(texts.size());
  for (const auto& t : texts) seqs.push_back(tokenize(t));
  return embed_tokens(seqs, true);
}

std::vector<std::vector<float>> BertEmbedder::embed_tokens(const std::vector<std::vector<int32_t>>& seqs,
                                                           bool normalize) {
  const int64_t n_vocab = model_->hparams().n_vocab;
  for (size_t s = 0; s < seqs.size(); ++s) {
    const auto& q = seqs[s];
    if (q.empty() || q.size() > static_cast<size_t>(max_tokens_))
      throw Error(ErrorKind::InvalidArgument, "embed: sequence " + std::to_string(s) + " has " +
                                                  std::to_string(q.size()) + " tokens; expected 1 to " +
                                                  std::to_string(max_tokens_));
    for (int32_t id : q)
      if (id < 0 || id >= n_vocab)
        throw Error(ErrorKind::InvalidArgument, "embed: sequence " + std::to_string(s) + " has token id " +
                                                    std::to_string(id) + ", outside the vocabulary of " +
                                                    std::to_string(n_vocab));
  }

  const int d = dim();
  std::vector<std::vector<float>> out(seqs.size());
  std::vector<int32_t> flat;
  std::vector<int32_t> lens;
  flat.reserve(static_cast<size_t>(batch_tokens_));
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < seqs.size();) {
    flat.clear();
    lens.clear();
    size_t j = i;
    while (j < seqs.size() && flat.size() + seqs[j].size() <= static_cast<size_t>(batch_tokens_)) {
      flat.insert(flat.end(), seqs[j].begin(), seqs[j].end());
      lens.push_back(static_cast<int32_t>(seqs[j].size()));
      ++j;
    }
    model_->encode(*ws_, flat, lens, pooling_, pooled_.data());
    for (size_t s = i; s < j; ++s) {
      const float* row = pooled_.data() + (s - i) * static_cast<size_t>(d);
      out[s].assign(row, row + d);
      if (normalize) l2_normalize(out[s].data(), d);
    }
    i = j;
  }
  return out;
}

}  // namespace xnai::runtime
