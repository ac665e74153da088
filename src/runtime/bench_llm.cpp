#include "runtime/bench_llm.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <string>

#include "core/error.h"
#include "core/thread_pool.h"
#include "formats/gguf.h"
#include "runtime/llm_context.h"
#include "text/tokenizer.h"

namespace xnai::runtime {
namespace {

using Clock = std::chrono::steady_clock;

double elapsed_ns(Clock::time_point t0) {
  return static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
}

class TokenSource {
 public:
  TokenSource(const models::LlmModel& model, uint64_t seed)
      : rng_(seed), dist_(0, static_cast<int32_t>(model.hparams().n_vocab) - 1) {
    const text::Tokenizer& tok = model.tokenizer();
    bos_ = tok.add_bos() ? tok.bos() : -1;
  }
  int32_t first() { return bos_ >= 0 ? bos_ : next(); }
  int32_t next() { return dist_(rng_); }

 private:
  std::mt19937_64 rng_;
  std::uniform_int_distribution<int32_t> dist_;
  int32_t bos_ = -1;
};

// llama-bench's test_prompt: batches of n_batch random tokens, BOS first.
void run_prompt(LlmContext& ctx, TokenSource& src, int n_prompt, int n_batch, std::vector<int32_t>& buf) {
  int done = 0;
  while (done < n_prompt) {
    const int n = std::min(n_prompt - done, n_batch);
    buf.resize(static_cast<size_t>(n));
    buf[0] = done == 0 ? src.first() : src.next();
    for (int i = 1; i < n; ++i) buf[static_cast<size_t>(i)] = src.next();
    ctx.decode(buf);
    done += n;
  }
}

// llama-bench's test_gen: one token at a time, BOS first.
void run_gen(LlmContext& ctx, TokenSource& src, int n_gen) {
  int32_t token = src.first();
  for (int i = 0; i < n_gen; ++i) {
    ctx.decode(std::span<const int32_t>(&token, 1));
    token = src.next();
  }
}

// test_gen for several sequences at once: one batched step per position.
void run_gen_batched(std::vector<std::unique_ptr<LlmContext>>& ctxs, TokenSource& src, int n_gen) {
  std::vector<LlmContext*> ptrs;
  for (auto& c : ctxs) ptrs.push_back(c.get());
  std::vector<int32_t> tokens(ctxs.size(), src.first());
  for (int i = 0; i < n_gen; ++i) {
    LlmContext::decode_batch(ptrs, tokens);
    for (auto& t : tokens) t = src.next();
  }
}

void finish_stats(BenchTestResult& r) {
  const double n_tokens = r.n_prompt + r.n_gen;
  for (double ns : r.samples_ns) r.samples_ts.push_back(1e9 * n_tokens / ns);
  const size_t n = r.samples_ts.size();
  double sum = 0;
  for (double v : r.samples_ts) sum += v;
  r.avg_ts = n ? sum / static_cast<double>(n) : 0.0;
  double sq = 0;
  for (double v : r.samples_ts) sq += (v - r.avg_ts) * (v - r.avg_ts);
  r.stddev_ts = n > 1 ? std::sqrt(sq / static_cast<double>(n - 1)) : 0.0;
}

}  // namespace

const char* file_type_name(int64_t ft) {
  switch (ft) {
    case 0:
      return "F32";
    case 1:
      return "F16";
    case 2:
      return "Q4_0";
    case 3:
      return "Q4_1";
    case 7:
      return "Q8_0";
    case 8:
      return "Q5_0";
    case 9:
      return "Q5_1";
    case 10:
      return "Q2_K";
    case 11:
      return "Q3_K_S";
    case 12:
      return "Q3_K_M";
    case 13:
      return "Q3_K_L";
    case 14:
      return "Q4_K_S";
    case 15:
      return "Q4_K_M";
    case 16:
      return "Q5_K_S";
    case 17:
      return "Q5_K_M";
    case 18:
      return "Q6_K";
    case 19:
      return "IQ2_XXS";
    case 20:
      return "IQ2_XS";
    case 21:
      return "Q2_K_S";
    case 22:
      return "IQ3_XS";
    case 23:
      return "IQ3_XXS";
    case 24:
      return "IQ1_S";
    case 25:
      return "IQ4_NL";
    case 26:
      return "IQ3_S";
    case 27:
      return "IQ3_M";
    case 28:
      return "IQ2_S";
    case 29:
      return "IQ2_M";
    case 30:
      return "IQ4_XS";
    case 31:
      return "IQ1_M";
    case 32:
      return "BF16";
    case 36:
      return "TQ1_0";
    case 37:
      return "TQ2_0";
    default:
      return "unknown";
  }
}

BenchModelInfo describe_model(const models::LlmModel& model) {
  const gguf::GgufFile& f = model.gguf();
  BenchModelInfo info;
  for (const auto& t : f.tensors()) {
    info.size_bytes += t.nbytes;
    info.n_params += t.n_elements();
  }
  std::string size = f.get_string("general.size_label", "");
  if (size.empty()) {
    char buf[32];
    const double n = static_cast<double>(info.n_params);
    if (n >= 1e9)
      std::snprintf(buf, sizeof(buf), "%.1fB", n / 1e9);
    else
      std::snprintf(buf, sizeof(buf), "%.0fM", n / 1e6);
    size = buf;
  }
  info.desc =
      model.hparams().arch_name + " " + size + " " + file_type_name(f.get_int("general.file_type", -1));
  return info;
}

uint64_t weight_bytes_per_token(const models::LlmModel& model) {
  const gguf::GgufFile& f = model.gguf();
  const bool tied = f.find_tensor("output.weight") == nullptr;
  uint64_t bytes = 0;
  for (const auto& t : f.tensors()) {
    if (t.name == "token_embd.weight" && !tied)
      bytes += row_size(t.type, t.dim(0));
    else
      bytes += t.nbytes;
  }
  return bytes;
}

std::vector<BenchTestResult> bench_llm(const models::LlmModel& model, const BenchLlmOptions& opts) {
  if (opts.n_prompt < 0 || opts.n_gen < 0 || opts.repetitions < 1 || opts.n_batch < 1 || opts.n_seqs < 1 ||
      opts.n_seqs > 256)
    throw Error(ErrorKind::InvalidArgument,
                "bench: need n_prompt, n_gen >= 0, repetitions >= 1, n_batch >= 1, 1 <= sequences <= 256");
  ContextOptions copts;
  copts.n_ctx = std::max({opts.n_prompt, opts.n_gen, 1});
  copts.kv_type = opts.kv_type;
  copts.n_batch = opts.n_batch;
  LlmContext ctx(model, copts);
  TokenSource src(model, opts.seed);
  std::vector<int32_t> buf;
  auto progress = [&](const std::string& s) {
    if (opts.on_progress) opts.on_progress(s);
  };

  std::vector<BenchTestResult> results;
  auto run_test = [&](BenchTestResult r, const std::function<void()>& body,
                      const std::function<void()>& warmup) {
    progress(r.name + " warm-up");
    ctx.reset();
    warmup();
    for (int i = 0; i < opts.repetitions; ++i) {
      progress(r.name + " run " + std::to_string(i + 1) + "/" + std::to_string(opts.repetitions));
      ctx.reset();
      const auto t0 = Clock::now();
      body();
      r.samples_ns.push_back(elapsed_ns(t0));
    }
    finish_stats(r);
    results.push_back(std::move(r));
  };
  if (opts.n_prompt > 0) {
    BenchTestResult r;
    r.name = "pp" + std::to_string(opts.n_prompt);
    r.n_prompt = opts.n_prompt;
    auto body = [&] { run_prompt(ctx, src, opts.n_prompt, opts.n_batch, buf); };
    run_test(std::move(r), body, body);  // llama-bench warms up with the whole prompt
  }
  if (opts.n_gen > 0) {
    BenchTestResult r;
    r.name = "tg" + std::to_string(opts.n_gen);
    r.n_gen = opts.n_gen;
    run_test(
        std::move(r), [&] { run_gen(ctx, src, opts.n_gen); }, [&] { run_gen(ctx, src, 1); });
  }
  if (opts.n_gen > 0 && opts.n_seqs > 1) {
    ContextOptions sopts = copts;
    sopts.n_ctx = opts.n_gen;
    std::vector<std::unique_ptr<LlmContext>> seqs;
    for (int i = 0; i < opts.n_seqs; ++i) seqs.push_back(std::make_unique<LlmContext>(model, sopts));
    auto reset_all = [&] {
      for (auto& c : seqs) c->reset();
    };
    BenchTestResult r;
    r.name = "tg" + std::to_string(opts.n_gen) + " x" + std::to_string(opts.n_seqs);
    r.n_gen = opts.n_gen * opts.n_seqs;
    r.n_seqs = opts.n_seqs;
    run_test(
        std::move(r), [&] { reset_all(), run_gen_batched(seqs, src, opts.n_gen); },
        [&] { reset_all(), run_gen_batched(seqs, src, 1); });
  }
  return results;
}

BandwidthResult measure_read_bandwidth(int n_threads, uint64_t bytes, int passes) {
  if (n_threads < 1 || passes < 1 || bytes < 4096)
    throw Error(ErrorKind::InvalidArgument, "bandwidth test: need threads >= 1, passes >= 1, >= 4 KiB");
  const size_t n = static_cast<size_t>(bytes / sizeof(uint64_t)) & ~size_t{7};
  std::unique_ptr<uint64_t[]> data(new uint64_t[n]);
  ThreadPool pool(n_threads);
  // First touch by the threads that read later, so pages land on their NUMA nodes.
  pool.run([&](int ith, int nth) {
    const auto [b, e] = ThreadPool::split(static_cast<int64_t>(n / 8), ith, nth);
    for (size_t i = static_cast<size_t>(b) * 8; i < static_cast<size_t>(e) * 8; ++i) data[i] = i;
  });
  std::vector<uint64_t> sums(static_cast<size_t>(n_threads) * 8);  // one cache line per thread
  double best_ns = 0;
  for (int p = 0; p < passes; ++p) {
    const auto t0 = Clock::now();
    pool.run([&](int ith, int nth) {
      const auto [b, e] = ThreadPool::split(static_cast<int64_t>(n / 8), ith, nth);
      const uint64_t* q = data.get();
      uint64_t a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      for (size_t i = static_cast<size_t>(b) * 8; i < static_cast<size_t>(e) * 8; i += 8)
        for (int k = 0; k < 8; ++k) a[k] += q[i + static_cast<size_t>(k)];
      uint64_t s = 0;
      for (uint64_t v : a) s += v;
      sums[static_cast<size_t>(ith) * 8] = s;
    });
    const double ns = elapsed_ns(t0);
    if (p == 0 || ns < best_ns) best_ns = ns;
  }
  // Keeps the sums observable so the reads cannot be optimised away.
  volatile uint64_t sink = 0;
  for (uint64_t s : sums) sink = sink + s;
  (void)sink;
  BandwidthResult r;
  r.bytes = n * sizeof(uint64_t);
  r.n_threads = n_threads;
  r.passes = passes;
  r.gb_per_s = static_cast<double>(r.bytes) / best_ns;  // bytes per ns = GB/s
  return r;
}

uint64_t peak_rss_bytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      unsigned long long kb = 0;
      if (std::sscanf(line.c_str() + 6, "%llu", &kb) == 1) return kb * 1024;
    }
  }
  rusage ru{};
  if (getrusage(RUSAGE_SELF, &ru) == 0) return static_cast<uint64_t>(ru.ru_maxrss) * 1024;
  return 0;
}

}  // namespace xnai::runtime
