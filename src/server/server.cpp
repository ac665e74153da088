#include "server/server.h"

#include <sys/socket.h>

#include <httplib.h>

#include <random>
#include <thread>

#include "core/error.h"
#include "models/llm/llm.h"
#include "server/server_context.h"

namespace xnai::server {
namespace {

// The route label and start time of the request this worker thread is serving; set by the
// pre-routing handler and the route wrapper, read by the logger once the response (including
// a streamed body) is written. httplib serves one request at a time per worker thread.
thread_local std::string tl_route;
thread_local std::chrono::steady_clock::time_point tl_start;

int status_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::InvalidArgument: return 400;
    case ErrorKind::ContextFull: return 400;
    case ErrorKind::InvalidFormat: return 400;
    case ErrorKind::NotFound: return 404;
    case ErrorKind::Unsupported: return 501;
    default: return 500;
  }
}

const char* type_for(int status) {
  if (status == 401) return "authentication_error";
  if (status == 403) return "permission_error";
  if (status == 404) return "not_found_error";
  if (status == 413) return "invalid_request_error";
  if (status == 429 || status == 503) return "server_overloaded";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

// Compares without an early exit, so the time taken does not reveal how much of a guessed
// key was right.
bool constant_time_equal(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

void send_json(httplib::Response& res, const json& body, int status) {
  res.status = status;
  res.set_content(wire_json(body), "application/json");
}

void send_error(httplib::Response& res, const ApiError& e) { send_json(res, error_body(e), e.status); }

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string random_id(const char* prefix) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  std::string s = std::string(prefix) + "-";
  for (int i = 0; i < 24; ++i) s += hex[rng() & 15];
  return s;
}

void add_route(httplib::Server& http, ServerContext& ctx, const char* method, const std::string& pattern,
               const std::string& label, RouteHandler handler) {
  auto wrapped = [&ctx, label, handler](const httplib::Request& req, httplib::Response& res) {
    tl_route = label;
    try {
      handler(ctx, req, res);
    } catch (const ApiError& e) {
      send_error(res, e);
    } catch (const Error& e) {
      const int status = status_for(e.kind());
      send_json(res,
                error_body(status, type_for(status), e.what(), "",
                           e.kind() == ErrorKind::ContextFull ? "context_length_exceeded" : ""),
                status);
    } catch (const std::exception& e) {
      send_json(res, error_body(500, "server_error", std::string("internal error: ") + e.what()), 500);
    }
  };
  const std::string m = method;
  if (m == "GET") http.Get(pattern, wrapped);
  else if (m == "POST") http.Post(pattern, wrapped);
  else if (m == "DELETE") http.Delete(pattern, wrapped);
  else throw Error(ErrorKind::Internal, "add_route: unsupported method " + m);
}

std::unique_ptr<Lease> acquire_slot(ServerContext& ctx, const std::vector<int32_t>& prompt, httplib::Response& res) {
  if (!ctx.slots) throw ApiError(503, "server_error", "no language model is loaded (start xnai serve with -m MODEL)");
  std::unique_ptr<Lease> lease;
  switch (ctx.slots->acquire(prompt, ctx.deadline_from_now(), lease)) {
    case AcquireStatus::Ok: return lease;
    case AcquireStatus::QueueFull:
      ctx.metrics.record_rejected();
      res.set_header("Retry-After", "1");
      throw ApiError(503, "server_overloaded",
                     "all " + std::to_string(ctx.slots->slots()) + " generation slots are busy and the wait queue (" +
                         std::to_string(ctx.opts.queue) + ") is full; retry later",
                     "", "queue_full");
    case AcquireStatus::TimedOut: break;
  }
  throw ApiError(504, "timeout", "no generation slot became free within --timeout " +
                                     std::to_string(ctx.opts.timeout_s) + " s", "", "timeout");
}

struct Server::Impl {
  ServerContext ctx;
  httplib::Server http;
  std::thread thread;
  int port = 0;
};

Server::Server(const ServerOptions& opts, const Services& services) : impl_(std::make_unique<Impl>()) {
  auto& ctx = impl_->ctx;
  ctx.opts = opts;
  ctx.services = services;
  if (opts.timeout_s < 0) throw Error(ErrorKind::InvalidArgument, "--timeout must not be negative");
  if (opts.max_body < 1) throw Error(ErrorKind::InvalidArgument, "--max-body must be at least 1 byte");
  if (services.llm) {
    runtime::ContextOptions c;
    c.n_ctx = opts.ctx_size;
    ctx.slots = std::make_unique<SlotPool>(*services.llm, c, opts.parallel, opts.queue);
  }
  // A remote engine replaces the built-in one for its jobs (a local model given as well is
  // not used for them).
  auto remote = [&](RemoteKind kind, const std::string& url) {
    return url.empty() ? nullptr : std::make_unique<RemoteEngine>(kind, url, opts.remote_api_key, opts.timeout_s);
  };
  ctx.remote_llm = remote(RemoteKind::Llm, opts.llm_url);
  ctx.remote_embed = remote(RemoteKind::Embedding, opts.embed_url);
  ctx.remote_tts = remote(RemoteKind::Tts, opts.tts_url);
  if (ctx.opts.llm_name.empty() && services.llm) ctx.opts.llm_name = "llm";
  if (ctx.opts.embed_name.empty() && services.embedder) ctx.opts.embed_name = "embedding";

  auto& http = impl_->http;
  // Streams hold a worker for their whole length: enough workers for every slot, the queue
  // and a few quick requests (health, metrics) beside them.
  const size_t workers = static_cast<size_t>(std::max(8, opts.parallel + opts.queue + 4));
  http.new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
  http.set_payload_max_length(opts.max_body);
  if (opts.timeout_s > 0) {
    http.set_read_timeout(opts.timeout_s, 0);
    http.set_write_timeout(opts.timeout_s, 0);
  }

  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    tl_route = "unmatched";
    tl_start = std::chrono::steady_clock::now();
    auto& c = impl_->ctx;
    if (!c.opts.cors_origin.empty()) {
      res.set_header("Access-Control-Allow-Origin", c.opts.cors_origin);
      res.set_header("Vary", "Origin");
      if (req.method == "OPTIONS") {
        res.set_header("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
        res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type");
        res.set_header("Access-Control-Max-Age", "600");
        res.status = 204;
        tl_route = "preflight";
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    if (c.opts.api_key.empty() || req.path == "/health" || req.path == "/ready" || is_web_page_request(req))
      return httplib::Server::HandlerResponse::Unhandled;
    const std::string auth = req.get_header_value("Authorization");
    const std::string prefix = "Bearer ";
    const bool ok = auth.size() > prefix.size() && auth.compare(0, prefix.size(), prefix) == 0 &&
                    constant_time_equal(auth.substr(prefix.size()), c.opts.api_key);
    if (ok) return httplib::Server::HandlerResponse::Unhandled;
    tl_route = "auth";
    res.set_header("WWW-Authenticate", "Bearer");
    send_json(res,
              error_body(401, "authentication_error",
                         auth.empty() ? "missing API key: send 'Authorization: Bearer KEY'" : "invalid API key", "",
                         "invalid_api_key"),
              401);
    return httplib::Server::HandlerResponse::Handled;
  });

  // Responses httplib makes itself (no route, body too large, bad request line) get
  // OpenAI-style JSON too. Our own error responses already have a body and pass through.
  http.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    std::string msg;
    if (res.status == 404) msg = "no route for " + req.method + " " + req.path;
    else if (res.status == 413)
      msg = "the request body is larger than the limit of " + std::to_string(impl_->ctx.opts.max_body) +
            " bytes (--max-body)";
    else if (res.status == 405) msg = "method " + req.method + " is not allowed on " + req.path;
    else msg = "request failed with HTTP status " + std::to_string(res.status);
    res.set_content(error_body(res.status, type_for(res.status), msg, "",
                               res.status == 413 ? "request_too_large" : (res.status == 404 ? "unknown_route" : ""))
                        .dump(),
                    "application/json");
    return httplib::Server::HandlerResponse::Handled;
  }));

  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    send_json(res, error_body(500, "server_error", "internal error: " + what), 500);
  });

  http.set_logger([this](const httplib::Request&, const httplib::Response& res) {
    const double secs = tl_start.time_since_epoch().count() == 0
                            ? 0.0
                            : std::chrono::duration<double>(std::chrono::steady_clock::now() - tl_start).count();
    impl_->ctx.metrics.record_request(tl_route.empty() ? "unmatched" : tl_route, res.status, secs);
    tl_route.clear();
    tl_start = {};
  });

  if (!opts.cors_origin.empty())
    http.Options(".*", [](const httplib::Request&, httplib::Response& res) { res.status = 204; });

  register_model_routes(http, ctx);
  register_completion_routes(http, ctx);
  register_embedding_routes(http, ctx);
  register_rag_document_routes(http, ctx);
  register_rag_query_routes(http, ctx);
  register_speech_routes(http, ctx);
  register_health_routes(http, ctx);
  register_voice_routes(http, ctx);
  register_web_routes(http, ctx);
}

Server::~Server() { stop(); }

// httplib listens with a backlog of 5 (compiled into Debian's libcpp-httplib), so a burst
// of clients overflows the accept queue: connections stall a second and some are reset.
// Its socket-options hook hands us the listening socket; listen() again widens the queue.
constexpr int kListenBacklog = 512;

void Server::start() {
  auto& im = *impl_;
  int listen_fd = -1;
  im.http.set_socket_options([&listen_fd](socket_t sock) {
    httplib::default_socket_options(sock);
    listen_fd = static_cast<int>(sock);
  });
  if (im.ctx.opts.port == 0) {
    im.port = im.http.bind_to_any_port(im.ctx.opts.host);
    if (im.port < 0) throw Error(ErrorKind::Io, "cannot bind to " + im.ctx.opts.host + " (any port)");
  } else {
    if (!im.http.bind_to_port(im.ctx.opts.host, im.ctx.opts.port))
      throw Error(ErrorKind::Io, "cannot bind to " + im.ctx.opts.host + ":" + std::to_string(im.ctx.opts.port) +
                                     " (in use, or not an address of this machine)");
    im.port = im.ctx.opts.port;
  }
  if (listen_fd >= 0) ::listen(listen_fd, kListenBacklog);
  im.thread = std::thread([&im] { im.http.listen_after_bind(); });
  while (!im.http.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void Server::stop() {
  if (!impl_) return;
  if (impl_->thread.joinable()) {
    impl_->http.stop();
    impl_->thread.join();
  }
}

int Server::port() const { return impl_->port; }

}  // namespace xnai::server
