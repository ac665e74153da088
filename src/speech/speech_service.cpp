#include "speech/speech_service.h"

#include <algorithm>
#include <cstdlib>

#include "core/error.h"
#include "speech/text_normalizer.h"

namespace xnai::speech {

SpeechOptions SpeechOptions::from_env() {
  SpeechOptions o;
  if (const char* env = std::getenv("KOKORO_BATCH_SIZE"); env && *env) {
    char* end = nullptr;
    const long v = std::strtol(env, &end, 10);
    if (*end != '\0' || v < 1 || v > 64)
      throw Error(ErrorKind::InvalidArgument, std::string("KOKORO_BATCH_SIZE='") + env + "' is not a number in 1..64");
    o.batch_size = static_cast<int>(v);
  }
  return o;
}

SpeechService::SpeechService(std::shared_ptr<TtsEngine> engine, SpeechOptions options)
    : engine_(std::move(engine)), options_(std::move(options)) {
  if (!engine_) throw Error(ErrorKind::Internal, "SpeechService without an engine");
  if (options_.batch_size < 1) throw Error(ErrorKind::InvalidArgument, "batch size must be at least 1");
  voice_ = options_.voice.empty() ? engine_->default_voice() : options_.voice;
  language_ = engine_->voice_language(voice_);  // an unknown voice fails here, before any audio
  phonemizer_.emplace(language_);
}

std::vector<SpeechChunk> SpeechService::plan(std::string_view text, bool merge_sentences) const {
  const std::string normalized = options_.normalize ? normalize_text(text, language_) : std::string(text);
  PhonemeChunker chunker(*phonemizer_, {options_.max_phonemes, merge_sentences});
  return chunker.chunk_text(normalized);
}

size_t SpeechService::speak(std::string_view text, const SpokenCallback& on_chunk) {
  return run({}, text, on_chunk);
}

size_t SpeechService::speak_phonemes(std::string_view phonemes, const SpokenCallback& on_chunk) {
  if (!engine_->needs_phonemes())
    throw Error(ErrorKind::InvalidArgument, "the " + engine_->name() +
                                                " engine speaks text, not Kokoro phonemes (--phonemes needs the Kokoro engine)");
  std::vector<SpeechChunk> chunks;
  for (auto& p : split_phonemes(phonemes, options_.max_phonemes)) chunks.push_back({"", std::move(p), chunks.size()});
  return run(std::move(chunks), {}, on_chunk);
}

// Sentences are phonemised lazily, one batch ahead of the engine, so the first sentence is
// synthesised without waiting for G2P of the rest.
size_t SpeechService::run(std::vector<SpeechChunk> given, std::string_view text, const SpokenCallback& on_chunk) {
  const bool from_text = given.empty();
  std::vector<std::string> sentences;
  if (from_text) {
    const std::string normalized = options_.normalize ? normalize_text(text, language_) : std::string(text);
    sentences = split_sentences(normalized);
  }
  PhonemeChunker chunker(*phonemizer_, {options_.max_phonemes, false});
  size_t next_sentence = 0, next_given = 0, spoken = 0;
  std::vector<SpeechChunk> queue;
  auto refill = [&](size_t want) {
    while (queue.size() < want) {
      if (!from_text) {
        if (next_given >= given.size()) return;
        queue.push_back(std::move(given[next_given++]));
      } else {
        if (next_sentence >= sentences.size()) return;
        for (auto& c : chunker.chunk_sentence(sentences[next_sentence], next_sentence)) queue.push_back(std::move(c));
        ++next_sentence;
      }
    }
  };
  const size_t batch = engine_->max_batch() > 1
                           ? static_cast<size_t>(std::min(options_.batch_size, engine_->max_batch()))
                           : 1;
  while (true) {
    refill(spoken == 0 ? 1 : batch);
    if (queue.empty()) break;
    const size_t n = spoken == 0 ? 1 : std::min(batch, queue.size());
    std::vector<SynthesisRequest> requests;
    for (size_t i = 0; i < n; ++i) requests.push_back({queue[i].text, queue[i].phonemes, voice_, options_.speed});
    std::vector<Audio> audio = n == 1 ? std::vector<Audio>{engine_->synthesize(requests[0])}
                                      : engine_->synthesize_batch(requests);
    if (audio.size() != n) throw Error(ErrorKind::Internal, engine_->name() + " returned the wrong number of results");
    for (size_t i = 0; i < n; ++i) on_chunk({queue[i], audio[i], spoken++});
    queue.erase(queue.begin(), queue.begin() + static_cast<long>(n));
  }
  return spoken;
}

}  // namespace xnai::speech
