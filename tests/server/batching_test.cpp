// Continuous batching through the HTTP server: concurrent streams get the text each gets
// alone while sharing decode steps; a client that goes away frees its slot at once; a
// full queue is a 503 with Retry-After. Driven by httplib's client on loopback.
#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <functional>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "compute/backend.h"
#include "http_test_util.h"
#include "models/llm/llm.h"
#include "server/server.h"
#include "llm_server_fixture.h"
#include "test_support.h"

namespace {

using nlohmann::json;

using Fixture = xnai::test::LlmServerFixture;

// A server with `parallel` slots of ctx_size positions and a wait queue of `queue`.
std::unique_ptr<Fixture> serve(const std::string& path, int parallel, int64_t ctx_size, int queue = 8) {
  auto f = std::make_unique<Fixture>();
  xnai::server::ServerOptions o;
  o.parallel = parallel;
  o.ctx_size = ctx_size;
  o.queue = queue;
  f->start(path, o);
  return f;
}

// POSTs a streamed completion and reads chunks while keep_reading() says so, then hangs up.
void stream_until(int port, const nlohmann::json& body, const std::function<bool()>& keep_reading) {
  httplib::Client c("127.0.0.1", port);
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/completions";
  req.body = body.dump();
  req.set_header("Content-Type", "application/json");
  req.content_receiver = [&](const char*, size_t, uint64_t, uint64_t) { return keep_reading(); };
  c.send(req);
}

// A gauge or counter from /metrics (-1 when absent).
double metric(httplib::Client& cli, const std::string& name) {
  auto r = cli.Get("/metrics");
  if (!r || r->status != 200) return -1;
  size_t pos = 0;
  while ((pos = r->body.find(name + " ", pos)) != std::string::npos) {
    if (pos == 0 || r->body[pos - 1] == '\n') return std::stod(r->body.substr(pos + name.size() + 1));
    ++pos;
  }
  return -1;
}

// Polls until the metric has the value (or ~30 s pass); returns the last value read.
double wait_metric(httplib::Client& cli, const std::string& name, double want) {
  double v = -1;
  for (int i = 0; i < 3000 && (v = metric(cli, name)) != want; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return v;
}

json completion(const std::string& prompt, int max_tokens, bool stream) {
  return {{"prompt", prompt}, {"max_tokens", max_tokens}, {"temperature", 0}, {"ignore_eos", true},
          {"stream", stream}};
}

std::string streamed_text(const std::string& body) {
  std::string text;
  for (const auto& e : xnai::test::sse_events(body)) {
    if (e.data == "[DONE]") continue;
    const json j = e.json();
    if (j.contains("choices") && !j["choices"].empty()) text += j["choices"][0].value("text", "");
  }
  return text;
}

TEST(ServerBatching, ConcurrentStreamsShareStepsAndWriteTheirAloneText) {
  XNAI_SKIP_IF_MISSING(path, "llm/tiny-llama-spm-q8_0.gguf");
  auto f = serve(path.string(), 4, 256);
  httplib::Client cli("127.0.0.1", f->server->port());
  const std::vector<std::string> prompts = {"The weather today", "Once upon a time", "Lists: 1, 2,",
                                            "A recipe for bread"};
  const int n_tok = 48;
  std::vector<std::string> alone;
  for (const auto& p : prompts) {
    auto r = cli.Post("/v1/completions", completion(p, n_tok, false).dump(), "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    const json j = json::parse(r->body);
    EXPECT_EQ(j["usage"]["completion_tokens"], n_tok);
    alone.push_back(j["choices"][0]["text"]);
  }
  const double steps_before = metric(cli, "xnai_batch_steps_total");
  const double tokens_before = metric(cli, "xnai_batch_tokens_total");
  std::vector<std::string> together(prompts.size());
  std::vector<int> status(prompts.size(), 0);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < prompts.size(); ++i)
    threads.emplace_back([&, i] {
      httplib::Client c("127.0.0.1", f->server->port());
      c.set_read_timeout(60);
      auto r = c.Post("/v1/completions", completion(prompts[i], n_tok, true).dump(), "application/json");
      if (!r) return;
      status[i] = r->status;
      together[i] = streamed_text(r->body);
    });
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < prompts.size(); ++i) {
    EXPECT_EQ(status[i], 200) << "stream " << i;
    EXPECT_EQ(together[i], alone[i]) << "stream " << i;
  }
  EXPECT_EQ(wait_metric(cli, "xnai_slots_active", 0), 0);
  EXPECT_EQ(metric(cli, "xnai_streams_running"), 0);
  const double steps = metric(cli, "xnai_batch_steps_total") - steps_before;
  const double tokens = metric(cli, "xnai_batch_tokens_total") - tokens_before;
  EXPECT_EQ(tokens, static_cast<double>(prompts.size() * (n_tok - 1)));
  EXPECT_LT(steps, tokens) << "the streams never shared a decode step";
  EXPECT_GE(metric(cli, "xnai_batch_size_max"), 2);
}

TEST(ServerBatching, AClientThatGoesAwayFreesItsSlotAtOnce) {
  XNAI_SKIP_IF_MISSING(path, "llm/tiny-llama-spm-q8_0.gguf");
  auto f = serve(path.string(), 1, 4096);
  httplib::Client cli("127.0.0.1", f->server->port());
  const int max_tokens = 4000;
  std::atomic<int> chunks{0};
  stream_until(f->server->port(), completion("Tell me everything", max_tokens, true), [&] { return ++chunks < 3; });
  EXPECT_GE(chunks.load(), 3);
  EXPECT_EQ(wait_metric(cli, "xnai_slots_active", 0), 0) << "the slot stayed taken after the client left";
  // The generation stopped soon after the client left, far from its max_tokens.
  const double generated = metric(cli, "xnai_generated_tokens_total");
  EXPECT_GE(generated, 2);
  EXPECT_LT(generated, max_tokens / 2);
  // And the freed slot serves the next request.
  auto r = cli.Post("/v1/completions", completion("Next", 4, false).dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
}

TEST(ServerBatching, AFullQueueIsA503WithRetryAfter) {
  XNAI_SKIP_IF_MISSING(path, "llm/tiny-llama-spm-q8_0.gguf");
  auto f = serve(path.string(), 1, 4096, 0);
  httplib::Client cli("127.0.0.1", f->server->port());
  std::atomic<bool> hang_up{false};
  std::thread long_stream(
      [&] { stream_until(f->server->port(), completion("A long story", 4000, true), [&] { return !hang_up.load(); }); });
  ASSERT_EQ(wait_metric(cli, "xnai_slots_active", 1), 1);
  auto r = cli.Post("/v1/completions", completion("Me too", 4, false).dump(), "application/json");
  hang_up = true;
  long_stream.join();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503) << r->body;
  EXPECT_TRUE(r->has_header("Retry-After"));
  const json err = json::parse(r->body, nullptr, false);
  ASSERT_TRUE(err.is_object()) << r->body;
  EXPECT_EQ(err["error"]["code"], "queue_full");
  EXPECT_GE(metric(cli, "xnai_rejected_requests_total"), 1);
  EXPECT_EQ(wait_metric(cli, "xnai_slots_active", 0), 0);
}

}  // namespace
