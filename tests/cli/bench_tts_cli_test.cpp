// `xnai bench tts` on the synthetic Kokoro-82M (no model files needed): the JSON report has
// every section, with positive timings, and the audio length follows the forced durations.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/cli_run.h"

namespace {

using xnai::test::CliRun;

// No user config or model cache, so the synthetic model is what runs.
CliRun run_xnai(const std::string& args) {
  const std::string cmd =
      "XNAI_CONFIG=/nonexistent/config.json XNAI_MODELS=/nonexistent/models KOKORO_MODEL_DIR= '" +
      std::string(std::getenv("XNAI_BIN")) + "' " + args + " 2>/dev/null";
  return xnai::test::run_command(cmd);
}

void expect_positive_stats(const nlohmann::json& s, size_t n) {
  ASSERT_TRUE(s.is_object()) << s.dump();
  EXPECT_GT(s["mean"].get<double>(), 0.0);
  EXPECT_GE(s["sd"].get<double>(), 0.0);
  EXPECT_GT(s["median"].get<double>(), 0.0);
  EXPECT_EQ(s["samples"].size(), n);
}

}  // namespace

TEST(BenchTtsCli, JsonReportHasEverySection) {
  if (!std::getenv("XNAI_BIN")) GTEST_SKIP() << "XNAI_BIN not set (run through ctest)";
  // One frame per phoneme keeps the generator small; two runs give a standard deviation.
  const CliRun r =
      run_xnai("bench tts -l 6,12 -r 2 --sentences 1,2 --batch 2 --frames-per-phoneme 1 -t 2 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["engine"], "kokoro-82m");
  EXPECT_EQ(j["model"], "synthetic");
  EXPECT_EQ(j["n_threads"], 2);
  EXPECT_EQ(j["repetitions"], 2);
  EXPECT_GT(j["load_seconds"].get<double>(), 0.0);
  EXPECT_GT(j["peak_rss_bytes"].get<double>(), 100e6);  // 82 M float32 parameters

  ASSERT_EQ(j["synthesis"].size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const auto& s = j["synthesis"][i];
    const int n = i == 0 ? 6 : 12;
    EXPECT_EQ(s["phonemes"], n);
    // n phonemes + 2 boundary tokens, one frame each, 600 samples (25 ms) per frame.
    EXPECT_DOUBLE_EQ(s["audio_seconds"].get<double>(), (n + 2) * 0.025);
    expect_positive_stats(s["wall_seconds"], 2);
    expect_positive_stats(s["rtf"], 2);
  }
  ASSERT_EQ(j["first_audio"].size(), 2u);
  EXPECT_EQ(j["first_audio"][1]["sentences"], 2);
  for (const auto& f : j["first_audio"]) expect_positive_stats(f["first_audio_seconds"], 2);
  ASSERT_TRUE(j["first_audio_short_sentence"].is_object());
  EXPECT_FALSE(j["first_audio_short_sentence"]["text"].get<std::string>().empty());
  expect_positive_stats(j["first_audio_short_sentence"]["first_audio_seconds"], 2);

  const auto& b = j["batch"];
  EXPECT_EQ(b["sentences"], 4);
  for (const char* key : {"batch_1", "batch_2"}) {
    ASSERT_TRUE(b.contains(key)) << b.dump();
    EXPECT_GT(b[key]["audio_seconds"].get<double>(), 0.0);
    EXPECT_GT(b[key]["audio_seconds_per_second"].get<double>(), 0.0);
    expect_positive_stats(b[key]["wall_seconds"], 2);
  }
  EXPECT_DOUBLE_EQ(b["batch_1"]["audio_seconds"].get<double>(), b["batch_2"]["audio_seconds"].get<double>());
  EXPECT_GT(b["speedup"].get<double>(), 0.0);
}

TEST(BenchTtsCli, RejectsBadLengths) {
  if (!std::getenv("XNAI_BIN")) GTEST_SKIP() << "XNAI_BIN not set (run through ctest)";
  EXPECT_EQ(run_xnai("bench tts -l 0 --json").code, 2);
  EXPECT_EQ(run_xnai("bench tts -l 600 --json").code, 2);
  EXPECT_EQ(run_xnai("bench tts -r 0 --json").code, 2);
}
