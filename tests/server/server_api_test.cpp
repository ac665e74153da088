// The server in-process on an ephemeral loopback port with the tiny test model, driven by
// httplib's client: streamed text must equal the whole text (greedy), usage must match the
// tokenizer, and malformed requests must get OpenAI error JSON with the right status.
#include <httplib.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include "compute/backend.h"
#include "models/llm/llm.h"
#include "server/server.h"
#include "llm_server_fixture.h"
#include "test_support.h"

namespace {

using nlohmann::json;

using Fixture = xnai::test::LlmServerFixture;

TEST(ServerApi, StreamedDeltasEqualWholeTextAndErrorsAreJson) {
  XNAI_SKIP_IF_MISSING(path, "llm/tiny-llama-spm-q8_0.gguf");
  Fixture f;
  xnai::server::ServerOptions o;
  o.api_key = "secret";
  o.max_body = 4096;
  f.start(path.string(), o);
  httplib::Client cli("127.0.0.1", f.server->port());
  httplib::Headers auth = {{"Authorization", "Bearer secret"}};
  const json req = {{"model", "tiny"},
                    {"messages", {{{"role", "user"}, {"content", "hello"}}}},
                    {"max_tokens", 6},
                    {"temperature", 0}};
  auto r = cli.Post("/v1/chat/completions", auth, req.dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const json whole = json::parse(r->body);
  const std::string text = whole["choices"][0]["message"]["content"];
  EXPECT_EQ(whole["usage"]["completion_tokens"], 6);
  EXPECT_EQ(whole["choices"][0]["finish_reason"], "length");

  json sreq = req;
  sreq["stream"] = true;
  sreq["stream_options"] = {{"include_usage", true}};
  auto s = cli.Post("/v1/chat/completions", auth, sreq.dump(), "application/json");
  ASSERT_TRUE(s);
  ASSERT_EQ(s->status, 200);
  std::string streamed;
  bool done = false;
  json usage;
  size_t pos = 0;
  while ((pos = s->body.find("data: ", pos)) != std::string::npos) {
    const size_t end = s->body.find("\n\n", pos);
    const std::string data = s->body.substr(pos + 6, end - pos - 6);
    pos = end;
    if (data == "[DONE]") {
      done = true;
      break;
    }
    const json c = json::parse(data);
    if (!c["usage"].is_null()) usage = c["usage"];
    if (!c["choices"].empty() && c["choices"][0]["delta"].contains("content"))
      streamed += c["choices"][0]["delta"]["content"].get<std::string>();
  }
  EXPECT_TRUE(done);
  EXPECT_EQ(streamed, text);
  EXPECT_EQ(usage["prompt_tokens"], whole["usage"]["prompt_tokens"]);
  EXPECT_EQ(usage["completion_tokens"], 6);

  auto check = [&](const httplib::Result& res, int status) {
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, status) << res->body;
    const json e = json::parse(res->body);
    EXPECT_TRUE(e["error"]["message"].is_string()) << res->body;
    EXPECT_TRUE(e["error"]["type"].is_string()) << res->body;
  };
  check(cli.Post("/v1/chat/completions", auth, "{bad", "application/json"), 400);
  check(cli.Post("/v1/chat/completions", auth, R"({"model":"tiny"})", "application/json"), 400);
  check(cli.Post("/v1/chat/completions", auth, R"({"model":"tiny","messages":"x"})", "application/json"), 400);
  check(cli.Post("/v1/chat/completions", auth, R"({"model":"nope","messages":[]})", "application/json"), 404);
  check(cli.Post("/v1/chat/completions", {{"Authorization", "Bearer wrong"}}, req.dump(), "application/json"), 401);
  check(cli.Post("/v1/chat/completions", auth, std::string(5000, ' '), "application/json"), 413);
  check(cli.Get("/no/such/route", auth), 404);
  check(cli.Post("/v1/audio/speech", auth, R"({"input":"hi"})", "application/json"), 503);  // no speech engine given
  auto h = cli.Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  auto m = cli.Get("/metrics", auth);
  ASSERT_TRUE(m);
  EXPECT_NE(m->body.find("xnai_http_requests_total{route=\"/v1/chat/completions\",status=\"200\"} 2"), std::string::npos)
      << m->body;
  EXPECT_NE(m->body.find("xnai_generated_tokens_total 12"), std::string::npos);
  // 'model' may be left out: the one served model answers.
  {
    auto r = cli.Post("/v1/chat/completions", auth, R"({"messages":[{"role":"user","content":"hi"}],"max_tokens":2})",
                      "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(json::parse(r->body)["model"], "tiny");
  }
}

}  // namespace
