// The embedded web page and GET /v1/audio/voices through the real HTTP stack: the page's
// files come with their types and cache headers, revalidate to 304, load without the API
// key (the API does not), and the voice list is the engine's. The browser drives the page
// itself in tests/js (js_e2e).
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <nlohmann/json.hpp>
#include <string>

#include "server/server.h"
#include "speech/espeak_engine.h"

namespace {

using nlohmann::json;

struct Running {
  xnai::server::Server server;
  httplib::Client cli;
  Running(const xnai::server::ServerOptions& o, const xnai::server::Services& s)
      : server(o, s), cli("127.0.0.1", (server.start(), server.port())) {}
};

xnai::server::ServerOptions options(const std::string& key) {
  xnai::server::ServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.api_key = key;
  return o;
}

TEST(WebPage, ServedWithTypesEtagsAndNoKey) {
  ::signal(SIGPIPE, SIG_IGN);
  Running r(options("sekrit"), {});
  const std::pair<const char*, const char*> files[] = {{"/", "text/html; charset=utf-8"},
                                                       {"/index.html", "text/html; charset=utf-8"},
                                                       {"/app.js", "text/javascript; charset=utf-8"},
                                                       {"/app.css", "text/css; charset=utf-8"}};
  for (const auto& [path, type] : files) {
    auto res = r.cli.Get(path);
    ASSERT_TRUE(res) << path;
    ASSERT_EQ(res->status, 200) << path << ": " << res->body;
    EXPECT_EQ(res->get_header_value("Content-Type"), type) << path;
    EXPECT_EQ(res->get_header_value("Cache-Control"), "no-cache") << path;
    EXPECT_EQ(res->get_header_value("X-Content-Type-Options"), "nosniff") << path;
    const std::string etag = res->get_header_value("ETag");
    ASSERT_EQ(etag.size(), 22u) << path << ": " << etag;  // quoted 20 hex digits
    EXPECT_EQ(etag.front(), '"');
    EXPECT_GT(res->body.size(), 500u) << path;

    auto again = r.cli.Get(path, {{"If-None-Match", etag}});
    ASSERT_TRUE(again);
    EXPECT_EQ(again->status, 304) << path;
    EXPECT_TRUE(again->body.empty()) << path;
    auto stale = r.cli.Get(path, {{"If-None-Match", "\"0000\""}});
    ASSERT_TRUE(stale);
    EXPECT_EQ(stale->status, 200) << path;
  }
  auto page = r.cli.Get("/");
  EXPECT_NE(page->body.find("<script src=\"app.js\""), std::string::npos);
  EXPECT_NE(page->get_header_value("Content-Security-Policy").find("default-src 'self'"), std::string::npos);
  EXPECT_NE(r.cli.Get("/app.js")->body.find("/v1/rag/query"), std::string::npos);

  // Only the page's own files are open: everything else still needs the key.
  EXPECT_EQ(r.cli.Get("/v1/models")->status, 401);
  EXPECT_EQ(r.cli.Get("/app.jsx")->status, 401);
  EXPECT_EQ(r.cli.Get("/v1/audio/voices")->status, 401);
  EXPECT_EQ(r.cli.Post("/", "x", "text/plain")->status, 401);
}

TEST(WebPage, UnknownFilesAre404WithoutAKey) {
  Running r(options(""), {});
  auto res = r.cli.Get("/missing.js");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_EQ(json::parse(res->body)["error"]["code"], "unknown_route");
}

TEST(VoicesRoute, ListsTheEnginesVoicesAndItsDefault) {
  ::signal(SIGPIPE, SIG_IGN);
  xnai::server::Services s;
  auto engine = std::make_shared<xnai::speech::EspeakEngine>();
  s.tts = engine;
  Running r(options("k"), s);
  auto res = r.cli.Get("/v1/audio/voices", {{"Authorization", "Bearer k"}});
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const json body = json::parse(res->body);
  EXPECT_EQ(body["object"], "list");
  EXPECT_EQ(body["engine"], engine->name());
  EXPECT_EQ(body["default"], engine->default_voice());
  const auto voices = engine->list_voices();
  ASSERT_EQ(body["data"].size(), voices.size());
  for (size_t i = 0; i < voices.size(); ++i) {
    EXPECT_EQ(body["data"][i]["id"], voices[i].name);
    EXPECT_EQ(body["data"][i]["object"], "voice");
    EXPECT_EQ(body["data"][i]["language"], voices[i].language);
    EXPECT_EQ(body["data"][i]["description"], voices[i].description);
  }
}

TEST(VoicesRoute, NoSpeechEngineIs503) {
  Running r(options(""), {});
  auto res = r.cli.Get("/v1/audio/voices");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(json::parse(res->body)["error"]["code"], "model_not_loaded");
}

}  // namespace
