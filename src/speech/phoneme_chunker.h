// Text → the pieces Kokoro synthesises one forward pass each: sentences (ICU) phonemised and
// cut to at most 510 phonemes (Kokoro's context is 512 ids including the two boundary pads).
// An over-long sentence is cut after sentence punctuation (. ! ? …) if it has some, else
// after : ; , or —, else between words — never inside a word (a single word longer than the
// limit, which no language has, is the only exception).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "speech/phonemizer.h"

namespace xnai::speech {

inline constexpr size_t kKokoroMaxPhonemes = 510;

struct SpeechChunk {
  std::string text;      // the (normalised) text this chunk speaks; for phoneme input, empty
  std::string phonemes;  // what the model sees, vocab symbols only, ≤ max_phonemes code points
  size_t sentence = 0;   // index of the (first) sentence it belongs to
};

struct ChunkOptions {
  size_t max_phonemes = kKokoroMaxPhonemes;
  // Pack consecutive short sentences into one chunk (fewer forward passes). Streaming turns
  // this off so each sentence is spoken as soon as it is ready.
  bool merge_sentences = true;
};

// Sentences of `text`: split at line breaks (like Kokoro's pipeline), then by ICU's sentence
// rules; trimmed, empty ones dropped.
std::vector<std::string> split_sentences(std::string_view text);

class PhonemeChunker {
 public:
  PhonemeChunker(const Phonemizer& phonemizer, ChunkOptions options = {});

  // All chunks of `text` (already normalised), in order.
  std::vector<SpeechChunk> chunk_text(std::string_view text) const;
  // The chunks of one sentence (one, unless it is longer than max_phonemes).
  std::vector<SpeechChunk> chunk_sentence(std::string_view sentence, size_t index = 0) const;

  const ChunkOptions& options() const { return options_; }

 private:
  const Phonemizer& phonemizer_;
  ChunkOptions options_;
};

// A phoneme string given directly (no G2P) cut the same way, at spaces and punctuation.
// Symbols outside Kokoro's vocabulary are dropped first.
std::vector<std::string> split_phonemes(std::string_view phonemes, size_t max_phonemes = kKokoroMaxPhonemes);

}  // namespace xnai::speech
