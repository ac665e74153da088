// What every route handler sees: the options, the services, the slot pool, metrics and the
// store lock. Private to server/ (the public interface is server.h).
#pragma once
#include <chrono>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "server/api_error.h"
#include "server/metrics.h"
#include "server/remote_engine.h"
#include "server/server.h"
#include "server/slot_pool.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace xnai::server {

struct ServerContext {
  ServerOptions opts;
  Services services;
  std::unique_ptr<SlotPool> slots;  // null when no LLM is loaded
  Metrics metrics;
  // Set when a remote engine takes the job (ServerOptions::llm_url …); the route sends it there.
  std::unique_ptr<RemoteEngine> remote_llm, remote_embed, remote_tts;
  // The store allows one writer and concurrent readers (rag/store.h).
  std::shared_mutex store_mu;
  // The speech engine serves one request at a time.
  std::mutex tts_mu;

  std::chrono::steady_clock::time_point deadline_from_now() const {
    return opts.timeout_s > 0 ? std::chrono::steady_clock::now() + std::chrono::seconds(opts.timeout_s)
                              : std::chrono::steady_clock::time_point::max();
  }
};

using RouteHandler = void (*)(ServerContext& ctx, const httplib::Request& req, httplib::Response& res);

// Registers `handler` for `method` ("GET", "POST", "DELETE") and `pattern`; the wrapper
// labels the request for metrics and turns ApiError / xnai::Error into OpenAI error JSON.
void add_route(httplib::Server& http, ServerContext& ctx, const char* method, const std::string& pattern,
               const std::string& label, RouteHandler handler);

// Writes `body` as JSON with `status`.
void send_json(httplib::Response& res, const json& body, int status = 200);
void send_error(httplib::Response& res, const ApiError& e);

// Acquires a generation slot for `prompt`, or throws ApiError: 503 (+ Retry-After) when no
// LLM is loaded or the queue is full, 504 when the wait outlasts the request timeout.
std::unique_ptr<Lease> acquire_slot(ServerContext& ctx, const std::vector<int32_t>& prompt,
                                    httplib::Response& res);

// The route groups, one file each.
void register_model_routes(httplib::Server& http, ServerContext& ctx);       // route_models.cpp
void register_completion_routes(httplib::Server& http, ServerContext& ctx);  // route_completions.cpp
void register_embedding_routes(httplib::Server& http, ServerContext& ctx);   // route_embeddings.cpp
void register_rag_document_routes(httplib::Server& http, ServerContext& ctx);  // route_rag_documents.cpp
void register_rag_query_routes(httplib::Server& http, ServerContext& ctx);     // route_rag_query.cpp
void register_speech_routes(httplib::Server& http, ServerContext& ctx);      // route_speech.cpp
void register_health_routes(httplib::Server& http, ServerContext& ctx);      // route_health.cpp
void register_voice_routes(httplib::Server& http, ServerContext& ctx);       // route_voices.cpp
void register_web_routes(httplib::Server& http, ServerContext& ctx);         // route_web.cpp

// True for a GET of the web page or one of its files, which need no API key.
bool is_web_page_request(const httplib::Request& req);                      // route_web.cpp

// OpenAI's voice names (alloy, echo, …) mean "the default voice" here; any other name goes to
// the engine, which rejects unknown ones with the list of voices (route_speech.cpp).
bool is_openai_voice(const std::string& voice);

// Unix seconds now (the `created` field).
int64_t unix_now();
// "prefix-" + 24 random hex digits (chatcmpl-…, cmpl-…).
std::string random_id(const char* prefix);

}  // namespace xnai::server
