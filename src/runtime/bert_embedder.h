// The built-in Embedder: a BERT-family GGUF model (models/encoder) on the CPU backend.
// Texts are tokenized with the model's tokenizer ([CLS] … [SEP] for WordPiece), cut to
// max_tokens() keeping the closing special token, packed back to back into forward passes
// of up to batch_tokens tokens (several texts per pass, each attending only to itself),
// pooled as the model's `<arch>.pooling_type` says and L2-normalised.
//
// Thread-safety: embed() and embed_tokens() serialize on an internal mutex (the backend
// runs one pass at a time); the const members may be called from any thread.
#pragma once
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compute/backend.h"
#include "models/encoder/bert.h"
#include "runtime/embedder.h"

namespace xnai::runtime {

struct BertEmbedderOptions {
  int n_threads = 0;     // 0 = default_thread_count()
  int max_tokens = 0;    // 0 = the model's context length; larger values are clamped to it
  int batch_tokens = 0;  // tokens per forward pass; 0 = max(2048, max_tokens); at least max_tokens
  // Overrides <arch>.pooling_type (needed for files without the key, whose pooling is none).
  std::optional<models::Pooling> pooling;
  std::string model_name;  // "" = general.name, else the file name without .gguf
};

class BertEmbedder final : public Embedder {
 public:
  // Loads the model. Throws what BertModel::load throws, and Error(Unsupported) when the
  // pooling is none (per-token vectors are not one embedding per text) and no override is
  // given, or Error(InvalidArgument) for bad options.
  static std::unique_ptr<BertEmbedder> load(const std::string& path, const BertEmbedderOptions& opts = {});
  ~BertEmbedder() override;

  int dim() const override;
  std::string model_name() const override { return name_; }
  int max_tokens() const override { return max_tokens_; }
  // Tokens of `text` with the special tokens, before truncation.
  int count_tokens(std::string_view text) const override;
  std::vector<std::vector<float>> embed(const std::vector<std::string>& texts) override;

  // The ids embed() runs for `text`: with special tokens, truncated to max_tokens() with the
  // closing special token ([SEP]) kept.
  std::vector<int32_t> tokenize(std::string_view text) const;
  // One vector per token sequence, L2-normalised when `normalize`, else the raw pooled
  // vector. Throws Error(InvalidArgument) for an empty sequence, one longer than
  // max_tokens() or an id outside the vocabulary.
  std::vector<std::vector<float>> embed_tokens(const std::vector<std::vector<int32_t>>& seqs,
                                               bool normalize = true);

  models::Pooling pooling() const { return pooling_; }
  int batch_tokens() const { return batch_tokens_; }
  const models::BertModel& model() const { return *model_; }

 private:
  BertEmbedder() = default;

  std::unique_ptr<compute::Backend> backend_;
  std::unique_ptr<models::BertModel> model_;
  std::unique_ptr<models::BertWorkspace> ws_;
  std::mutex mu_;
  std::string name_;
  models::Pooling pooling_ = models::Pooling::Cls;
  int max_tokens_ = 0;
  int batch_tokens_ = 0;
  int32_t closing_token_ = -1;  // the special token encode() appends ([SEP]), or -1
  std::vector<float> pooled_;   // batch_tokens × dim, reused between passes
};

// L2 normalisation as llama.cpp's common_embd_normalize(…, 2): the norm in double, each
// value scaled by its reciprocal; a zero vector stays zero.
void l2_normalize(float* v, int n);

}  // namespace xnai::runtime
