#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>

#include "core/error.h"
#include "speech/espeak_engine.h"
#include "speech/speech_service.h"

namespace xnai::speech {
namespace {

double rms(const std::vector<float>& x) {
  double s = 0;
  for (float v : x) s += double(v) * v;
  return x.empty() ? 0 : std::sqrt(s / x.size());
}

TEST(EspeakEngine, SpeaksAtItsDeclaredRate) {
  EspeakEngine e;
  const Audio a = e.synthesize({"Hello world, this is a test.", "", "en-us", 1.0});
  EXPECT_EQ(a.sample_rate, 24000);
  const double seconds = double(a.samples.size()) / a.sample_rate;
  EXPECT_GT(seconds, 1.0);  // ~8 syllables at 175 words per minute
  EXPECT_LT(seconds, 4.0);
  EXPECT_GT(rms(a.samples), 0.01);
  const Audio fast = e.synthesize({"Hello world, this is a test.", "", "en-us", 2.0});
  EXPECT_LT(fast.samples.size(), a.samples.size() * 0.8);
}

TEST(EspeakEngine, VoicesAndErrors) {
  EspeakEngine e;
  EXPECT_EQ(e.list_voices().size(), 7u);
  EXPECT_EQ(e.voice_language("bf_emma"), "en-gb");
  try {
    e.synthesize({"x", "", "klingon", 1.0});
    FAIL();
  } catch (const Error& err) {
    EXPECT_EQ(err.kind(), ErrorKind::NotFound);
    EXPECT_NE(std::string(err.what()).find("en-gb"), std::string::npos) << err.what();
  }
  EXPECT_THROW(e.synthesize({"", "həlˈO", "en-us", 1.0}), Error);  // phonemes need Kokoro
  EXPECT_THROW(e.synthesize({"x", "", "en-us", 0.0}), Error);
}

// Records the order of engine calls and callbacks to check streaming and batching.
class FakeEngine : public TtsEngine {
 public:
  explicit FakeEngine(int batch) : batch_(batch) {}
  std::string name() const override { return "fake"; }
  std::vector<VoiceInfo> list_voices() const override { return {{"af_test", "en-us", ""}}; }
  int sample_rate() const override { return 24000; }
  bool needs_phonemes() const override { return true; }
  std::string default_voice() const override { return "af_test"; }
  std::string voice_language(const std::string& v) const override {
    if (v != "af_test") throw Error(ErrorKind::NotFound, "unknown voice " + v);
    return "en-us";
  }
  Audio synthesize(const SynthesisRequest& r) override {
    log.push_back("synth:" + r.text);
    return {std::vector<float>(10, 0.1f), 24000};
  }
  int max_batch() const override { return batch_; }
  std::vector<Audio> synthesize_batch(std::span<const SynthesisRequest> rs) override {
    log.push_back("batch:" + std::to_string(rs.size()));
    return std::vector<Audio>(rs.size(), Audio{std::vector<float>(10, 0.1f), 24000});
  }
  std::vector<std::string> log;

 private:
  int batch_;
};

TEST(SpeechService, FirstSentenceIsDeliveredBeforeTheNextIsSynthesised) {
  auto engine = std::make_shared<FakeEngine>(1);
  SpeechService s(engine, {});
  const size_t n = s.speak("First one. Second one! Third?", [&](const SpokenChunk& c) {
    engine->log.push_back("audio:" + std::to_string(c.index) + ":" + c.chunk.text);
    EXPECT_FALSE(c.chunk.phonemes.empty());
  });
  EXPECT_EQ(n, 3u);
  EXPECT_EQ(engine->log, (std::vector<std::string>{"synth:First one.", "audio:0:First one.", "synth:Second one!",
                                                   "audio:1:Second one!", "synth:Third?", "audio:2:Third?"}));
}

TEST(SpeechService, BatchesAfterTheFirstChunk) {
  auto engine = std::make_shared<FakeEngine>(8);
  SpeechOptions o;
  o.batch_size = 4;
  SpeechService s(engine, o);
  size_t chunks = 0;
  s.speak("A. B. C. D. E. F.", [&](const SpokenChunk&) { ++chunks; });
  EXPECT_EQ(chunks, 6u);
  EXPECT_EQ(engine->log, (std::vector<std::string>{"synth:A.", "batch:4", "synth:F."}));
}

TEST(SpeechService, OptionsAndErrors) {
  ::setenv("KOKORO_BATCH_SIZE", "2", 1);
  EXPECT_EQ(SpeechOptions::from_env().batch_size, 2);
  ::setenv("KOKORO_BATCH_SIZE", "zero", 1);
  EXPECT_THROW(SpeechOptions::from_env(), Error);
  ::unsetenv("KOKORO_BATCH_SIZE");
  EXPECT_EQ(SpeechOptions::from_env().batch_size, 4);
  SpeechOptions o;
  o.voice = "nobody";
  EXPECT_THROW(SpeechService(std::make_shared<FakeEngine>(1), o), Error);
  SpeechService es(std::make_shared<EspeakEngine>(), {});
  EXPECT_THROW(es.speak_phonemes("həlˈO", [](const SpokenChunk&) {}), Error);
}

TEST(SpeechService, EspeakSpeaksEachSentence) {
  SpeechService s(std::make_shared<EspeakEngine>(), {});
  std::vector<size_t> lengths;
  s.speak("Dr. Smith paid $3.50. Then he left.", [&](const SpokenChunk& c) {
    EXPECT_EQ(c.audio.sample_rate, 24000);
    EXPECT_GT(rms(c.audio.samples), 0.01);
    lengths.push_back(c.audio.samples.size());
  });
  ASSERT_EQ(lengths.size(), 2u);  // "Dr." does not end a sentence
  EXPECT_GT(lengths[0], lengths[1]);
}

}  // namespace
}  // namespace xnai::speech
