// `xnai speak`, `xnai phonemes`, `xnai voices` run as a user would (env XNAI_BIN, set by ctest).
#include <gtest/gtest.h>
#include <sndfile.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "cli/cli_run.h"
#include <vector>

namespace {

using xnai::test::CliRun;

// No user config or model cache: with no flags the commands fall back to espeak-ng.
const std::string kIsolated = "XNAI_CONFIG=/nonexistent/config.json XNAI_MODELS=/nonexistent/models ";

CliRun run_xnai(const std::string& args) {
  const std::string cmd = kIsolated + std::string(std::getenv("XNAI_BIN")) + " " + args + " 2>/dev/null";
  return xnai::test::run_command(cmd);
}

// The same with `text` on stdin.
CliRun run_xnai_stdin(const std::string& text, const std::string& args) {
  const std::string cmd = "printf '%s' '" + text + "' | " + kIsolated + std::string(std::getenv("XNAI_BIN")) + " " + args + " 2>/dev/null";
  CliRun r;
  const int status = std::system(cmd.c_str());
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

#define REQUIRE_XNAI_BIN() \
  if (!std::getenv("XNAI_BIN")) GTEST_SKIP() << "XNAI_BIN not set (run through ctest)"

std::filesystem::path temp_file(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("xnai_cli_speech_" + std::to_string(::getpid()) + name);
}

struct Decoded {
  std::vector<float> samples;
  int rate = 0;
};
Decoded decode(const std::filesystem::path& p) {
  SF_INFO info{};
  Decoded d;
  SNDFILE* f = sf_open(p.c_str(), SFM_READ, &info);
  if (!f) return d;
  d.rate = info.samplerate;
  float buf[4096];
  for (sf_count_t n; (n = sf_readf_float(f, buf, 4096)) > 0;) d.samples.insert(d.samples.end(), buf, buf + n);
  sf_close(f);
  return d;
}

double rms(const std::vector<float>& x) {
  double s = 0;
  for (float v : x) s += double(v) * v;
  return x.empty() ? 0 : std::sqrt(s / x.size());
}

TEST(SpeakCli, WritesNonSilentWavOfPlausibleLength) {
  REQUIRE_XNAI_BIN();
  const auto p = temp_file(".wav");
  const CliRun r = run_xnai("speak \"The quick brown fox jumps over the lazy dog. It was not amused.\" -o " + p.string());
  ASSERT_EQ(r.code, 0);
  const Decoded d = decode(p);
  EXPECT_EQ(d.rate, 24000);
  const double seconds = double(d.samples.size()) / 24000;
  EXPECT_GT(seconds, 2.0);  // 16 words at ~175 words per minute ≈ 4–5 s
  EXPECT_LT(seconds, 10.0);
  EXPECT_GT(rms(d.samples), 0.01);
  std::filesystem::remove(p);
}

TEST(SpeakCli, StdinToStdoutAsFlac) {
  REQUIRE_XNAI_BIN();
  const auto p = temp_file(".flac");
  const CliRun r = run_xnai_stdin("Hello from standard input.", "speak --format flac > " + p.string());
  ASSERT_EQ(r.code, 0);
  const Decoded d = decode(p);
  EXPECT_EQ(d.rate, 24000);
  EXPECT_GT(d.samples.size(), 24000u / 2);
  EXPECT_GT(rms(d.samples), 0.01);
  std::filesystem::remove(p);
}

TEST(SpeakCli, BadVoiceAndFormatAreClearErrors) {
  REQUIRE_XNAI_BIN();
  EXPECT_EQ(run_xnai("speak hi --voice klingon -o /dev/null.wav").code, 3);  // NotFound
  EXPECT_EQ(run_xnai("speak hi -o out.xyz").code, 2);                        // InvalidArgument
  EXPECT_EQ(run_xnai("speak hi --kokoro /nowhere -o x.wav").code, 3);        // NotFound
}

TEST(PhonemesCli, PrintsKokoroPhonemes) {
  REQUIRE_XNAI_BIN();
  const CliRun r = run_xnai("phonemes \"Hello, world! The church judge.\"");
  ASSERT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "həlˈO, wˈɜɹld! ðə ʧˈɜɹʧ ʤˈʌʤ.\n");
  EXPECT_EQ(run_xnai("phonemes --lang en-gb Hair.").out, "hˈɛː.\n");
}

TEST(VoicesCli, ListsEspeakVoices) {
  REQUIRE_XNAI_BIN();
  const CliRun r = run_xnai("voices");
  ASSERT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("en-gb"), std::string::npos);
  EXPECT_NE(r.out.find("espeak-ng"), std::string::npos);
}

}  // namespace

namespace {

std::vector<float> read_f32(const std::filesystem::path& p) {
  std::vector<float> v(std::filesystem::file_size(p) / 4);
  FILE* f = std::fopen(p.c_str(), "rb");
  if (f) {
    if (std::fread(v.data(), 4, v.size(), f) != v.size()) v.clear();
    std::fclose(f);
  }
  return v;
}

}  // namespace

// The whole path a user takes (--kokoro folder, a .pt voice, --phonemes, --deterministic,
// a float WAV) against the PyTorch reference waveform of testdata/kokoro case1, at the
// README's end-to-end bar (correlation ≥ 0.99, relative RMS ≤ 0.15).
TEST(SpeakCli, KokoroMatchesTheReferenceWaveform) {
  REQUIRE_XNAI_BIN();
  const char* env = std::getenv("XNAI_TESTDATA");
  const std::filesystem::path td = env ? env : XNAI_DEFAULT_TESTDATA;
  if (!std::filesystem::exists(td / "kokoro" / "case1_audio.bin"))
    GTEST_SKIP() << "testdata/kokoro not found under " << td << " (set XNAI_TESTDATA)";
  const auto out = temp_file("kokoro.wav");
  const CliRun r = run_xnai("speak --kokoro " + (td / "kokoro").string() + " --voice " +
                            (td / "kokoro" / "voice-testdata.pt").string() +
                            " --phonemes 'həlˈO wˈɜɹld!' --deterministic --format wav-float -o " + out.string());
  ASSERT_EQ(r.code, 0);
  const Decoded d = decode(out);
  const auto ref = read_f32(td / "kokoro" / "case1_audio.bin");
  std::filesystem::remove(out);
  EXPECT_EQ(d.rate, 24000);
  ASSERT_EQ(d.samples.size(), ref.size());
  double xy = 0, xx = 0, yy = 0, ee = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    xy += double(d.samples[i]) * ref[i];
    xx += double(d.samples[i]) * d.samples[i];
    yy += double(ref[i]) * ref[i];
    ee += (double(d.samples[i]) - ref[i]) * (double(d.samples[i]) - ref[i]);
  }
  const double corr = xy / std::sqrt(xx * yy), rel = std::sqrt(ee / yy);
  std::printf("[ measure  ] xnai speak (Kokoro) vs case1: correlation %.5f, relative RMS %.4f\n", corr, rel);
  EXPECT_GE(corr, 0.99);
  EXPECT_LE(rel, 0.15);
}
