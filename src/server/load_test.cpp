#include "server/load_test.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/error.h"
#include "server/sse_reader.h"

namespace xnai::server {
namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

constexpr size_t kMaxErrorSamples = 5;
constexpr size_t kMaxErrorBody = 300;  // bytes of a non-200 body kept for the message
// After a refused connection or a 503 a client waits this long before the next try, so a
// dead or saturated server is not answered with a busy loop that steals its CPU.
constexpr auto kBackoff = std::chrono::milliseconds(50);

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// Nearest-rank percentile (p in [0, 1]) of sorted values; 0 for none.
double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const double rank = std::ceil(p * static_cast<double>(sorted.size()));
  const size_t i = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return sorted[std::min(i, sorted.size() - 1)];
}

// What one client thread saw; merged after the join so the request loop takes no lock.
struct ClientTally {
  int64_t ok = 0, errors = 0, rejected = 0, tokens = 0;
  std::vector<double> ttft_ms, latency_ms;
  std::vector<std::string> error_samples;

  void error(const std::string& what) {
    ++errors;
    if (error_samples.size() < kMaxErrorSamples &&
        std::find(error_samples.begin(), error_samples.end(), what) == error_samples.end())
      error_samples.push_back(what);
  }
};

// One streamed answer, judged event by event as it arrives.
struct StreamState {
  std::optional<Clock::time_point> first_content;
  int64_t content_chunks = 0;
  std::optional<int64_t> usage_tokens;
  bool done = false;
  std::string problem;  // the first thing wrong with the stream; "" = nothing yet

  // Returns false (cancelling the transfer) once the stream is known to be bad.
  bool on_event(std::string_view data) {
    if (done) return fail("an event after [DONE]");
    if (data == "[DONE]") {
      done = true;
      return true;
    }
    const json j = json::parse(data, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return fail("a stream event is not a JSON object");
    if (auto e = j.find("error"); e != j.end()) {
      std::string msg = e->is_object() ? e->value("message", "") : "";
      return fail("error event in the stream" + (msg.empty() ? std::string() : ": " + msg));
    }
    if (auto u = j.find("usage"); u != j.end() && u->is_object()) {
      if (auto c = u->find("completion_tokens"); c != u->end() && c->is_number_integer())
        usage_tokens = c->get<int64_t>();
    }
    auto ch = j.find("choices");
    if (ch == j.end() || !ch->is_array() || ch->empty() || !(*ch)[0].is_object()) return true;
    auto d = (*ch)[0].find("delta");
    if (d == (*ch)[0].end() || !d->is_object()) return true;
    auto content = d->find("content");
    if (content != d->end() && content->is_string() && !content->get_ref<const std::string&>().empty()) {
      if (!first_content) first_content = Clock::now();
      ++content_chunks;
    }
    return true;
  }

  bool fail(std::string what) {
    if (problem.empty()) problem = std::move(what);
    return false;
  }
};

std::string request_body(const LoadTestOptions& o) {
  json body{{"messages", json::array({{{"role", "user"}, {"content", o.prompt}}})},
            {"max_tokens", o.max_tokens},
            {"stream", true},
            {"stream_options", {{"include_usage", true}}}};
  if (!o.model.empty()) body["model"] = o.model;
  return body.dump();
}

httplib::Headers auth_headers(const std::string& api_key) {
  httplib::Headers h;
  if (!api_key.empty()) h.emplace("Authorization", "Bearer " + api_key);
  return h;
}

// Sends one request and files its outcome in `t`; returns true when the client should back
// off before the next one (refused connection, 503).
bool one_request(httplib::Client& cli, const httplib::Headers& headers, const std::string& body,
                 ClientTally& t) {
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/chat/completions";
  req.headers = headers;
  req.set_header("Content-Type", "application/json");
  req.set_header("Accept", "text/event-stream");
  req.body = body;

  int status = 0;
  std::string error_body;
  SseReader reader;
  StreamState st;
  req.response_handler = [&](const httplib::Response& r) {
    status = r.status;
    return true;
  };
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    if (status != 200) {
      error_body.append(data, std::min(n, kMaxErrorBody - std::min(kMaxErrorBody, error_body.size())));
      return true;
    }
    const bool ok =
        reader.feed(std::string_view(data, n), [&](std::string_view e) { return st.on_event(e); });
    if (!ok && st.problem.empty()) st.problem = "a stream line longer than 1 MiB";
    return ok;
  };

  const auto sent = Clock::now();
  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  const bool transferred = cli.send(req, res, err);
  const auto finished = Clock::now();

  if (status == 503) {
    ++t.rejected;
    return true;
  }
  if (status == 0) {
    t.error("no answer: " + httplib::to_string(err));
    return true;
  }
  if (status != 200) {
    t.error("HTTP " + std::to_string(status) + (error_body.empty() ? "" : ": " + error_body));
    return false;
  }
  if (!st.problem.empty()) {
    t.error(st.problem);
  } else if (!transferred) {
    t.error("the stream broke off: " + httplib::to_string(err));
  } else if (!st.done || reader.pending() > 0) {
    t.error("the stream ended without data: [DONE]");
  } else {
    ++t.ok;
    t.tokens += st.usage_tokens.value_or(st.content_chunks);
    t.latency_ms.push_back(ms_between(sent, finished));
    if (st.first_content) t.ttft_ms.push_back(ms_between(sent, *st.first_content));
  }
  return false;
}

void client_loop(const LoadTestOptions& o, const std::string& body, Clock::time_point deadline,
                 ClientTally& t) {
  httplib::Client cli(o.host, o.port);
  cli.set_connection_timeout(o.timeout_s, 0);
  cli.set_read_timeout(o.timeout_s, 0);
  cli.set_write_timeout(o.timeout_s, 0);
  const httplib::Headers headers = auth_headers(o.api_key);
  for (int n = 0; (o.max_requests == 0 || n < o.max_requests) && Clock::now() < deadline; ++n) {
    if (one_request(cli, headers, body, t))
      std::this_thread::sleep_until(std::min(Clock::now() + kBackoff, deadline));
  }
}

}  // namespace

LoadTestResult run_load_test(const LoadTestOptions& o) {
  if (o.clients < 1) throw Error(ErrorKind::InvalidArgument, "load test: clients must be at least 1");
  if (o.max_tokens < 1) throw Error(ErrorKind::InvalidArgument, "load test: max_tokens must be at least 1");
  if (!(o.duration_s >= 0))
    throw Error(ErrorKind::InvalidArgument, "load test: the duration must not be negative");
  if (o.max_requests < 0)
    throw Error(ErrorKind::InvalidArgument, "load test: max_requests must not be negative");
  if (o.timeout_s < 1) throw Error(ErrorKind::InvalidArgument, "load test: timeout_s must be at least 1");

  const std::string body = request_body(o);
  std::vector<ClientTally> tallies(static_cast<size_t>(o.clients));
  const auto start = Clock::now();
  const auto deadline =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration_s));
  {
    std::vector<std::thread> threads;
    threads.reserve(tallies.size());
    for (auto& t : tallies)
      threads.emplace_back(client_loop, std::cref(o), std::cref(body), deadline, std::ref(t));
    for (auto& th : threads) th.join();
  }

  LoadTestResult r;
  r.wall_s = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> ttft, latency;
  for (const auto& t : tallies) {
    r.requests_ok += t.ok;
    r.errors += t.errors;
    r.rejected += t.rejected;
    r.tokens += t.tokens;
    ttft.insert(ttft.end(), t.ttft_ms.begin(), t.ttft_ms.end());
    latency.insert(latency.end(), t.latency_ms.begin(), t.latency_ms.end());
    for (const auto& e : t.error_samples)
      if (r.error_samples.size() < kMaxErrorSamples &&
          std::find(r.error_samples.begin(), r.error_samples.end(), e) == r.error_samples.end())
        r.error_samples.push_back(e);
  }
  std::sort(ttft.begin(), ttft.end());
  std::sort(latency.begin(), latency.end());
  r.ttft_p50_ms = percentile(ttft, 0.50);
  r.ttft_p99_ms = percentile(ttft, 0.99);
  r.latency_p50_ms = percentile(latency, 0.50);
  r.latency_p99_ms = percentile(latency, 0.99);
  r.tokens_per_s = r.wall_s > 0 ? static_cast<double>(r.tokens) / r.wall_s : 0;
  return r;
}

std::optional<std::string> fetch_metrics(const std::string& host, int port, const std::string& api_key,
                                         int timeout_s) {
  httplib::Client cli(host, port);
  cli.set_connection_timeout(timeout_s, 0);
  cli.set_read_timeout(timeout_s, 0);
  auto r = cli.Get("/metrics", auth_headers(api_key));
  if (!r || r->status != 200) return std::nullopt;
  return r->body;
}

std::optional<double> metric_value(const std::string& exposition, const std::string& name) {
  size_t pos = 0;
  while (pos < exposition.size()) {
    size_t end = exposition.find('\n', pos);
    if (end == std::string::npos) end = exposition.size();
    const std::string_view line(exposition.data() + pos, end - pos);
    pos = end + 1;
    if (line.size() <= name.size() || line.substr(0, name.size()) != name) continue;
    size_t v = name.size();
    if (line[v] == '{') {
      v = line.find('}', v);
      if (v == std::string_view::npos) continue;
      ++v;
    }
    if (v >= line.size() || line[v] != ' ') continue;  // a longer name that starts with this one
    const std::string value(line.substr(v + 1));
    char* stop = nullptr;
    const double d = std::strtod(value.c_str(), &stop);
    if (stop != value.c_str()) return d;
  }
  return std::nullopt;
}

}  // namespace xnai::server
