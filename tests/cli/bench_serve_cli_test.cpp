// `xnai bench serve` through the real binary (XNAI_BIN, set by ctest): a short run over two
// slot counts with the tiny model must answer every request, leak no slot and print a JSON
// report whose numbers hang together; bad options are refused with exit code 2.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "test_support.h"

namespace {

struct RunResult {
  int code = -1;
  std::string out;
};

// Runs `xnai ARGS`; stdout only, stderr discarded.
RunResult run_xnai(const std::string& args) {
  RunResult r;
  const char* bin = std::getenv("XNAI_BIN");
  if (!bin || !*bin) return r;
  std::string cmd = "'";
  cmd += bin;
  cmd += "' " + args + " 2>/dev/null";
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

TEST(BenchServeCli, TwoSlotCountsNoErrorsNoLeakedSlots) {
  REQUIRE_XNAI_BIN();
  XNAI_SKIP_IF_MISSING(path, "llm/tiny-llama-spm-q8_0.gguf");
  const RunResult r = run_xnai("bench serve -m '" + path.string() +
                               "' --clients 4 --duration 2 --max-tokens 8 --parallel-list 1,2 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["clients"], 4);
  EXPECT_EQ(j["baseline_parallel"], 1);
  const auto& runs = j["runs"];
  ASSERT_EQ(runs.size(), 2u);
  for (size_t i = 0; i < runs.size(); ++i) {
    const auto& row = runs[i];
    SCOPED_TRACE("run " + std::to_string(i));
    EXPECT_EQ(row["parallel"], i + 1);
    EXPECT_EQ(row["errors"], 0) << row["error_samples"].dump();
    EXPECT_EQ(row["leaked_slots"], 0);
    EXPECT_EQ(row["rejected"], 0);
    EXPECT_GT(row["requests_ok"].get<int64_t>(), 0);
    EXPECT_GT(row["tokens_per_s"].get<double>(), 0);
    EXPECT_GT(row["ttft_ms"]["p50"].get<double>(), 0);
    EXPECT_GE(row["latency_ms"]["p99"].get<double>(), row["latency_ms"]["p50"].get<double>());
    EXPECT_GT(row["rss_start_bytes"].get<int64_t>(), 0);
    EXPECT_GT(row["rss_end_bytes"].get<int64_t>(), 0);
  }
  EXPECT_DOUBLE_EQ(runs[0]["speedup"].get<double>(), 1.0);
}

TEST(BenchServeCli, BadOptionsExitTwo) {
  REQUIRE_XNAI_BIN();
  XNAI_SKIP_IF_MISSING(path, "llm/tiny-llama-spm-q8_0.gguf");
  const std::string m = "bench serve -m '" + path.string() + "' ";
  EXPECT_EQ(run_xnai(m + "--parallel-list 1,x").code, 2);
  EXPECT_EQ(run_xnai(m + "--parallel-list 0").code, 2);
  EXPECT_EQ(run_xnai(m + "--clients 0").code, 2);
  EXPECT_EQ(run_xnai(m + "--duration 0").code, 2);
}

}  // namespace
