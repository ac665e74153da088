// The interface every speech synthesiser implements (espeak-ng now, Kokoro next), so the
// speech service, the CLI and the server do not care which one speaks.
//
// Thread-safety: implementations say; the service calls one engine from one thread at a time.
#pragma once
#include <span>
#include <string>
#include <vector>

namespace xnai::speech {

struct VoiceInfo {
  std::string name;      // what --voice takes: "af_heart", "en-us"
  std::string language;  // phoneme language: "en-us", "en-gb", "fr-fr" …
  std::string description;
};

// One piece to speak. Engines that read phonemes (Kokoro) use `phonemes`; engines that read
// text (espeak-ng) use `text`; the service fills both when it can.
struct SynthesisRequest {
  std::string text;
  std::string phonemes;  // Kokoro vocabulary symbols, ≤ 510 code points
  std::string voice;     // a name from list_voices() (or an engine-specific spec, e.g. a mix)
  double speed = 1.0;    // 1 = normal; 2 = twice as fast
};

struct Audio {
  std::vector<float> samples;  // mono, [-1, 1]
  int sample_rate = 0;
};

class TtsEngine {
 public:
  virtual ~TtsEngine() = default;

  virtual std::string name() const = 0;
  virtual std::vector<VoiceInfo> list_voices() const = 0;
  // Output rate of synthesize(), in Hz.
  virtual int sample_rate() const = 0;
  // True when the engine reads SynthesisRequest::phonemes (so the service must phonemise).
  virtual bool needs_phonemes() const = 0;
  // The voice used when none is given.
  virtual std::string default_voice() const = 0;
  // The phoneme/normalisation language of `voice`; throws Error(NotFound) listing the
  // voices for an unknown one.
  virtual std::string voice_language(const std::string& voice) const = 0;

  // Throws Error(NotFound) for an unknown voice, Error(InvalidArgument) for a bad speed or
  // input the engine cannot take.
  virtual Audio synthesize(const SynthesisRequest& request) = 0;

  // Up to max_batch() requests at once; the default runs them one by one. Engines that can
  // batch (Kokoro) override both.
  virtual int max_batch() const { return 1; }
  virtual std::vector<Audio> synthesize_batch(std::span<const SynthesisRequest> requests) {
    std::vector<Audio> out;
    out.reserve(requests.size());
    for (const auto& r : requests) out.push_back(synthesize(r));
    return out;
  }
};

}  // namespace xnai::speech
