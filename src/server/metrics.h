// Server metrics, exposed at /metrics in the Prometheus text format (version 0.0.4).
// Counters and histograms are updated by the route wrapper and the generation code; gauges
// (queue depth, active slots, KV cells, RSS) are read when the page is rendered.
// Thread-safety: every member may be called from any thread.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace xnai::server {

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double v);
  // Appends the _bucket/_sum/_count lines of `name` with `labels` ("" or `route="x"`).
  void render(std::string& out, const std::string& name, const std::string& labels) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket (not cumulative); last = +Inf
  double sum_ = 0;
  uint64_t n_ = 0;
};

struct GaugeReadings {
  int queue_depth = 0;
  int active_slots = 0;
  int slots = 0;
  int64_t kv_cells_used = 0;
  int64_t kv_cells_total = 0;
  uint64_t batch_steps = 0;   // continuous batching: decode steps run
  uint64_t batch_tokens = 0;  // tokens decoded by those steps (their sum of batch sizes)
  int batch_max = 0;          // the largest batch so far
  int streams_running = 0;    // streams in their token loop now
};

class Metrics {
 public:
  Metrics();
  void record_request(const std::string& route, int status, double seconds);
  // One finished generation: tokens sampled, seconds spent sampling them, time to first token.
  void record_generation(int64_t tokens, double generate_seconds, double ttft_seconds);
  void record_speech(double audio_seconds);  // one finished /v1/audio/speech answer
  void record_rejected();  // a request turned away because the queue was full
  // One job sent to a remote engine (--llm-url etc.): engine "llm"/"embedding"/"tts"; ok is
  // false when it could not be reached or answered an error.
  void record_remote(const std::string& engine, bool ok);

  std::string render(const GaugeReadings& g) const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;  // (route, status) → count
  std::map<std::string, Histogram> latency_;                  // by route
  Histogram ttft_;
  uint64_t tokens_total_ = 0;
  double generate_seconds_total_ = 0;
  double last_tokens_per_second_ = 0;
  uint64_t rejected_ = 0;
  double speech_seconds_total_ = 0;
  std::map<std::pair<std::string, bool>, uint64_t> remote_;  // (engine, ok) → count
};

// Resident set size of this process in bytes (from /proc/self/statm), 0 when unknown.
int64_t process_rss_bytes();

}  // namespace xnai::server
