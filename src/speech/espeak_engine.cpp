#include "speech/espeak_engine.h"

#include <espeak-ng/speak_lib.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "speech/espeak_library.h"
#include "speech/phonemizer.h"
#include "speech/resampler.h"

namespace xnai::speech {
namespace {

// espeak_Synth runs synchronously and hands audio to this callback in pieces; the user
// data of each event points at the buffer of the call in progress.
int collect(short* wav, int count, espeak_EVENT* events) {
  if (!wav || count <= 0) return 0;
  auto* out = static_cast<std::vector<float>*>(events ? events->user_data : nullptr);
  if (!out) return 0;
  for (int i = 0; i < count; ++i) out->push_back(static_cast<float>(wav[i]) / 32768.0f);
  return 0;  // 0 = continue
}

std::string voice_list() {
  std::string s;
  for (const auto& l : supported_languages()) s += (s.empty() ? "" : ", ") + l;
  return s;
}

}  // namespace

EspeakEngine::EspeakEngine() { auto lock = detail::lock_espeak(); }

std::vector<VoiceInfo> EspeakEngine::list_voices() const {
  static const char* kNames[] = {"American English", "British English", "Spanish", "French",
                                 "Hindi",            "Italian",         "Brazilian Portuguese"};
  std::vector<VoiceInfo> out;
  const auto& langs = supported_languages();
  for (size_t i = 0; i < langs.size(); ++i) out.push_back({langs[i], langs[i], std::string("espeak-ng ") + kNames[i]});
  return out;
}

std::string EspeakEngine::voice_language(const std::string& voice) const {
  try {
    return language_for_voice(voice.empty() ? default_voice() : voice);
  } catch (const Error& e) {
    throw Error(ErrorKind::NotFound, "unknown voice '" + voice + "' for the espeak-ng engine (" + e.what() +
                                         "); available: " + voice_list());
  }
}

Audio EspeakEngine::synthesize(const SynthesisRequest& request) {
  if (!(request.speed >= 0.25 && request.speed <= 4.0))
    throw Error(ErrorKind::InvalidArgument, "speed " + std::to_string(request.speed) + " is outside 0.25..4");
  if (request.text.empty() && !request.phonemes.empty())
    throw Error(ErrorKind::InvalidArgument,
                "the espeak-ng engine speaks text, not Kokoro phonemes (--phonemes needs the Kokoro engine)");
  const std::string language = voice_language(request.voice);
  std::vector<float> native;
  int native_rate = 0;
  {
    auto lock = detail::lock_espeak();
    detail::select_espeak_language(language);
    native_rate = detail::espeak_native_sample_rate();
    const int rate = std::clamp(static_cast<int>(std::lround(espeakRATE_NORMAL * request.speed)), espeakRATE_MINIMUM,
                                espeakRATE_MAXIMUM);
    espeak_SetParameter(espeakRATE, rate, 0);
    espeak_SetSynthCallback(collect);
    const espeak_ERROR rc = espeak_Synth(request.text.c_str(), request.text.size() + 1, 0, POS_CHARACTER, 0,
                                         espeakCHARS_UTF8, nullptr, &native);
    if (rc != EE_OK) throw Error(ErrorKind::Internal, "espeak-ng synthesis failed (error " + std::to_string(rc) + ")");
  }
  return {resample(native, native_rate, kSampleRate), kSampleRate};
}

}  // namespace xnai::speech
