// `xnai bench serve`: the OpenAI-compatible server under load, in this process on loopback.
// The model is loaded once; for each --parallel value a fresh Server gets `--clients`
// streaming clients for `--duration` seconds (server/load_test.h). Beside speed (TTFT,
// latency, tokens/s) it checks what a long-running server must not do: refuse or break
// requests it has room for, keep slots busy after their clients are gone (/metrics), or
// grow its memory while serving. docs/bench.md says how to read the numbers.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/args.h"
#include "cli/llm_options.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "server/load_test.h"
#include "server/metrics.h"
#include "server/server.h"

namespace xnai::cli {
namespace {

using Json = nlohmann::ordered_json;

// How long the slots may take to show free after the last client has its [DONE]: a lease
// is released just before the stream's last writes, so this is only scheduling slack.
constexpr auto kSlotGrace = std::chrono::seconds(2);

struct Row {
  int parallel = 0;
  int queue = 0;
  server::LoadTestResult load;
  int64_t warmup_errors = 0;  // failed warm-up requests: real failures, only outside the timing
  std::vector<std::string> warmup_error_samples;
  int leaked_slots = 0;  // xnai_slots_active once the clients are done (and the grace is over)
  int64_t rss_start = 0, rss_end = 0;
};

std::vector<int> parse_parallel_list(const std::string& s) {
  std::vector<int> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    size_t used = 0;
    int v = 0;
    try {
      v = std::stoi(item, &used);
    } catch (...) {
      used = 0;
    }
    if (used == 0 || used != item.size() || v < 1)
      throw Error(
          ErrorKind::InvalidArgument,
          "bench serve: --parallel-list expects slot counts >= 1 separated by commas, got '" + s + "'");
    out.push_back(v);
  }
  if (out.empty()) throw Error(ErrorKind::InvalidArgument, "bench serve: --parallel-list is empty");
  return out;
}

int slots_active(int port) {
  const auto page = server::fetch_metrics("127.0.0.1", port, "");
  const auto v = page ? server::metric_value(*page, "xnai_slots_active") : std::nullopt;
  if (!v) throw Error(ErrorKind::Io, "bench serve: GET /metrics gave no xnai_slots_active");
  return static_cast<int>(*v);
}

Row run_one(const models::LlmModel& model, const std::string& name, int parallel, int64_t ctx_size,
            const server::LoadTestOptions& base) {
  Row row;
  row.parallel = parallel;
  row.queue = base.clients;  // every client may wait: a 503 here would be a bug, not load shedding

  server::ServerOptions so;
  so.host = "127.0.0.1";
  so.port = 0;
  so.parallel = parallel;
  so.queue = row.queue;
  so.ctx_size = ctx_size;
  so.llm_name = name;
  so.max_tokens_default = base.max_tokens;
  server::Services services;
  services.llm = &model;
  server::Server srv(so, services);
  srv.start();

  server::LoadTestOptions opts = base;
  opts.port = srv.port();
  // One request per client first, so the start RSS already holds what first use costs —
  // weight pages faulted in, KV caches touched, each server worker's and client thread's
  // stack and malloc arena (the clients run in this process too) — and growth during the
  // run means memory kept per request.
  server::LoadTestOptions warm = opts;
  warm.max_requests = 1;
  warm.duration_s = warm.timeout_s;
  const auto w = server::run_load_test(warm);
  if (w.requests_ok == 0)
    throw Error(ErrorKind::Io, "bench serve: no warm-up request succeeded (--parallel " +
                                   std::to_string(parallel) +
                                   "): " + (w.error_samples.empty() ? "rejected" : w.error_samples.front()));
  row.warmup_errors = w.errors + w.rejected;
  row.warmup_error_samples = w.error_samples;
  row.rss_start = server::process_rss_bytes();

  row.load = server::run_load_test(opts);

  const auto until = std::chrono::steady_clock::now() + kSlotGrace;
  row.leaked_slots = slots_active(srv.port());
  while (row.leaked_slots > 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    row.leaked_slots = slots_active(srv.port());
  }
  row.rss_end = server::process_rss_bytes();
  srv.stop();
  return row;
}

double mib(int64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

const Row& baseline(const std::vector<Row>& rows) {
  for (const auto& r : rows)
    if (r.parallel == 1) return r;
  return rows.front();
}

Json row_json(const Row& r, const Row& base) {
  const auto& l = r.load;
  return Json{
      {"parallel", r.parallel},
      {"queue", r.queue},
      {"requests_ok", l.requests_ok},
      {"errors", l.errors},
      {"rejected", l.rejected},
      {"leaked_slots", r.leaked_slots},
      {"tokens", l.tokens},
      {"wall_s", l.wall_s},
      {"tokens_per_s", l.tokens_per_s},
      {"speedup", base.load.tokens_per_s > 0 ? Json(l.tokens_per_s / base.load.tokens_per_s) : Json(nullptr)},
      {"ttft_ms", {{"p50", l.ttft_p50_ms}, {"p99", l.ttft_p99_ms}}},
      {"latency_ms", {{"p50", l.latency_p50_ms}, {"p99", l.latency_p99_ms}}},
      {"rss_start_bytes", r.rss_start},
      {"rss_end_bytes", r.rss_end},
      {"error_samples", l.error_samples},
      {"warmup_errors", r.warmup_errors},
      {"warmup_error_samples", r.warmup_error_samples}};
}

void print_table(const std::vector<Row>& rows) {
  std::printf("| %8s | %8s | %6s | %8s | %6s | %15s | %18s | %8s | %17s |\n", "parallel", "requests",
              "errors", "rejected", "leaked", "TTFT p50/p99 ms", "latency p50/p99 ms", "tokens/s",
              "RSS MiB start→end");
  std::printf(
      "|---------:|---------:|-------:|---------:|-------:|----------------:|-------------------:|---------:|"
      "------------------:|\n");
  for (const auto& r : rows) {
    const auto& l = r.load;
    char ttft[40], lat[40], rss[48];
    std::snprintf(ttft, sizeof(ttft), "%.1f / %.1f", l.ttft_p50_ms, l.ttft_p99_ms);
    std::snprintf(lat, sizeof(lat), "%.1f / %.1f", l.latency_p50_ms, l.latency_p99_ms);
    std::snprintf(rss, sizeof(rss), "%.1f → %.1f", mib(r.rss_start), mib(r.rss_end));
    std::printf("| %8d | %8lld | %6lld | %8lld | %6d | %15s | %18s | %8.1f | %19s |\n", r.parallel,
                static_cast<long long>(l.requests_ok), static_cast<long long>(l.errors),
                static_cast<long long>(l.rejected), r.leaked_slots, ttft, lat, l.tokens_per_s,
                rss);  // 19: "→" is 3 bytes
  }
}

}  // namespace

int run_bench_serve(const std::vector<std::string>& argv) {
  std::vector<OptionSpec> specs = model_option_specs();
  for (auto s : std::vector<OptionSpec>{
           {"--parallel-list", "", true, "slot counts to compare, one server each (default 1,4)", ""},
           {"--clients", "", true, "concurrent streaming clients (default 32)", ""},
           {"--duration", "", true, "seconds each server is under load (default 60)", ""},
           {"--max-tokens", "", true, "tokens per answer (default 32)", ""},
           {"--ctx-size", "-c", true, "context size per slot in tokens (default: model's, at most 4096)", ""},
           {"--prompt", "", true, "the user message every client sends", ""},
           {"--json", "", false, "print one JSON object instead of the table", ""},
       })
    specs.push_back(s);
  Args args("bench serve", specs);
  args.parse(argv);
  if (args.has("--help")) {
    std::printf(
        "usage: xnai bench serve -m MODEL.gguf [--parallel-list 1,4] [--clients 32] [--duration 60] "
        "[--max-tokens 32] [-c CTX] [-t THREADS] [--json]\n%s",
        args.usage().c_str());
    return 0;
  }
  if (!args.positionals().empty())
    throw Error(ErrorKind::InvalidArgument,
                "bench serve: unexpected argument '" + args.positionals()[0] + "'");
  const bool json = args.has("--json");
  const std::vector<int> parallels = parse_parallel_list(args.get_or("--parallel-list", "1,4"));
  server::LoadTestOptions load;
  load.clients = args.get_int("--clients", 32);
  load.duration_s = args.get_double("--duration", 60);
  load.max_tokens = args.get_int("--max-tokens", 32);
  if (auto p = args.get("--prompt")) load.prompt = *p;
  const int ctx_size = args.get_int("--ctx-size", 0);
  if (load.clients < 1 || load.max_tokens < 1 || !(load.duration_s > 0) || ctx_size < 0)
    throw Error(ErrorKind::InvalidArgument,
                "bench serve: --clients and --max-tokens must be >= 1, --duration > 0, -c >= 0");

  ::signal(SIGPIPE, SIG_IGN);  // a write to a socket the other side closed is an error, not death
  auto backend = make_backend(args);
  const std::string path = model_path(args);
  auto model = load_llm(args, *backend);
  const std::string name = std::filesystem::path(path).stem().string();
  const int threads =
      args.get_int("--threads", 0) > 0 ? args.get_int("--threads", 0) : default_thread_count();
  if (!json) {
    std::printf("xnai bench serve — %s, %d clients for %g s each, max_tokens %d, %d threads\n\n",
                name.c_str(), load.clients, load.duration_s, load.max_tokens, threads);
    std::fflush(stdout);
  }

  std::vector<Row> rows;
  for (int p : parallels) {
    std::fprintf(stderr, "bench serve: --parallel %d, %d clients, %g s …\n", p, load.clients,
                 load.duration_s);
    rows.push_back(run_one(*model, name, p, ctx_size, load));
  }
  const Row& base = baseline(rows);

  bool unhealthy = false;
  for (const auto& r : rows) {
    if (r.load.errors == 0 && r.leaked_slots == 0 && r.warmup_errors == 0) continue;
    unhealthy = true;
    std::fprintf(
        stderr,
        "bench serve: --parallel %d: %lld errors (+%lld in the warm-up), %d slots still active after the "
        "run\n",
        r.parallel, static_cast<long long>(r.load.errors), static_cast<long long>(r.warmup_errors),
        r.leaked_slots);
    for (const auto& e : r.load.error_samples) std::fprintf(stderr, "  %s\n", e.c_str());
    for (const auto& e : r.warmup_error_samples) std::fprintf(stderr, "  warm-up: %s\n", e.c_str());
  }

  if (json) {
    Json j;
    j["model"] = path;
    j["threads"] = threads;
    j["clients"] = load.clients;
    j["duration_s"] = load.duration_s;
    j["max_tokens"] = load.max_tokens;
    j["ctx_size"] = ctx_size;
    j["baseline_parallel"] = base.parallel;
    Json arr = Json::array();
    for (const auto& r : rows) arr.push_back(row_json(r, base));
    j["runs"] = arr;
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    print_table(rows);
    for (const auto& r : rows) {
      if (&r == &base) continue;
      if (base.load.tokens_per_s > 0)
        std::printf("speed-up --parallel %d over %d: %.2f×\n", r.parallel, base.parallel,
                    r.load.tokens_per_s / base.load.tokens_per_s);
    }
  }
  return unhealthy ? 1 : 0;
}

}  // namespace xnai::cli
