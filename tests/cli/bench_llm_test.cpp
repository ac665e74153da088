// `xnai bench llm` and runtime/bench_llm: llama-bench's test definitions and statistics,
// the model columns, the bandwidth figures, and the CLI's option fallbacks.
#include "runtime/bench_llm.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "compute/backend.h"
#include "core/error.h"
#include "formats/gguf.h"
#include "models/llm/llm.h"
#include "test_support.h"

namespace fs = std::filesystem;

namespace {

struct RunResult {
  int code = -1;
  std::string out;
};

// Runs `env_prefix xnai args` (XNAI_BIN, set by ctest); stdout only, stderr discarded.
RunResult run_xnai(const std::string& args, const std::string& env_prefix = "") {
  const char* bin = std::getenv("XNAI_BIN");
  RunResult r;
  if (!bin || !*bin) return r;
  const std::string cmd = env_prefix + " '" + bin + "' " + args + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

#define REQUIRE_XNAI_BIN() \
  if (!std::getenv("XNAI_BIN")) GTEST_SKIP() << "XNAI_BIN not set (run through ctest)"

}  // namespace

// JSON report of a tiny run: both tests, their sizes, and statistics that follow
// llama-bench's definitions (rate of each run = tokens · 1e9 / ns; mean and sample sd).
TEST(BenchLlm, JsonReportFollowsLlamaBench) {
  REQUIRE_XNAI_BIN();
  XNAI_SKIP_IF_MISSING(path, "llm/tiny-llama-spm-q8_0.gguf");
  const RunResult r = run_xnai("bench llm -m '" + path.string() + "' -p 16 -n 4 -r 3 -t 1 --json --no-bw");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  // 256·32000 + 256 + 2 · (2·256 + 2·256² + 2·256·128 + 3·256·512) parameters.
  EXPECT_EQ(j["model"]["n_params"], 9372928);
  uint64_t data_bytes = 0;
  const auto file = xnai::gguf::GgufFile::open(path.string());
  for (const auto& t : file.tensors()) data_bytes += t.nbytes;
  EXPECT_EQ(j["model"]["size_bytes"], data_bytes);
  EXPECT_EQ(j["model"]["type"], "llama 9M Q8_0");  // no size_label in the file: the parameter count
  EXPECT_EQ(j["n_threads"], 1);
  EXPECT_EQ(j["backend"], "CPU");
  EXPECT_GT(j["load_seconds"].get<double>(), 0.0);
  EXPECT_GT(j["peak_rss_bytes"].get<double>(), static_cast<double>(data_bytes) / 2);
  EXPECT_TRUE(j["bandwidth"].is_null());

  const auto& tests = j["tests"];
  ASSERT_EQ(tests.size(), 2u);
  EXPECT_EQ(tests[0]["test"], "pp16");
  EXPECT_EQ(tests[0]["n_prompt"], 16);
  EXPECT_EQ(tests[0]["n_gen"], 0);
  EXPECT_EQ(tests[1]["test"], "tg4");
  EXPECT_EQ(tests[1]["n_prompt"], 0);
  EXPECT_EQ(tests[1]["n_gen"], 4);
  for (const auto& t : tests) {
    const auto ns = t["samples_ns"].get<std::vector<double>>();
    const auto ts = t["samples_ts"].get<std::vector<double>>();
    ASSERT_EQ(ns.size(), 3u);
    ASSERT_EQ(ts.size(), 3u);
    const double tokens = t["n_prompt"].get<double>() + t["n_gen"].get<double>();
    double mean = 0;
    for (size_t i = 0; i < 3; ++i) {
      EXPECT_GT(ns[i], 0);
      EXPECT_NEAR(ts[i], tokens * 1e9 / ns[i], 1e-9 * ts[i]);
      mean += ts[i] / 3;
    }
    double var = 0;
    for (double v : ts) var += (v - mean) * (v - mean) / 2;
    EXPECT_NEAR(t["avg_ts"].get<double>(), mean, 1e-9 * mean);
    EXPECT_NEAR(t["stddev_ts"].get<double>(), std::sqrt(var), 1e-9 * mean);
  }
}

// The markdown table has llama-bench's header and one row per test; MODEL_PATH and
// N_THREADS stand in for -m and -t.
TEST(BenchLlm, TableAndEnvironmentFallbacks) {
  REQUIRE_XNAI_BIN();
  XNAI_SKIP_IF_MISSING(path, "llm/tiny-llama-spm-q4_0-pure.gguf");
  const RunResult r =
      run_xnai("bench llm -p 8 -n 2 -r 1 --bw", "MODEL_PATH='" + path.string() + "' N_THREADS=1");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("| model                          |       size |     params | backend    | threads |"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("| llama 9M Q4_0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("|       1 |           pp8 |"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("|           tg2 |"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" ± "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("read bandwidth:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("decode reads"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("peak RSS"), std::string::npos) << r.out;
}

TEST(BenchLlm, OptionErrors) {
  REQUIRE_XNAI_BIN();
  EXPECT_EQ(run_xnai("bench llm -p 8", "MODEL_PATH=").code, 2);  // no model at all
  XNAI_SKIP_IF_MISSING(path, "llm/tiny-llama-spm-q8_0.gguf");
  EXPECT_EQ(run_xnai("bench llm -m '" + path.string() + "' -r 0").code, 2);
  EXPECT_EQ(run_xnai("bench llm -m '" + path.string() + "' -p -1").code, 2);
  EXPECT_EQ(run_xnai("bench llm -m /nonexistent.gguf").code, 3);
}

TEST(BenchLlm, BandwidthOnly) {
  REQUIRE_XNAI_BIN();
  const RunResult r = run_xnai("bench llm --bw --json -t 1", "MODEL_PATH=");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_GT(j["bandwidth"]["gb_per_s"].get<double>(), 0.1);
  EXPECT_EQ(j["bandwidth"]["n_threads"], 1);
}

// Bytes streamed per token: every tensor, except only one row of an untied embedding.
TEST(BenchLlm, WeightBytesPerToken) {
  XNAI_SKIP_IF_MISSING(tied, "llm/tiny-llama-spm-q8_0.gguf");
  auto backend = xnai::compute::make_cpu_backend({});
  {
    auto model = xnai::models::LlmModel::load(tied.string(), *backend);
    uint64_t all = 0;
    for (const auto& t : model->gguf().tensors()) all += t.nbytes;
    EXPECT_EQ(xnai::runtime::weight_bytes_per_token(*model), all);  // tied: the embedding is the LM head
  }
  if (!std::getenv("XNAI_BIN")) GTEST_SKIP() << "XNAI_BIN not set: untied case needs model synth";
  const fs::path out =
      fs::temp_directory_path() / ("xnai_bench_untied_" + std::to_string(::getpid()) + ".gguf");
  ASSERT_EQ(
      run_xnai("model synth --like tinyllama-1.1b --type q4_0 --layers 1 -o '" + out.string() + "'").code, 0);
  auto model = xnai::models::LlmModel::load(out.string(), *backend);
  uint64_t all = 0;
  for (const auto& t : model->gguf().tensors()) all += t.nbytes;
  // token_embd: 32000 rows of 2048 Q4_0 values (64 blocks of 18 bytes); one row is read.
  EXPECT_EQ(xnai::runtime::weight_bytes_per_token(*model), all - 32000ull * 64 * 18 + 64 * 18);
  fs::remove(out);
}

TEST(BenchLlm, BandwidthMeasurement) {
  const auto bw = xnai::runtime::measure_read_bandwidth(1, 64ull << 20, 2);
  EXPECT_EQ(bw.bytes, 64ull << 20);
  EXPECT_EQ(bw.n_threads, 1);
  EXPECT_TRUE(std::isfinite(bw.gb_per_s));
  EXPECT_GT(bw.gb_per_s, 0.1);
  EXPECT_THROW(xnai::runtime::measure_read_bandwidth(0), xnai::Error);
}
