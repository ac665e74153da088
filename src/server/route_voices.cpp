// GET /v1/audio/voices: the voices the speech engine offers, for pickers (the web page) and
// scripts. Not an OpenAI route (OpenAI documents its fixed voice names instead); those names
// are accepted by /v1/audio/speech too and mean the default voice.
#include <httplib.h>

#include <mutex>

#include "server/server_context.h"
#include "speech/tts_engine.h"

namespace xnai::server {
namespace {

void list_voices(ServerContext& ctx, const httplib::Request&, httplib::Response& res) {
  if (!ctx.services.tts)
    throw ApiError(503, "server_error", "no speech engine is loaded", "", "model_not_loaded");
  std::vector<speech::VoiceInfo> voices;
  std::string default_voice, engine;
  {
    // The engine is used from one thread at a time (tts_engine.h).
    std::lock_guard<std::mutex> lock(ctx.tts_mu);
    voices = ctx.services.tts->list_voices();
    default_voice = ctx.services.tts->default_voice();
    engine = ctx.services.tts->name();
  }
  json data = json::array();
  for (const auto& v : voices)
    data.push_back(json{{"id", v.name}, {"object", "voice"}, {"language", v.language}, {"description", v.description}});
  send_json(res, json{{"object", "list"},
                      {"model", ctx.opts.tts_name},
                      {"engine", engine},
                      {"default", default_voice},
                      {"data", data}});
}

}  // namespace

void register_voice_routes(httplib::Server& http, ServerContext& ctx) {
  add_route(http, ctx, "GET", "/v1/audio/voices", "/v1/audio/voices", list_voices);
}

}  // namespace xnai::server
