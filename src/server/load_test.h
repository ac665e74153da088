// A bounded load test of an OpenAI-compatible server (`xnai bench serve`, and the tests that
// check the slots come back): `clients` threads each send streamed chat completions one
// after another until the deadline, reading every answer as a client would (SSE to
// `data: [DONE]`). It measures what a user feels — time to first token and whole-answer
// latency — and counts what went wrong, so a regression in the slot pool or the stream
// shows up as errors or leaked slots rather than as a slightly lower number.
//
// The server is reached over HTTP only (any xnai or other OpenAI-compatible server), so this
// lives in server/ as a client of it and knows nothing of its insides.
//
// Thread-safety: run_load_test() may be called from any thread; it owns its client threads
// and joins them before returning.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace xnai::server {

struct LoadTestOptions {
  std::string host = "127.0.0.1";
  int port = 8000;
  int clients = 32;        // concurrent client threads, one request in flight each
  double duration_s = 60;  // no request starts after this; those running are read to the end
  int max_tokens = 32;     // per request
  std::string prompt = "Tell me a short story about a lighthouse keeper and a storm.";
  std::string api_key;   // "" = no Authorization header
  std::string model;     // "" = not sent (the server's own model)
  int max_requests = 0;  // per client; 0 = until the deadline (1 makes a warm-up request)
  int timeout_s = 120;   // per request: connect, and each wait for more of the answer
};

struct LoadTestResult {
  int64_t requests_ok = 0;  // 200, a well-formed stream, ended by [DONE]
  // Any other outcome but 503: no connection, another status, an error event in the
  // stream, bad JSON, a stream cut before [DONE].
  int64_t errors = 0;
  int64_t rejected = 0;  // 503: the server's queue was full (expected when --queue < clients)
  // Completion tokens of the ok requests: the usage the server reports
  // (stream_options.include_usage), else the count of content chunks.
  int64_t tokens = 0;
  double wall_s = 0;        // from the start to the last client's end
  double tokens_per_s = 0;  // tokens / wall_s
  // Over the ok requests, in milliseconds, measured from sending the request. TTFT is to the
  // first chunk with non-empty content (an answer with none has no TTFT).
  double ttft_p50_ms = 0, ttft_p99_ms = 0;
  double latency_p50_ms = 0, latency_p99_ms = 0;
  std::vector<std::string> error_samples;  // the first few distinct error descriptions
};

// Never throws for what the server does (refused connections, bad answers are counted);
// throws Error(InvalidArgument) for options out of range (clients < 1, max_tokens < 1,
// duration_s < 0, max_requests < 0, timeout_s < 1).
LoadTestResult run_load_test(const LoadTestOptions& opts);

// The body of GET /metrics (Prometheus text), or nullopt when it cannot be had as a 200.
std::optional<std::string> fetch_metrics(const std::string& host, int port, const std::string& api_key,
                                         int timeout_s = 5);

// The value of the first sample named exactly `name` (with or without labels) in a
// Prometheus text exposition, or nullopt when there is none.
std::optional<double> metric_value(const std::string& exposition, const std::string& name);

}  // namespace xnai::server
