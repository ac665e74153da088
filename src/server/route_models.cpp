// GET /v1/models: the LLM, the embedding model and the speech engine this server runs.
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
              if (c.services.llm) add(c.opts.llm_name, "llm");
              if (c.services.embedder) add(c.opts.embed_name, "embedding");
              if (c.services.tts) add(c.opts.tts_name, "tts");
              send_json(res, json{{"object", "list"}, {"data", data}});
            });
}

}  // namespace xnai::server
