// GET /health (the process answers), GET /ready (the models are loaded, the remote engines
// answer) and GET /metrics (Prometheus text). /health and /ready need no API key, so probes
// work without one.
#include <httplib.h>

#include "server/server_context.h"

namespace xnai::server {

void register_health_routes(httplib::Server& http, ServerContext& ctx) {
  add_route(http, ctx, "GET", "/health", "/health", [](ServerContext&, const httplib::Request&, httplib::Response& res) {
    send_json(res, json{{"status", "ok"}});
  });
  add_route(http, ctx, "GET", "/ready", "/ready", [](ServerContext& c, const httplib::Request&, httplib::Response& res) {
    json models = json::array(), remote = json::object();
    if (c.services.llm && !c.remote_llm) models.push_back(c.opts.llm_name);
    if (c.services.embedder && !c.remote_embed) models.push_back(c.opts.embed_name);
    // Each remote engine is asked now (GET /v1/models): ready means every job has somewhere
    // to go, so one that does not answer makes the server not ready.
    std::string down;
    for (const RemoteEngine* e : {c.remote_llm.get(), c.remote_embed.get(), c.remote_tts.get()}) {
      if (!e) continue;
      const bool up = e->list_models(3).has_value();
      remote[remote_kind_name(e->kind())] = json{{"url", e->display()}, {"reachable", up}};
      if (!up) down += (down.empty() ? "" : ", ") + std::string(remote_kind_name(e->kind())) + " at " + e->display();
    }
    if (!down.empty()) {
      json body = error_body(503, "server_error", "remote engine not reachable: " + down, "", "remote_unreachable");
      body["remote"] = remote;
      send_json(res, body, 503);
      return;
    }
    const bool ready = !models.empty() || !remote.empty();
    json ok{{"status", "ready"}, {"models", models}};
    if (!remote.empty()) ok["remote"] = remote;
    if (ready) send_json(res, ok);
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
      const runtime::BatchStats b = c.slots->batch_stats();
      g.batch_steps = b.steps;
      g.batch_tokens = b.tokens;
      g.batch_max = b.max_batch;
      g.streams_running = b.running;
    }
    res.status = 200;
    res.set_content(c.metrics.render(g), "text/plain; version=0.0.4; charset=utf-8");
  });
}

}  // namespace xnai::server
