#include "server/remote_relay.h"

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include "server/remote_engine.h"
#include "server/server_context.h"

namespace xnai::server {
namespace {

bool is_json_error(const std::string& body) {
  const json j = json::parse(body, nullptr, false);
  return !j.is_discarded() && j.is_object() && j.contains("error");
}

// A non-2xx answer: the remote's OpenAI error passes through with its status; anything else
// becomes one that names the URL (a 4xx keeps its status, a 5xx becomes 502).
void send_remote_failure(ServerContext& ctx, const RemoteEngine& engine, int status, const std::string& body,
                         const std::string& retry_after, httplib::Response& res) {
  ctx.metrics.record_remote(remote_kind_name(engine.kind()), false);
  if (!retry_after.empty()) res.set_header("Retry-After", retry_after);
  if (status == 401 || status == 403) {
    // The remote refused *our* key: passing its 401 on would tell the client that the
    // client's key is wrong.
    send_error(res, ApiError(502, "server_error",
                             std::string("the remote ") + remote_kind_name(engine.kind()) + " engine at " +
                                 engine.display() + " refused the API key (HTTP " + std::to_string(status) +
                                 "; set --remote-api-key or put KEY@ in the URL)",
                             "", "remote_auth_failed"));
    return;
  }
  if (is_json_error(body)) {
    res.status = status;
    res.set_content(body, "application/json");
    return;
  }
  std::string excerpt = body.substr(0, 300);
  for (char& c : excerpt)
    if (c == '\n' || c == '\r') c = ' ';
  send_error(res, ApiError(status >= 400 && status < 500 ? status : 502, "server_error",
                           std::string("the remote ") + remote_kind_name(engine.kind()) + " engine at " +
                               engine.display() + " answered HTTP " + std::to_string(status) +
                               (excerpt.empty() ? "" : ": " + excerpt),
                           "", "remote_error"));
}

// The remote's answer travels from the thread that reads it to the client's writer through
// this queue. The reader runs on its own thread because httplib writes a streamed response
// only after the route handler has returned, and the status must be known before that.
struct StreamRelay {
  std::mutex mu;
  std::condition_variable cv;
  bool have_head = false, finished = false, cancelled = false;
  int status = 0;
  std::string content_type;
  std::deque<std::string> pieces;
  std::optional<ApiError> error;
  std::thread reader;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  bool first_written = false;

  ~StreamRelay() {
    {
      std::lock_guard<std::mutex> lock(mu);
      cancelled = true;  // the reader stops at the next piece the remote sends
    }
    if (reader.joinable()) reader.join();
  }
};

void relay_stream(ServerContext& ctx, const RemoteEngine& engine, const std::string& path, const json& body,
                  httplib::Response& res) {
  auto relay = std::make_shared<StreamRelay>();
  StreamRelay* r = relay.get();  // the reader never owns the relay: it is joined by its destructor
  r->reader = std::thread([r, &engine, path, body] {
    std::optional<ApiError> err;
    engine.post_streaming(
        path, body,
        [r](int status, const std::string& content_type) {
          std::lock_guard<std::mutex> lock(r->mu);
          r->status = status;
          r->content_type = content_type;
          r->have_head = true;
          r->cv.notify_all();
          return !r->cancelled;
        },
        [r](const char* data, size_t n) {
          std::lock_guard<std::mutex> lock(r->mu);
          if (r->cancelled) return false;
          r->pieces.emplace_back(data, n);
          r->cv.notify_all();
          return true;
        },
        err);
    std::lock_guard<std::mutex> lock(r->mu);
    r->error = std::move(err);
    r->finished = true;
    r->cv.notify_all();
  });

  std::unique_lock<std::mutex> lock(r->mu);
  r->cv.wait(lock, [r] { return r->have_head || r->finished; });
  if (!r->have_head) {
    ctx.metrics.record_remote(remote_kind_name(engine.kind()), false);
    throw r->error ? *r->error : engine.unreachable("no answer");
  }
  if (r->status < 200 || r->status >= 300) {
    r->cv.wait(lock, [r] { return r->finished; });
    std::string whole;
    for (auto& p : r->pieces) whole += p;
    lock.unlock();
    send_remote_failure(ctx, engine, r->status, whole, "", res);
    return;
  }
  const std::string content_type = r->content_type.empty() ? "application/octet-stream" : r->content_type;
  const bool sse = content_type.find("text/event-stream") != std::string::npos;
  lock.unlock();
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider(content_type, [&ctx, &engine, relay, sse](size_t, httplib::DataSink& sink) {
    StreamRelay* r = relay.get();
    std::unique_lock<std::mutex> lock(r->mu);
    r->cv.wait(lock, [r] { return !r->pieces.empty() || r->finished; });
    while (!r->pieces.empty()) {
      std::string piece = std::move(r->pieces.front());
      r->pieces.pop_front();
      lock.unlock();
      const bool ok = sink.write(piece.data(), piece.size());
      lock.lock();
      if (!ok) {
        r->cancelled = true;  // the client went away: stop reading from the remote
        return false;
      }
      if (!r->first_written && engine.kind() == RemoteKind::Llm) {
        // Time to first token as this server's clients see it (the remote's own is its own).
        ctx.metrics.record_generation(
            0, 0, std::chrono::duration<double>(std::chrono::steady_clock::now() - r->started).count());
      }
      r->first_written = true;
    }
    if (!r->finished) return true;
    // The status line is sent: a failure now can only be told in-band (SSE) or by ending short.
    const bool failed = r->error.has_value();
    if (failed && sse) {
      const std::string ev = "data: " + wire_json(error_body(*r->error)) + "\n\ndata: [DONE]\n\n";
      sink.write(ev.data(), ev.size());
    }
    ctx.metrics.record_remote(remote_kind_name(engine.kind()), !failed);
    sink.done();
    return true;
  });
}

}  // namespace

void relay_to_remote(ServerContext& ctx, const RemoteEngine& engine, const std::string& path, json body, bool stream,
                     httplib::Response& res) {
  if (!body.contains("model") || body["model"].is_null()) {
    try {
      if (auto model = engine.default_model()) body["model"] = *model;
    } catch (const ApiError&) {
      ctx.metrics.record_remote(remote_kind_name(engine.kind()), false);
      throw;
    }
  }
  if (stream) {
    relay_stream(ctx, engine, path, body, res);
    return;
  }
  RemoteReply reply;
  try {
    reply = engine.post(path, body);
  } catch (const ApiError&) {
    ctx.metrics.record_remote(remote_kind_name(engine.kind()), false);
    throw;
  }
  if (reply.status < 200 || reply.status >= 300) {
    send_remote_failure(ctx, engine, reply.status, reply.body, reply.retry_after, res);
    return;
  }
  ctx.metrics.record_remote(remote_kind_name(engine.kind()), true);
  res.status = reply.status;
  res.set_content(std::move(reply.body), reply.content_type.empty() ? "application/json" : reply.content_type);
}

}  // namespace xnai::server
