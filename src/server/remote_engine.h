// A remote OpenAI-compatible server (llama-server, Ollama, vLLM, another xnai) that takes
// one kind of job — chat/completions, embeddings or speech — instead of the built-in engine,
// so load can be spread over several machines (`xnai serve --llm-url URL` etc.).
//
// A base URL is "http[s]://[KEY@]host[:port][/prefix]"; a trailing "/v1" is optional. KEY,
// when given in the URL, is sent as "Authorization: Bearer KEY" and overrides the shared
// --remote-api-key. The key never appears in messages: display() leaves it out.
//
// Failures are ApiErrors that name the URL: 502 remote_unreachable when the connection
// fails, 504 remote_timeout when the answer does not come in time.
//
// Thread-safety: every member may be called from any thread; each call opens its own
// connection (httplib clients are not shared).
#pragma once
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "server/api_error.h"

namespace xnai::server {

enum class RemoteKind { Llm, Embedding, Tts };
const char* remote_kind_name(RemoteKind kind);  // "llm", "embedding", "tts"

struct RemoteReply {
  int status = 0;
  std::string content_type;
  std::string body;
  std::string retry_after;  // the remote's Retry-After header, passed on with 429/503
};

class RemoteEngine {
 public:
  // Throws Error(InvalidArgument) for a URL that is not http(s)://host[:port][/path].
  RemoteEngine(RemoteKind kind, const std::string& base_url, const std::string& api_key, int timeout_s);

  RemoteKind kind() const { return kind_; }
  const std::string& display() const { return display_; }  // origin + prefix, without the key

  // POSTs `body` as JSON to prefix + `path` ("/v1/chat/completions") and returns the whole
  // answer, whatever its status. Throws ApiError 502/504 when no answer comes.
  RemoteReply post(const std::string& path, const json& body) const;

  // POSTs like post(), handing the answer to the callbacks as it arrives: on_head once with
  // the status and content type, then on_data per piece of the body; either returning false
  // cancels the transfer. Returns false when the transfer failed (connection or timeout) and
  // sets `error` to the ApiError that describes it; true otherwise (including a cancel).
  bool post_streaming(const std::string& path, const json& body,
                      const std::function<bool(int status, const std::string& content_type)>& on_head,
                      const std::function<bool(const char* data, size_t n)>& on_data,
                      std::optional<ApiError>& error) const;

  // GET prefix + /v1/models with a short timeout; nullopt when the remote does not answer
  // 200 with a JSON object. Never throws.
  std::optional<json> list_models(int timeout_s = 5) const;

  // The model id to send when a request names none: the remote's model of this kind from
  // /v1/models (xnai lists a "kind"; otherwise the first plausible id), found once and then
  // remembered. nullopt when the remote lists no models (requests then go without one).
  // Throws ApiError 502 when the remote cannot be reached.
  std::optional<std::string> default_model() const;

  // The error for a failed transfer (exposed for the streaming relay's messages).
  ApiError unreachable(const std::string& why) const;

 private:
  RemoteKind kind_;
  std::string origin_, prefix_, key_, display_;
  int timeout_s_;
  mutable std::mutex mu_;
  mutable std::optional<std::string> model_;  // found by default_model()
  mutable bool model_known_ = false;
};

// Picks the id of `kind` from a /v1/models answer: an entry whose "kind" matches, else by
// name (an embedding model's id usually says "embed"; speech: tts-1, or an id naming tts,
// kokoro or speech), else the first listed. nullopt for an empty or malformed list.
std::optional<std::string> pick_remote_model(const json& models, RemoteKind kind);

}  // namespace xnai::server
