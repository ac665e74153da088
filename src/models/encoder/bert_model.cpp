// Loading: hyper-parameters and weights from the encoder table, then the tokenizer.
#include "core/error.h"
#include "formats/gguf.h"
#include "models/encoder/bert.h"
#include "models/encoder/bert_arch.h"
#include "text/tokenizer.h"

namespace xnai::models {

std::unique_ptr<BertModel> BertModel::load(const std::string& path, compute::Backend& backend) {
  std::unique_ptr<BertModel> m(new BertModel());
  m->file_ = std::make_unique<gguf::GgufFile>(gguf::GgufFile::open(path));
  m->hparams_ = encoder_detail::read_hparams(*m->file_);
  m->weights_ = encoder_detail::map_weights(*m->file_, m->hparams_, backend);
  m->backend_ = &backend;  // set once weights exist, so the destructor releases only those
  m->tokenizer_ = text::Tokenizer::from_gguf(*m->file_);
  if (m->tokenizer_->n_vocab() > m->hparams_.n_vocab)
    throw Error(ErrorKind::InvalidFormat,
                path + ": the tokenizer has " + std::to_string(m->tokenizer_->n_vocab()) +
                    " tokens but the model only " + std::to_string(m->hparams_.n_vocab) + " embedding rows");
  return m;
}

BertModel::~BertModel() {
  if (backend_) encoder_detail::release_weights(weights_, *backend_);
}

}  // namespace xnai::models
