// Loading: hyper-parameters and weights from the architecture table, then the tokenizer.
#include "core/error.h"
#include "formats/gguf.h"
#include "models/llm/llm.h"
#include "models/llm/llm_arch.h"
#include "text/tokenizer.h"

namespace xnai::models {

std::unique_ptr<LlmModel> LlmModel::load(const std::string& path, compute::Backend& backend,
                                         const LoadOptions& opts) {
  std::unique_ptr<LlmModel> m(new LlmModel());
  m->file_ = std::make_unique<gguf::GgufFile>(gguf::GgufFile::open(path));
  m->backend_ = &backend;
  m->hparams_ = detail::read_hparams(*m->file_);
  m->weights_ = detail::map_weights(*m->file_, m->hparams_, backend, opts.progress);
  const auto& rf = m->weights_.rope_freqs;
  m->hparams_.rope.freq_factors = (rf.data || rf.buffer) ? &m->weights_.rope_freqs : nullptr;
  m->tokenizer_ = text::Tokenizer::from_gguf(*m->file_);
  if (m->tokenizer_->n_vocab() > m->hparams_.n_vocab)
    throw Error(ErrorKind::InvalidFormat,
                path + ": the tokenizer has " + std::to_string(m->tokenizer_->n_vocab()) +
                    " tokens but the model only " + std::to_string(m->hparams_.n_vocab) + " embedding rows");
  return m;
}

LlmModel::~LlmModel() {
  if (!backend_) return;
  // Device backends hold uploaded copies; on the CPU these are no-ops (the mapping owns them).
  auto drop = [&](compute::Tensor& t) { backend_->release(t); };
  for (auto& l : weights_.layers) {
    for (auto* t : {&l.attn_norm, &l.wq, &l.wk, &l.wv, &l.wo, &l.bq, &l.bk, &l.bv, &l.q_norm, &l.k_norm,
                    &l.ffn_norm, &l.ffn_gate, &l.ffn_up, &l.ffn_down})
      drop(*t);
  }
  const bool tied =
      weights_.output.data == weights_.tok_embd.data && weights_.output.buffer == weights_.tok_embd.buffer;
  if (!tied) drop(weights_.output);
  drop(weights_.tok_embd);
  drop(weights_.output_norm);
  drop(weights_.rope_freqs);
}

}  // namespace xnai::models
