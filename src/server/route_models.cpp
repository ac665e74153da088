// GET /v1/models: the LLM, the embedding model and the speech engine this server runs, or
// the models of the remote engines that take those jobs (--llm-url etc.).
#include <httplib.h>

#include "server/server_context.h"

namespace xnai::server {

void register_model_routes(httplib::Server& http, ServerContext& ctx) {
  add_route(http, ctx, "GET", "/v1/models", "/v1/models",
            [](ServerContext& c, const httplib::Request&, httplib::Response& res) {
              json data = json::array();
              auto add = [&](const std::string& id, const char* kind) {
                data.push_back(json{{"id", id}, {"object", "model"}, {"created", 0}, {"owned_by", "xnai"}, {"kind", kind}});
              };
              // A remote engine shows the model it serves (remote_engine.h); one that cannot be
              // reached is left out (GET /ready names it).
              auto add_remote = [&](const std::unique_ptr<RemoteEngine>& e) {
                std::optional<std::string> id;
                try {
                  id = e->default_model();
                } catch (const ApiError&) {
                  return;
                }
                if (!id) return;
                data.push_back(json{{"id", *id}, {"object", "model"}, {"created", 0}, {"owned_by", "remote"},
                                    {"kind", remote_kind_name(e->kind())}, {"remote_url", e->display()}});
              };
              if (c.remote_llm) add_remote(c.remote_llm);
              else if (c.services.llm) add(c.opts.llm_name, "llm");
              if (c.remote_embed) add_remote(c.remote_embed);
              else if (c.services.embedder) add(c.opts.embed_name, "embedding");
              if (c.remote_tts) add_remote(c.remote_tts);
              else if (c.services.tts) add(c.opts.tts_name, "tts");
              send_json(res, json{{"object", "list"}, {"data", data}});
            });
}

}  // namespace xnai::server
