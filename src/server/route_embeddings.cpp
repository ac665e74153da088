// POST /v1/embeddings: one L2-normalised vector per input string, as float arrays or as
// base64 of the little-endian float32 bytes (encoding_format "base64", what the openai
// clients ask for by default).
#include <httplib.h>

#include <cstring>

#include "runtime/embedder.h"
#include "server/base64.h"
#include "server/remote_relay.h"
#include "server/server_context.h"

namespace xnai::server {
namespace {

// The vector as little-endian float32 bytes (x86-64 is little-endian; written portably).
std::string base64_floats(const std::vector<float>& v) {
  std::vector<unsigned char> bytes(v.size() * 4);
  for (size_t i = 0; i < v.size(); ++i) {
    uint32_t u;
    std::memcpy(&u, &v[i], 4);
    for (int b = 0; b < 4; ++b) bytes[i * 4 + b] = static_cast<unsigned char>(u >> (8 * b));
  }
  return base64_encode(bytes.data(), bytes.size());
}

void handle(ServerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const json body = parse_json_object(req.body);
  if (ctx.remote_embed) {  // --embed-url: the remote engine answers
    relay_to_remote(ctx, *ctx.remote_embed, "/v1/embeddings", body, false, res);
    return;
  }
  if (!ctx.services.embedder)
    throw ApiError(404, "invalid_request_error",
                   "no embedding model is loaded (start xnai serve with --embed-model MODEL)", "model",
                   "model_not_found");
  const std::string model = opt_string(body, "model").value_or(ctx.opts.embed_name);  // optional: one embedder
  if (model != ctx.opts.embed_name)
    throw ApiError(404, "invalid_request_error",
                   "the model '" + model + "' does not exist; embeddings are served by '" + ctx.opts.embed_name + "'",
                   "model", "model_not_found");
  auto inputs = opt_string_or_array(body, "input", 2048);
  if (!inputs) throw bad_request("'input' is required", "input", "missing_required_parameter");
  if (inputs->empty()) throw bad_request("'input' must not be empty", "input", "invalid_value");
  const std::string format = opt_string(body, "encoding_format").value_or("float");
  if (format != "float" && format != "base64")
    throw bad_request("'encoding_format' must be float or base64, got '" + format + "'", "encoding_format",
                      "invalid_value");
  if (auto d = opt_int(body, "dimensions", 1, 1 << 20); d && *d != ctx.services.embedder->dim())
    throw bad_request("'dimensions' must be " + std::to_string(ctx.services.embedder->dim()) + " for this model",
                      "dimensions", "invalid_value");
  for (size_t i = 0; i < inputs->size(); ++i)
    if ((*inputs)[i].empty())
      throw bad_request("'input[" + std::to_string(i) + "]' is empty", "input", "invalid_value");

  auto& emb = *ctx.services.embedder;
  int64_t tokens = 0;
  for (const auto& s : *inputs) tokens += std::min(emb.count_tokens(s), emb.max_tokens());
  const auto vectors = emb.embed(*inputs);
  json data = json::array();
  for (size_t i = 0; i < vectors.size(); ++i) {
    json e{{"object", "embedding"}, {"index", i}};
    if (format == "base64") e["embedding"] = base64_floats(vectors[i]);
    else e["embedding"] = vectors[i];
    data.push_back(std::move(e));
  }
  send_json(res, json{{"object", "list"},
                      {"data", data},
                      {"model", ctx.opts.embed_name},
                      {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}});
}

}  // namespace

void register_embedding_routes(httplib::Server& http, ServerContext& ctx) {
  add_route(http, ctx, "POST", "/v1/embeddings", "/v1/embeddings", handle);
}

}  // namespace xnai::server
