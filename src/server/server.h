// The OpenAI-compatible HTTP front door (docs/server.md): chat and text completions (plain
// and SSE-streamed), embeddings, the RAG document and query endpoints, health, readiness
// and Prometheus metrics. Routes only translate HTTP to calls of runtime/ and rag/; nothing
// below this layer knows about HTTP.
//
// Ownership: the Server borrows every service in Services; they must outlive it. The LLM is
// shared by `parallel` slots, each with its own KV cache; continuous batching runs all their
// decode steps as one batched forward (slot_pool.h, runtime/batch_decoder.h).
// Thread-safety: start() and stop() from one controlling thread; requests are served on
// httplib's worker threads.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

namespace xnai::models {
class LlmModel;
}
namespace xnai::runtime {
class Embedder;
}
namespace xnai::rag {
class Store;
}
namespace xnai::speech {
class TtsEngine;
}

namespace xnai::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8000;                     // 0 = any free port (see Server::port())
  int parallel = 1;                    // generation slots (KV caches) sharing the model
  int queue = 8;                       // requests that may wait for a slot; more get 503
  int64_t ctx_size = 0;                // per slot; 0 = the model's, at most 4096
  std::string api_key;                 // "" = no authentication
  size_t max_body = 16u << 20;         // bytes; larger request bodies get 413
  int timeout_s = 600;                 // per request (waiting + generating); 0 = none
  std::string cors_origin;             // "" = no CORS headers (browsers from other origins refused)
  std::string data_dir;                // RAG data directory; uploads go to <data_dir>/uploads
  std::string llm_name;                // model ids shown in /v1/models and accepted in requests
  std::string embed_name;
  std::string tts_name = "kokoro";      // the speech model id (tts-1 and tts-1-hd are accepted too)
  int max_tokens_default = 512;        // when a request gives no max_tokens
  // Remote OpenAI-compatible engines that take these jobs instead of the built-in ones
  // (remote_engine.h: "http[s]://[KEY@]host[:port][/prefix]"); "" = built in.
  std::string llm_url, embed_url, tts_url;
  std::string remote_api_key;          // sent to every remote engine whose URL carries no key
};

struct Services {
  const models::LlmModel* llm = nullptr;  // null: chat/completions answer 503 (not ready)
  runtime::Embedder* embedder = nullptr;  // null: /v1/embeddings has no model; RAG is BM25 only
  rag::Store* store = nullptr;            // null: the RAG endpoints answer 503
  std::shared_ptr<speech::TtsEngine> tts;  // null: /v1/audio/speech answers 503
};

class Server {
 public:
  // Throws Error(InvalidArgument) for bad options.
  Server(const ServerOptions& opts, const Services& services);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the socket (throws Error(Io) naming host:port when it cannot) and serves on a
  // background thread; returns once the port accepts connections.
  void start();
  // Stops accepting, lets running handlers finish their current write, joins the thread.
  void stop();
  int port() const;  // the bound port (after start)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace xnai::server
