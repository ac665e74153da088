#include "server/remote_embedder.h"

#include <cmath>

#include "rag/chunker.h"
#include "server/remote_engine.h"

namespace xnai::server {

RemoteEmbedder::RemoteEmbedder(const std::string& base_url, const std::string& api_key, int timeout_s)
    : engine_(std::make_unique<RemoteEngine>(RemoteKind::Embedding, base_url, api_key, timeout_s)) {}

RemoteEmbedder::~RemoteEmbedder() = default;

int RemoteEmbedder::dim() const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (dim_ > 0) return dim_;
  }
  const auto v = request({"dimension probe"});
  std::lock_guard<std::mutex> lock(mu_);
  dim_ = static_cast<int>(v.front().size());
  return dim_;
}

std::string RemoteEmbedder::model_name() const { return engine_->default_model().value_or("remote"); }

int RemoteEmbedder::count_tokens(std::string_view text) const { return rag::approx_token_count(text) + 2; }

std::vector<std::vector<float>> RemoteEmbedder::embed(const std::vector<std::string>& texts) {
  if (texts.empty()) return {};
  auto out = request(texts);
  std::lock_guard<std::mutex> lock(mu_);
  if (dim_ == 0) dim_ = static_cast<int>(out.front().size());
  return out;
}

std::vector<std::vector<float>> RemoteEmbedder::request(const std::vector<std::string>& texts) const {
  json body{{"input", texts}, {"encoding_format", "float"}};
  if (auto model = engine_->default_model()) body["model"] = *model;
  const RemoteReply r = engine_->post("/v1/embeddings", body);
  auto fail = [&](const std::string& why) {
    return ApiError(502, "server_error", "the remote embedding engine at " + engine_->display() + " " + why, "",
                    "remote_error");
  };
  if (r.status != 200) throw fail("answered HTTP " + std::to_string(r.status) + ": " + r.body.substr(0, 300));
  const json j = json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("data") || !j["data"].is_array() ||
      j["data"].size() != texts.size())
    throw fail("sent no list of " + std::to_string(texts.size()) + " embeddings");
  std::vector<std::vector<float>> out(texts.size());
  size_t position = 0;
  for (const auto& e : j["data"]) {
    if (!e.is_object() || !e.contains("embedding") || !e["embedding"].is_array()) throw fail("sent a malformed embedding");
    const size_t i = e.contains("index") && e["index"].is_number_unsigned() ? e["index"].get<size_t>() : position;
    ++position;
    if (i >= out.size()) throw fail("sent an embedding index out of range");
    auto& v = out[i];
    for (const auto& x : e["embedding"]) {
      if (!x.is_number()) throw fail("sent a non-number in an embedding");
      v.push_back(x.get<float>());
    }
    // The store compares by cosine as dot products of unit vectors: make sure they are.
    double norm = 0;
    for (float x : v) norm += double(x) * x;
    if (norm > 0) {
      const float inv = static_cast<float>(1.0 / std::sqrt(norm));
      for (float& x : v) x *= inv;
    }
  }
  int known = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    known = dim_;
  }
  for (const auto& v : out)
    if (v.empty() || v.size() != out.front().size() || (known > 0 && static_cast<int>(v.size()) != known))
      throw fail("sent embeddings of the wrong size");
  return out;
}

}  // namespace xnai::server
