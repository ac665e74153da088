// POST /v1/audio/speech, as OpenAI defines it: {model, input, voice, speed, response_format}.
// The audio is streamed (chunked transfer) sentence by sentence: the first sentence is
// encoded and sent while later ones are still being synthesised, so a player starts early.
// One speech job runs at a time (the engine is not thread-safe); others wait their turn.
#include <httplib.h>

#include <memory>
#include <mutex>

#include "core/error.h"
#include "server/remote_relay.h"
#include "server/server_context.h"
#include "speech/audio_encoder.h"
#include "speech/speech_service.h"

namespace xnai::server {
namespace {

constexpr size_t kMaxInputChars = 16384;  // a long answer; longer texts are split by the caller

struct SpeechJob {
  std::string input;
  speech::SpeechOptions options;
  speech::AudioFormat format;
};

SpeechJob parse_speech_request(const ServerContext& ctx, const std::string& body) {
  const json req = parse_json_object(body);
  SpeechJob job;
  job.input = req_string(req, "input");
  if (job.input.empty()) throw bad_request("'input' is empty", "input");
  if (job.input.size() > kMaxInputChars)
    throw bad_request("'input' is longer than " + std::to_string(kMaxInputChars) + " characters", "input",
                      "string_above_max_length");
  if (auto model = opt_string(req, "model"); model && !model->empty() && *model != ctx.opts.tts_name &&
                                             *model != "tts-1" && *model != "tts-1-hd" && *model != "kokoro")
    throw ApiError(404, "invalid_request_error", "model '" + *model + "' is not served here (speech model: " +
                   ctx.opts.tts_name + ")", "model", "model_not_found");
  job.options = speech::SpeechOptions::from_env();
  if (auto voice = opt_string(req, "voice"); voice && !is_openai_voice(*voice)) job.options.voice = *voice;
  job.options.speed = opt_number(req, "speed", 0.25, 4.0).value_or(1.0);
  const std::string fmt = opt_string(req, "response_format").value_or("mp3");
  try {
    job.format = speech::parse_audio_format(fmt);
    speech::check_audio_format_supported(job.format, ctx.services.tts->sample_rate());
  } catch (const Error& e) {
    throw bad_request(e.what(), "response_format", "unsupported_format");
  }
  return job;
}

}  // namespace

bool is_openai_voice(const std::string& v) {
  for (const char* name : {"alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer", "verse"})
    if (v == name) return true;
  return false;
}

namespace {

void speech_handler(ServerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  if (ctx.remote_tts) {  // --tts-url: the remote engine speaks; its audio streams through
    relay_to_remote(ctx, *ctx.remote_tts, "/v1/audio/speech", parse_json_object(req.body), true, res);
    return;
  }
  if (!ctx.services.tts)
    throw ApiError(503, "server_error", "no speech engine is loaded", "", "model_not_loaded");
  auto job = std::make_shared<SpeechJob>(parse_speech_request(ctx, req.body));
  // The voice is checked before the response starts, so an unknown one is a 400 that lists
  // the available voices rather than a broken stream.
  std::shared_ptr<speech::SpeechService> service;
  try {
    service = std::make_shared<speech::SpeechService>(ctx.services.tts, job->options);
  } catch (const Error& e) {
    throw bad_request(e.what(), "voice", "voice_not_found");
  }

  res.set_header("Cache-Control", "no-cache");
  const int rate = ctx.services.tts->sample_rate();
  res.set_chunked_content_provider(
      speech::audio_mime_type(job->format, rate), [&ctx, job, service, rate](size_t, httplib::DataSink& sink) {
        bool client_gone = false;
        auto encoder = speech::AudioEncoder::open_stream(
            [&](const char* data, size_t n) {
              if (!client_gone && !sink.write(data, n)) client_gone = true;
            },
            job->format, rate);
        try {
          std::lock_guard<std::mutex> lock(ctx.tts_mu);
          service->speak(job->input, [&](const speech::SpokenChunk& c) {
            if (client_gone) throw Error(ErrorKind::Io, "client disconnected");
            encoder->write(c.audio.samples);
          });
          encoder->finish();
        } catch (const std::exception&) {
          // Mid-stream there is no way to send an error object: ending the stream short is
          // how the client learns (the status line is already sent).
          sink.done();
          return true;
        }
        ctx.metrics.record_speech(double(encoder->frames_written()) / rate);
        sink.done();
        return true;
      });
}

}  // namespace

void register_speech_routes(httplib::Server& http, ServerContext& ctx) {
  add_route(http, ctx, "POST", "/v1/audio/speech", "/v1/audio/speech", speech_handler);
}

}  // namespace xnai::server
