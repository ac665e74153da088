#include "server/metrics.h"

#include <unistd.h>

#include <cstdio>

namespace xnai::server {
namespace {

const std::vector<double>& latency_bounds() {
  static const std::vector<double> b = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
  return b;
}

std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// Label values escape backslash, quote and newline (the exposition format's rule).
std::string escape_label(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '\\' || c == '"') o += '\\', o += c;
    else if (c == '\n') o += "\\n";
    else o += c;
  }
  return o;
}

void header(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += v;
  ++n_;
}

void Histogram::render(std::string& out, const std::string& name, const std::string& labels) const {
  const std::string sep = labels.empty() ? "" : labels + ",";
  uint64_t cum = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cum += counts_[i];
    const std::string le = i < bounds_.size() ? num(bounds_[i]) : "+Inf";
    out += name + "_bucket{" + sep + "le=\"" + le + "\"} " + std::to_string(cum) + "\n";
  }
  const std::string braces = labels.empty() ? "" : "{" + labels + "}";
  out += name + "_sum" + braces + " " + num(sum_) + "\n";
  out += name + "_count" + braces + " " + std::to_string(n_) + "\n";
}

Metrics::Metrics() : ttft_(latency_bounds()) {}

void Metrics::record_request(const std::string& route, int status, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{route, status}];
  auto it = latency_.find(route);
  if (it == latency_.end()) it = latency_.emplace(route, Histogram(latency_bounds())).first;
  it->second.observe(seconds);
}

void Metrics::record_generation(int64_t tokens, double generate_seconds, double ttft_seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  tokens_total_ += static_cast<uint64_t>(tokens);
  generate_seconds_total_ += generate_seconds;
  if (generate_seconds > 0) last_tokens_per_second_ = static_cast<double>(tokens) / generate_seconds;
  if (ttft_seconds >= 0) ttft_.observe(ttft_seconds);
}

void Metrics::record_rejected() {
  std::lock_guard<std::mutex> lock(mu_);
  ++rejected_;
}

void Metrics::record_remote(const std::string& engine, bool ok) {
  std::lock_guard<std::mutex> lock(mu_);
  ++remote_[{engine, ok}];
}

void Metrics::record_speech(double audio_seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  speech_seconds_total_ += audio_seconds;
}

std::string Metrics::render(const GaugeReadings& g) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  header(out, "xnai_http_requests_total", "counter", "HTTP requests by route and status.");
  for (const auto& [key, n] : requests_)
    out += "xnai_http_requests_total{route=\"" + escape_label(key.first) + "\",status=\"" +
           std::to_string(key.second) + "\"} " + std::to_string(n) + "\n";
  header(out, "xnai_http_errors_total", "counter", "HTTP responses with status >= 400 by route and status.");
  for (const auto& [key, n] : requests_)
    if (key.second >= 400)
      out += "xnai_http_errors_total{route=\"" + escape_label(key.first) + "\",status=\"" +
             std::to_string(key.second) + "\"} " + std::to_string(n) + "\n";
  header(out, "xnai_http_request_duration_seconds", "histogram", "Request latency by route.");
  for (const auto& [route, h] : latency_)
    h.render(out, "xnai_http_request_duration_seconds", "route=\"" + escape_label(route) + "\"");
  header(out, "xnai_time_to_first_token_seconds", "histogram",
         "From request arrival to the first generated token.");
  ttft_.render(out, "xnai_time_to_first_token_seconds", "");
  header(out, "xnai_speech_audio_seconds_total", "counter", "Seconds of audio produced by /v1/audio/speech.");
  out += "xnai_speech_audio_seconds_total " + std::to_string(speech_seconds_total_) + "\n";
  header(out, "xnai_generated_tokens_total", "counter", "Tokens sampled by all generations.");
  out += "xnai_generated_tokens_total " + std::to_string(tokens_total_) + "\n";
  header(out, "xnai_generation_seconds_total", "counter", "Time spent sampling tokens (per request, summed).");
  out += "xnai_generation_seconds_total " + num(generate_seconds_total_) + "\n";
  header(out, "xnai_tokens_per_second", "gauge", "Generation speed of the last finished request.");
  out += "xnai_tokens_per_second " + num(last_tokens_per_second_) + "\n";
  header(out, "xnai_rejected_requests_total", "counter", "Requests refused with 503 because the queue was full.");
  out += "xnai_rejected_requests_total " + std::to_string(rejected_) + "\n";
  header(out, "xnai_remote_requests_total", "counter",
         "Jobs sent to remote engines (--llm-url, --embed-url, --tts-url) by engine and outcome.");
  for (const auto& [key, n] : remote_)
    out += "xnai_remote_requests_total{engine=\"" + escape_label(key.first) + "\",outcome=\"" +
           (key.second ? "ok" : "error") + "\"} " + std::to_string(n) + "\n";
  header(out, "xnai_queue_depth", "gauge", "Requests waiting for a generation slot.");
  out += "xnai_queue_depth " + std::to_string(g.queue_depth) + "\n";
  header(out, "xnai_slots_active", "gauge", "Generation slots in use.");
  out += "xnai_slots_active " + std::to_string(g.active_slots) + "\n";
  header(out, "xnai_slots_total", "gauge", "Generation slots (--parallel).");
  out += "xnai_slots_total " + std::to_string(g.slots) + "\n";
  header(out, "xnai_kv_cache_cells_used", "gauge", "KV cache positions holding tokens, over all slots.");
  out += "xnai_kv_cache_cells_used " + std::to_string(g.kv_cells_used) + "\n";
  header(out, "xnai_kv_cache_cells_total", "gauge", "KV cache positions, over all slots.");
  out += "xnai_kv_cache_cells_total " + std::to_string(g.kv_cells_total) + "\n";
  header(out, "xnai_batch_steps_total", "counter", "Batched decode steps (one forward for every running stream).");
  out += "xnai_batch_steps_total " + std::to_string(g.batch_steps) + "\n";
  header(out, "xnai_batch_tokens_total", "counter",
         "Tokens decoded by batched steps; divided by xnai_batch_steps_total it is the mean batch size.");
  out += "xnai_batch_tokens_total " + std::to_string(g.batch_tokens) + "\n";
  header(out, "xnai_batch_size_max", "gauge", "The largest batch a decode step has run.");
  out += "xnai_batch_size_max " + std::to_string(g.batch_max) + "\n";
  header(out, "xnai_streams_running", "gauge", "Generations in their token loop.");
  out += "xnai_streams_running " + std::to_string(g.streams_running) + "\n";
  header(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
  out += "process_resident_memory_bytes " + std::to_string(process_rss_bytes()) + "\n";
  return out;
}

int64_t process_rss_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  long pages_total = 0, pages_rss = 0;
  const int got = std::fscanf(f, "%ld %ld", &pages_total, &pages_rss);
  std::fclose(f);
  if (got != 2) return 0;
  return static_cast<int64_t>(pages_rss) * static_cast<int64_t>(::sysconf(_SC_PAGESIZE));
}

}  // namespace xnai::server
