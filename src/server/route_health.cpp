// GET /health (the process answers), GET /ready (the models are loaded) and GET /metrics
// (Prometheus text). /health and /ready need no API key, so probes work without one.
#include <httplib.h>

#include "server/server_context.h"

namespace xnai::server {

void register_health_routes(httplib::Server& http, ServerContext& ctx) {
  add_route(http, ctx, "GET", "/health", "/health", [](ServerContext&, const httplib::Request&, httplib::Response& res) {
    send_json(res, json{{"status", "ok"}});
  });
  add_route(http, ctx, "GET", "/ready", "/ready", [](ServerContext& c, const httplib::Request&, httplib::Response& res) {
    const bool ready = c.services.llm || c.services.embedder;
    json models = json::array();
    if (c.services.llm) models.push_back(c.opts.llm_name);
    if (c.services.embedder) models.push_back(c.opts.embed_name);
    if (ready) send_json(res, json{{"status", "ready"}, {"models", models}});
    else
      send_json(res, error_body(503, "server_error", "no model is loaded (start xnai serve with -m and/or --embed-model)",
                                "", "not_ready"),
                503);
  });
  add_route(http, ctx, "GET", "/metrics", "/metrics", [](ServerContext& c, const httplib::Request&, httplib::Response& res) {
    GaugeReadings g;
    if (c.slots) {
      g.queue_depth = c.slots->waiting();
      g.active_slots = c.slots->active();
      g.slots = c.slots->slots();
      g.kv_cells_used = c.slots->kv_cells_used();
      g.kv_cells_total = c.slots->kv_cells_total();
    }
    res.status = 200;
    res.set_content(c.metrics.render(g), "text/plain; version=0.0.4; charset=utf-8");
  });
}

}  // namespace xnai::server
