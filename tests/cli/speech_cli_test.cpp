// `xnai speak`, `xnai phonemes`, `xnai voices` run as a user would (env XNAI_BIN, set by ctest).
#include <gtest/gtest.h>
#include <sndfile.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace {

struct CliRun {
  int code = -1;
  std::string out;
};

CliRun run_xnai(const std::string& args) {
  const std::string cmd = std::string(std::getenv("XNAI_BIN")) + " " + args + " 2>/dev/null";
  CliRun r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// The same with `text` on stdin.
CliRun run_xnai_stdin(const std::string& text, const std::string& args) {
  const std::string cmd = "printf '%s' '" + text + "' | " + std::string(std::getenv("XNAI_BIN")) + " " + args + " 2>/dev/null";
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
  EXPECT_EQ(run_xnai("speak hi --kokoro /nowhere -o x.wav").code, 5);        // not wired yet
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
