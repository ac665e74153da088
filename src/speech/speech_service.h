// Text in, audio out, one sentence at a time: normalise → split into sentences → phonemise
// and cut to the model's limit → engine → callback. The first sentence's audio is handed to
// the callback before later sentences are synthesised, so playback (or an HTTP response)
// starts after one sentence, not after the whole text.
//
// Thread-safety: one SpeechService per thread (or serialise speak() calls); the engine may
// be shared if it is thread-safe.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "speech/phoneme_chunker.h"
#include "speech/tts_engine.h"

namespace xnai::speech {

struct SpeechOptions {
  std::string voice;  // empty = the engine's default
  double speed = 1.0;
  // Chunks per engine call for engines that batch (max_batch() > 1). The first chunk always
  // goes alone so the first audio is not delayed by its batch mates. Env KOKORO_BATCH_SIZE.
  int batch_size = 4;
  bool normalize = true;  // English text normalisation (numbers, abbreviations, URLs)
  size_t max_phonemes = kKokoroMaxPhonemes;

  // Defaults with KOKORO_BATCH_SIZE applied (Error(InvalidArgument) when it is not 1..64).
  static SpeechOptions from_env();
};

// What one callback receives: a chunk's audio (at the engine's rate) and what it says.
struct SpokenChunk {
  const SpeechChunk& chunk;
  const Audio& audio;
  size_t index;  // 0, 1, 2 … in speaking order
};
using SpokenCallback = std::function<void(const SpokenChunk&)>;

class SpeechService {
 public:
  SpeechService(std::shared_ptr<TtsEngine> engine, SpeechOptions options);

  // Speaks `text`; returns the number of chunks spoken. Throws Error for an unknown voice
  // (before any audio) or an engine failure.
  size_t speak(std::string_view text, const SpokenCallback& on_chunk);
  // Speaks Kokoro phonemes directly (no G2P); needs an engine that reads phonemes.
  size_t speak_phonemes(std::string_view phonemes, const SpokenCallback& on_chunk);

  // The chunks `text` becomes, without synthesis (what `xnai phonemes` prints).
  std::vector<SpeechChunk> plan(std::string_view text, bool merge_sentences) const;

  TtsEngine& engine() { return *engine_; }
  const SpeechOptions& options() const { return options_; }
  const std::string& language() const { return language_; }

 private:
  size_t run(std::vector<SpeechChunk> pending, std::string_view text, const SpokenCallback& on_chunk);

  std::shared_ptr<TtsEngine> engine_;
  SpeechOptions options_;
  std::string voice_, language_;
  std::optional<Phonemizer> phonemizer_;
};

}  // namespace xnai::speech
