// Text → vector service used by RAG (ingest and queries) and the server's /v1/embeddings.
// The built-in implementation runs a BERT-family GGUF model (models/encoder); a remote one
// may call another OpenAI-compatible server. Vectors are L2-normalised.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace xnai::runtime {

class Embedder {
 public:
  virtual ~Embedder() = default;
  virtual int dim() const = 0;
  virtual std::string model_name() const = 0;     // recorded in the store so models never mix
  virtual int max_tokens() const = 0;             // longest input the model takes (incl. special tokens)
  virtual int count_tokens(std::string_view text) const = 0;
  // One L2-normalised vector per text, batched internally; texts longer than max_tokens()
  // are truncated (callers chunk first, so this is a safety net, not a feature).
  virtual std::vector<std::vector<float>> embed(const std::vector<std::string>& texts) = 0;
};

}  // namespace xnai::runtime
