// The fallback voice: espeak-ng's own formant synthesiser, always available (no model
// files). It reads text, not Kokoro phonemes. espeak-ng renders at 22050 Hz; this engine
// resamples to 24000 Hz (kSampleRate) so every engine hands the encoder the same rate.
// Thread-safe (espeak-ng calls are serialised process-wide).
#pragma once
#include "speech/tts_engine.h"

namespace xnai::speech {

class EspeakEngine final : public TtsEngine {
 public:
  static constexpr int kSampleRate = 24000;

  // Voices are the phoneme languages (see supported_languages()): "en-us", "en-gb", "es",
  // "fr-fr", "hi", "it", "pt-br". A Kokoro voice name ("af_heart") is also accepted and
  // speaks its language, so commands written for Kokoro keep working on the fallback.
  EspeakEngine();

  std::string name() const override { return "espeak-ng"; }
  std::vector<VoiceInfo> list_voices() const override;
  int sample_rate() const override { return kSampleRate; }
  bool needs_phonemes() const override { return false; }
  std::string default_voice() const override { return "en-us"; }
  std::string voice_language(const std::string& voice) const override;
  Audio synthesize(const SynthesisRequest& request) override;
};

}  // namespace xnai::speech
