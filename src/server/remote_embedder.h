// An Embedder whose vectors come from a remote OpenAI-compatible /v1/embeddings
// (--embed-url), so RAG ingestion and vector retrieval use the same remote model that
// POST /v1/embeddings relays to. The dimension is learnt from the first answer; tokens are
// estimated (the remote tokenizer is unknown), which only sizes the RAG chunks.
// Failures throw ApiError 502/504 naming the URL (route handlers send them as they are).
// Thread-safety: as RemoteEngine; the learnt dimension is set once under a lock.
#pragma once
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/embedder.h"

namespace xnai::server {

class RemoteEngine;

class RemoteEmbedder : public runtime::Embedder {
 public:
  // Throws Error(InvalidArgument) for a bad URL (see RemoteEngine).
  RemoteEmbedder(const std::string& base_url, const std::string& api_key, int timeout_s);
  ~RemoteEmbedder() override;

  int dim() const override;                  // asks the remote once (embeds a probe text)
  std::string model_name() const override;   // the remote model id ("remote" when it names none)
  int max_tokens() const override { return 512; }  // what BERT-style embedders take
  int count_tokens(std::string_view text) const override;
  std::vector<std::vector<float>> embed(const std::vector<std::string>& texts) override;

 private:
  std::vector<std::vector<float>> request(const std::vector<std::string>& texts) const;

  std::unique_ptr<RemoteEngine> engine_;
  mutable std::mutex mu_;
  mutable int dim_ = 0;
};

}  // namespace xnai::server
