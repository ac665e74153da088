// `xnai bench llm`: prompt-processing and generation speed with llama-bench's semantics
// and table (runtime/bench_llm.h), plus load time, peak RSS and the share of the memory
// bandwidth that decoding reaches. `--bw` alone (no model) only measures the bandwidth.
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/llm_options.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "runtime/bench_llm.h"

namespace xnai::cli {
namespace {

using Json = nlohmann::ordered_json;

std::string mib_or_gib(double bytes) {
  char buf[32];
  if (bytes < 1024.0 * 1024 * 1024)
    std::snprintf(buf, sizeof(buf), "%.2f MiB", bytes / 1024.0 / 1024.0);
  else
    std::snprintf(buf, sizeof(buf), "%.2f GiB", bytes / 1024.0 / 1024.0 / 1024.0);
  return buf;
}

std::string params_label(int64_t n) {
  char buf[32];
  if (n < 1000 * 1000 * 1000)
    std::snprintf(buf, sizeof(buf), "%.2f M", static_cast<double>(n) / 1e6);
  else
    std::snprintf(buf, sizeof(buf), "%.2f B", static_cast<double>(n) / 1e9);
  return buf;
}

// "cpu (8 threads)" → "CPU", as llama-bench names its backends.
std::string backend_label(const std::string& name) {
  std::string b = name.substr(0, name.find(' '));
  for (char& c : b) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return b;
}

// llama-bench's markdown table: same columns, widths and "avg ± sd" cell.
void print_table(const runtime::BenchModelInfo& info, const std::string& backend, int n_threads,
                 const std::vector<runtime::BenchTestResult>& tests) {
  std::printf("| %-30s | %10s | %10s | %-10s | %7s | %13s | %20s |\n", "model", "size", "params", "backend",
              "threads", "test", "t/s");
  std::printf("| %s | %s: | %s: | %s | %s: | %s: | %s: |\n", std::string(30, '-').c_str(),
              std::string(9, '-').c_str(), std::string(9, '-').c_str(), std::string(10, '-').c_str(),
              std::string(6, '-').c_str(), std::string(12, '-').c_str(), std::string(19, '-').c_str());
  for (const auto& t : tests) {
    char ts[64];
    std::snprintf(ts, sizeof(ts), "%.2f ± %.2f", t.avg_ts, t.stddev_ts);
    std::printf("| %-30s | %10s | %10s | %-10s | %7d | %13s | %21s |\n", info.desc.c_str(),
                mib_or_gib(static_cast<double>(info.size_bytes)).c_str(), params_label(info.n_params).c_str(),
                backend.c_str(), n_threads, t.name.c_str(), ts);  // 21: "±" is 2 bytes
  }
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / static_cast<double>(v.size());
}

double stddev(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  const double m = mean(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size() - 1));
}

Json bandwidth_json(const runtime::BandwidthResult& bw) {
  return Json{{"gb_per_s", bw.gb_per_s},
              {"buffer_bytes", bw.bytes},
              {"n_threads", bw.n_threads},
              {"passes", bw.passes}};
}

int bandwidth_only(int n_threads, bool json) {
  const runtime::BandwidthResult bw = runtime::measure_read_bandwidth(n_threads);
  if (json)
    std::printf("%s\n", Json{{"bandwidth", bandwidth_json(bw)}}.dump(2).c_str());
  else
    std::printf("read bandwidth: %.2f GB/s (%d threads, %.2f GiB buffer, best of %d)\n", bw.gb_per_s,
                bw.n_threads, static_cast<double>(bw.bytes) / (1024.0 * 1024 * 1024), bw.passes);
  return 0;
}

}  // namespace

int run_bench_llm(const std::vector<std::string>& argv) {
  std::vector<OptionSpec> specs = model_option_specs();
  for (auto s : std::vector<OptionSpec>{
           {"--n-prompt", "-p", true, "prompt tokens of the pp test (default 512; 0 = skip)", ""},
           {"--n-gen", "-n", true, "generated tokens of the tg test (default 128; 0 = skip)", ""},
           {"--repetitions", "-r", true, "timed runs per test (default 5)", ""},
           {"--batch-size", "-b", true, "prompt tokens per forward pass (default 512)", ""},
           {"--kv-type", "", true, "KV cache type: f16 (default) or f32", ""},
           {"--sequences", "-s", true,
            "also run tg with this many sequences in batched steps (continuous batching's speed-up)", ""},
           {"--json", "", false, "print one JSON object instead of the table", ""},
           {"--bw", "", false, "print the read-bandwidth measurement (alone: without -m, only that)", ""},
           {"--no-bw", "", false, "skip the bandwidth measurement (and the decode bandwidth share)", ""},
       })
    specs.push_back(s);
  Args args("bench llm", specs);
  args.parse(argv);
  if (args.has("--help")) {
    std::printf(
        "usage: xnai bench llm -m MODEL.gguf [-p 512] [-n 128] [-r 5] [-t THREADS] [--json] [--bw]\n%s",
        args.usage().c_str());
    return 0;
  }
  if (!args.positionals().empty())
    throw Error(ErrorKind::InvalidArgument, "bench llm: unexpected argument '" + args.positionals()[0] + "'");
  const bool json = args.has("--json");
  const bool want_bw = !args.has("--no-bw");
  int n_threads = args.get_int("--threads", 0);
  if (n_threads < 0) throw Error(ErrorKind::InvalidArgument, "bench llm: --threads must be >= 1");
  if (n_threads == 0) n_threads = default_thread_count();
  if (args.has("--bw") && !args.has("--model")) return bandwidth_only(n_threads, json);

  runtime::BenchLlmOptions opt;
  opt.n_prompt = args.get_int("--n-prompt", 512);
  opt.n_gen = args.get_int("--n-gen", 128);
  opt.repetitions = args.get_int("--repetitions", 5);
  opt.n_batch = args.get_int("--batch-size", 512);
  opt.n_seqs = args.get_int("--sequences", 1);
  if (opt.n_seqs < 1 || opt.n_seqs > 256)
    throw Error(ErrorKind::InvalidArgument, "bench llm: --sequences must be between 1 and 256");
  const std::string kv = args.get_or("--kv-type", "f16");
  if (kv == "f16")
    opt.kv_type = DType::F16;
  else if (kv == "f32")
    opt.kv_type = DType::F32;
  else
    throw Error(ErrorKind::InvalidArgument, "bench llm: --kv-type must be f16 or f32, got '" + kv + "'");
  if (opt.n_prompt < 0 || opt.n_gen < 0 || opt.repetitions < 1 || opt.n_batch < 1)
    throw Error(ErrorKind::InvalidArgument, "bench llm: -p and -n must be >= 0, -r and -b >= 1");

  auto backend = make_backend(args);
  const auto t0 = std::chrono::steady_clock::now();
  auto model = load_llm(args, *backend);
  const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  const bool tty = isatty(STDERR_FILENO);
  if (tty) opt.on_progress = [](const std::string& s) { std::fprintf(stderr, "\rbench: %-24s", s.c_str()); };
  const auto tests = runtime::bench_llm(*model, opt);
  if (tty) std::fprintf(stderr, "\r%40s\r", "");
  const uint64_t rss = runtime::peak_rss_bytes();  // before the bandwidth buffer inflates it

  const runtime::BenchModelInfo info = runtime::describe_model(*model);
  const uint64_t per_token = runtime::weight_bytes_per_token(*model);
  runtime::BandwidthResult bw;
  if (want_bw) bw = runtime::measure_read_bandwidth(n_threads);
  const runtime::BenchTestResult* tg = nullptr;
  for (const auto& t : tests)
    if (t.n_gen > 0 && t.n_seqs == 1) tg = &t;
  const double bound_ts = bw.gb_per_s > 0 ? bw.gb_per_s * 1e9 / static_cast<double>(per_token) : 0;
  const double share = tg && bound_ts > 0 ? tg->avg_ts / bound_ts : 0;
  const std::string backend_name = backend_label(backend->name());

  if (json) {
    Json j;
    j["model"] = {{"path", model_path(args)},
                  {"type", info.desc},
                  {"size_bytes", info.size_bytes},
                  {"n_params", info.n_params}};
    j["backend"] = backend_name;
    j["n_threads"] = n_threads;
    j["n_batch"] = opt.n_batch;
    j["kv_type"] = kv;
    j["repetitions"] = opt.repetitions;
    j["load_seconds"] = load_s;
    j["peak_rss_bytes"] = rss;
    Json arr = Json::array();
    for (const auto& t : tests)
      arr.push_back({{"test", t.name},
                     {"n_prompt", t.n_prompt},
                     {"n_gen", t.n_gen},
                     {"n_seqs", t.n_seqs},
                     {"avg_ts", t.avg_ts},
                     {"stddev_ts", t.stddev_ts},
                     {"avg_ns", mean(t.samples_ns)},
                     {"stddev_ns", stddev(t.samples_ns)},
                     {"samples_ns", t.samples_ns},
                     {"samples_ts", t.samples_ts}});
    j["tests"] = arr;
    j["weight_bytes_per_token"] = per_token;
    j["bandwidth"] = want_bw ? bandwidth_json(bw) : Json(nullptr);
    j["decode_bandwidth_bound_ts"] = bound_ts > 0 ? Json(bound_ts) : Json(nullptr);
    j["decode_bandwidth_share"] = share > 0 ? Json(share) : Json(nullptr);
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }

  print_table(info, backend_name, n_threads, tests);
  std::printf("\nload %.2f s, peak RSS %s, KV cache %s, batch %d, %d runs per test\n", load_s,
              mib_or_gib(static_cast<double>(rss)).c_str(), kv.c_str(), opt.n_batch, opt.repetitions);
  if (want_bw && args.has("--bw"))
    std::printf("read bandwidth: %.2f GB/s (%d threads, %.2f GiB buffer, best of %d)\n", bw.gb_per_s,
                bw.n_threads, static_cast<double>(bw.bytes) / (1024.0 * 1024 * 1024), bw.passes);
  if (tg && bound_ts > 0)
    std::printf(
        "decode reads %s of weights per token: bandwidth bound %.1f t/s at %.2f GB/s; %s reaches %.0f%%\n",
        mib_or_gib(static_cast<double>(per_token)).c_str(), bound_ts, bw.gb_per_s, tg->name.c_str(),
        100.0 * share);
  return 0;
}

}  // namespace xnai::cli
