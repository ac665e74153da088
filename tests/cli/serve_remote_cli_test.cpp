// `xnai serve --llm-url/--embed-url/--tts-url` as two real processes: a back server with the
// tiny models and an API key, a front server with no models that sends every job to it. The
// front's greedy chat and embeddings must equal the back's, its speech must be audio, and
// once the back process is killed the front must answer 502 naming the back's URL.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>

#include "hub/hub_test_util.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A `xnai serve` in the background; its stderr names the port it listens on.
struct ServeProcess {
  int pid = 0, port = 0;
  std::string log_text;
  ServeProcess(const fs::path& dir, const std::string& name, const std::string& args) {
    const fs::path log = dir / (name + ".log"), pidf = dir / (name + ".pid");
    // An empty model cache and config: no pulled default may stand in for a flag.
    const std::string cmd = "env -u MODEL_PATH -u XNAI_API_KEY -u XNAI_REMOTE_API_KEY HF_ENDPOINT=http://127.0.0.1:1 XNAI_MODELS='" +
                            (dir / "models").string() + "' XNAI_CONFIG='" + (dir / "config.toml").string() + "' '" +
                            std::getenv("XNAI_BIN") + "' serve --port 0 " + args + " 2>'" + log.string() +
                            "' & echo $! >'" + pidf.string() + "'";
    if (std::system(cmd.c_str()) != 0) return;
    for (int i = 0; i < 600 && port == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      log_text = xnai::test::read_bytes(log);
      const auto at = log_text.find("listening on http://127.0.0.1:");
      if (at != std::string::npos) port = std::atoi(log_text.c_str() + at + 30);
    }
    pid = std::atoi(xnai::test::read_bytes(pidf).c_str());
  }
  void kill_now() {
    if (pid > 0) ::kill(pid, SIGTERM);
    // Wait until the port is closed, so "down" really is down.
    for (int i = 0; i < 200 && pid > 0; ++i) {
      httplib::Client c("127.0.0.1", port);
      if (!c.Get("/health")) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    pid = 0;
  }
  ~ServeProcess() {
    if (pid > 0) ::kill(pid, SIGTERM);
  }
};

TEST(ServeRemoteCli, FrontProcessSendsJobsToBackProcess) {
  if (!std::getenv("XNAI_BIN")) GTEST_SKIP() << "XNAI_BIN not set (run through ctest)";
  XNAI_SKIP_IF_MISSING(llm, "llm/tiny-llama-spm-q8_0.gguf");
  XNAI_SKIP_IF_MISSING(bert, "llm/tiny-bert-bge-f16.gguf");
  xnai::test::TempDir tmp;
  ServeProcess back(tmp.path(), "back",
                    "-m '" + llm.string() + "' --embed-model '" + bert.string() + "' --api-key back-key");
  ASSERT_GT(back.port, 0) << back.log_text;
  const std::string url = "http://127.0.0.1:" + std::to_string(back.port);
  ServeProcess front(tmp.path(), "front",
                     "--llm-url " + url + "/v1 --embed-url " + url + " --tts-url " + url +
                         " --remote-api-key back-key --data '" + (tmp.path() / "data").string() + "'");
  ASSERT_GT(front.port, 0) << front.log_text;
  httplib::Client b("127.0.0.1", back.port), f("127.0.0.1", front.port);
  b.set_read_timeout(120, 0);
  f.set_read_timeout(120, 0);
  const httplib::Headers key = {{"Authorization", "Bearer back-key"}};

  const json chat = {{"messages", {{{"role", "user"}, {"content", "hello"}}}}, {"max_tokens", 8}, {"temperature", 0}};
  auto rb = b.Post("/v1/chat/completions", key, chat.dump(), "application/json");
  auto rf = f.Post("/v1/chat/completions", chat.dump(), "application/json");
  ASSERT_TRUE(rb && rf);
  ASSERT_EQ(rb->status, 200) << rb->body;
  ASSERT_EQ(rf->status, 200) << rf->body;
  EXPECT_EQ(json::parse(rf->body)["choices"], json::parse(rb->body)["choices"]);

  const json e = {{"input", {"one text", "two texts"}}};
  auto eb = b.Post("/v1/embeddings", key, e.dump(), "application/json");
  auto ef = f.Post("/v1/embeddings", e.dump(), "application/json");
  ASSERT_TRUE(eb && ef);
  ASSERT_EQ(ef->status, 200) << ef->body;
  EXPECT_EQ(json::parse(ef->body)["data"], json::parse(eb->body)["data"]);

  auto s = f.Post("/v1/audio/speech", R"({"input":"Hello there.","response_format":"wav"})", "application/json");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->status, 200) << s->body;
  EXPECT_EQ(s->body.substr(0, 4), "RIFF");
  EXPECT_GT(s->body.size(), 10000u);

  auto m = f.Get("/v1/models");
  ASSERT_TRUE(m);
  std::string kinds;
  const json listed = json::parse(m->body);
  for (const auto& x : listed["data"]) kinds += x["kind"].get<std::string>() + " ";
  EXPECT_EQ(kinds, "llm embedding tts ") << m->body;

  back.kill_now();
  auto down = f.Post("/v1/chat/completions", chat.dump(), "application/json");
  ASSERT_TRUE(down);
  EXPECT_EQ(down->status, 502) << down->body;
  const json err = json::parse(down->body);
  EXPECT_EQ(err["error"]["code"], "remote_unreachable");
  EXPECT_NE(err["error"]["message"].get<std::string>().find(url), std::string::npos) << down->body;
  auto ready = f.Get("/ready");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 503);
}

}  // namespace
