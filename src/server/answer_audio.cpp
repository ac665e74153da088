#include "server/answer_audio.h"

#include <cctype>
#include <mutex>

#include "core/error.h"
#include "rag/answer.h"
#include "server/server_context.h"
#include "speech/speech_service.h"

namespace xnai::server {

std::optional<AnswerAudioRequest> read_answer_audio(const ServerContext& ctx, const json& body) {
  auto it = body.find("audio");
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_object())
    throw bad_request(std::string("'audio' must be an object like {\"voice\": \"alloy\", \"format\": \"mp3\"}, got ") +
                          it->type_name(),
                      "audio", "invalid_type");
  AnswerAudioRequest a;
  try {
    a.voice = opt_string(*it, "voice").value_or("");
    a.format_name = opt_string(*it, "format").value_or("mp3");
  } catch (const ApiError& e) {
    throw ApiError(e.status, e.type, std::string("audio.") + e.what(), "audio." + e.param, e.code);
  }
  if (!ctx.remote_tts && !ctx.services.tts)
    throw ApiError(503, "server_error", "'audio' needs a speech engine, and none is loaded", "audio",
                   "model_not_loaded");
  try {
    a.format = speech::parse_audio_format(a.format_name);
    // A remote engine knows its own formats; it answers an error for one it lacks.
    if (!ctx.remote_tts) speech::check_audio_format_supported(a.format, ctx.services.tts->sample_rate());
  } catch (const Error& e) {
    throw bad_request(std::string("'audio.format': ") + e.what(), "audio.format", "unsupported_format");
  }
  return a;
}

SentenceSpeaker::SentenceSpeaker(ServerContext& ctx, AnswerAudioRequest request, OnSentence on_sentence)
    : ctx_(ctx), request_(std::move(request)), on_sentence_(std::move(on_sentence)) {
  if (ctx.remote_tts) return;
  auto options = speech::SpeechOptions::from_env();
  if (!request_.voice.empty() && !is_openai_voice(request_.voice)) options.voice = request_.voice;
  try {
    service_ = std::make_shared<speech::SpeechService>(ctx.services.tts, options);
  } catch (const Error& e) {
    throw bad_request(std::string("'audio.voice': ") + e.what(), "audio.voice", "voice_not_found");
  }
}

SentenceSpeaker::~SentenceSpeaker() = default;

bool SentenceSpeaker::add(std::string_view piece) {
  pending_ += piece;
  const auto spans = rag::split_sentences(pending_);
  if (spans.size() < 2) return true;
  // Every sentence but the last is complete: the last may still grow.
  const std::string text = pending_;
  pending_ = text.substr(static_cast<size_t>(spans.back().begin));
  for (size_t i = 0; i + 1 < spans.size(); ++i)
    if (!speak(std::string_view(text).substr(spans[i].begin, spans[i].end - spans[i].begin))) return false;
  return true;
}

bool SentenceSpeaker::finish() {
  const std::string rest = std::move(pending_);
  pending_.clear();
  for (const auto& s : rag::split_sentences(rest))
    if (!speak(std::string_view(rest).substr(s.begin, s.end - s.begin))) return false;
  return true;
}

bool SentenceSpeaker::speak(std::string_view sentence) {
  // Drop the [n] markers and tidy the space they leave.
  std::string text;
  size_t at = 0;
  for (const auto& m : rag::find_citation_markers(sentence)) {
    text.append(sentence.substr(at, m.begin - at));
    at = m.end;
  }
  text.append(sentence.substr(at));
  std::string tidy;
  for (char c : text) {
    const bool space = std::isspace(static_cast<unsigned char>(c));
    if (space && (tidy.empty() || tidy.back() == ' ')) continue;
    tidy += space ? ' ' : c;
  }
  while (!tidy.empty() && tidy.back() == ' ') tidy.pop_back();
  bool sayable = false;
  for (unsigned char c : tidy) sayable |= std::isalnum(c) || c >= 0x80;
  if (!sayable) return true;
  SpokenSentence s;
  s.index = spoken_++;
  s.audio = synthesize(tidy);
  s.text = std::move(tidy);
  return on_sentence_(s);
}

std::string SentenceSpeaker::synthesize(const std::string& text) {
  if (ctx_.remote_tts) {
    json req{{"input", text}, {"voice", request_.voice.empty() ? "alloy" : request_.voice},
             {"response_format", request_.format_name}};
    if (auto model = ctx_.remote_tts->default_model()) req["model"] = *model;
    const RemoteReply r = ctx_.remote_tts->post("/v1/audio/speech", req);
    ctx_.metrics.record_remote("tts", r.status == 200);
    if (r.status != 200)
      throw ApiError(502, "server_error",
                     "the remote tts engine at " + ctx_.remote_tts->display() + " answered HTTP " +
                         std::to_string(r.status) + ": " + r.body.substr(0, 300),
                     "audio", "remote_error");
    return r.body;
  }
  std::string clip;
  const int rate = ctx_.services.tts->sample_rate();
  auto encoder = speech::AudioEncoder::open_stream([&](const char* d, size_t n) { clip.append(d, n); },
                                                   request_.format, rate);
  {
    std::lock_guard<std::mutex> lock(ctx_.tts_mu);
    service_->speak(text, [&](const speech::SpokenChunk& c) { encoder->write(c.audio.samples); });
  }
  encoder->finish();
  ctx_.metrics.record_speech(double(encoder->frames_written()) / rate);
  return clip;
}

}  // namespace xnai::server
