// Speaking a RAG answer sentence by sentence while it is generated (POST /v1/rag/query with
// "audio": {"voice", "format"}). Text goes in piece by piece; a sentence is spoken as soon as
// the next one has begun (or the answer ends), so the first clip is ready while the model is
// still writing the second sentence. Each clip is a complete file in the asked format, made
// by the local speech engine (one job at a time, under ctx.tts_mu) or by the remote one
// (--tts-url). Citation markers ([1], [2-3]) are not read aloud.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "server/api_error.h"
#include "speech/audio_encoder.h"

namespace xnai::speech {
class SpeechService;
}

namespace xnai::server {

struct ServerContext;

struct AnswerAudioRequest {
  std::string voice;        // as asked ("" = the engine's default)
  std::string format_name;  // "mp3", "wav", …
  speech::AudioFormat format = speech::AudioFormat::Mp3;
};

// Reads the request's "audio" object; nullopt when absent. Throws ApiError: 400 naming
// audio.voice / audio.format for bad values, 503 when no speech engine is available.
std::optional<AnswerAudioRequest> read_answer_audio(const ServerContext& ctx, const json& body);

struct SpokenSentence {
  size_t index = 0;   // 0, 1, 2 … in speaking order
  std::string text;   // what was spoken (markers removed)
  std::string audio;  // the encoded clip
};

class SentenceSpeaker {
 public:
  using OnSentence = std::function<bool(const SpokenSentence&)>;  // false: stop
  // Throws ApiError 400 (audio.voice) for a voice the local engine does not have.
  SentenceSpeaker(ServerContext& ctx, AnswerAudioRequest request, OnSentence on_sentence);
  ~SentenceSpeaker();

  // Adds answer text; speaks the sentences it completes. False once on_sentence said stop.
  bool add(std::string_view piece);
  // Speaks what is left (the last sentence).
  bool finish();

 private:
  bool speak(std::string_view sentence);
  std::string synthesize(const std::string& text);

  ServerContext& ctx_;
  AnswerAudioRequest request_;
  OnSentence on_sentence_;
  std::shared_ptr<speech::SpeechService> service_;  // the local engine's; null when remote
  std::string pending_;                             // text not yet spoken
  size_t spoken_ = 0;
};

}  // namespace xnai::server
