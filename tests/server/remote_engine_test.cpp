// Remote engines (--llm-url, --embed-url, --tts-url): a front server with no models of its
// own sends every job to a back server (another in-process xnai with the tiny models) and
// must answer as the back does — greedy chat equal, embeddings equal, speech decodable,
// RAG answered by the back's LLM with audio by the back's speech engine — and, once the back
// is gone, answer 502 with an OpenAI error that names the URL.
#include <httplib.h>
#include <signal.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "compute/backend.h"
#include "http_test_util.h"
#include "models/llm/llm.h"
#include "rag/store.h"
#include "runtime/bert_embedder.h"
#include "server/remote_embedder.h"
#include "server/remote_engine.h"
#include "server/server.h"
#include "speech/espeak_engine.h"
#include "test_support.h"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const httplib::Headers kBack = {{"Authorization", "Bearer back-secret"}};
const httplib::Headers kFront = {{"Authorization", "Bearer front-secret"}};

json post_json(httplib::Client& cli, const httplib::Headers& h, const std::string& path, const json& body,
               int expect_status = 200) {
  auto r = cli.Post(path, h, body.dump(), "application/json");
  EXPECT_TRUE(r) << path;
  if (!r) return json();
  EXPECT_EQ(r->status, expect_status) << path << ": " << r->body;
  return json::parse(r->body, nullptr, false);
}

std::string streamed_chat_text(const std::string& body, bool& done, json& usage) {
  std::string text;
  done = false;
  for (const auto& e : xnai::test::sse_events(body)) {
    if (e.data == "[DONE]") {
      done = true;
      continue;
    }
    const json c = e.json();
    if (c.contains("usage") && c["usage"].is_object()) usage = c["usage"];
    if (c.contains("choices") && !c["choices"].empty() && c["choices"][0]["delta"].contains("content"))
      text += c["choices"][0]["delta"]["content"].get<std::string>();
  }
  return text;
}

void expect_bad_gateway(const httplib::Result& r, const std::string& url) {
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 502) << r->body;
  const json e = json::parse(r->body, nullptr, false);
  ASSERT_TRUE(e.is_object()) << r->body;
  EXPECT_EQ(e["error"]["code"], "remote_unreachable") << r->body;
  EXPECT_EQ(e["error"]["type"], "server_error");
  EXPECT_NE(e["error"]["message"].get<std::string>().find(url), std::string::npos) << r->body;
  EXPECT_EQ(r->body.find("back-secret"), std::string::npos) << r->body;
}

TEST(RemoteEngines, FrontServerSendsEveryJobToTheBackServer) {
  XNAI_SKIP_IF_MISSING(llm_path, "llm/tiny-llama-spm-q8_0.gguf");
  XNAI_SKIP_IF_MISSING(emb_path, "llm/tiny-bert-bge-f16.gguf");
  ::signal(SIGPIPE, SIG_IGN);
  auto backend = xnai::compute::make_cpu_backend({});
  auto llm = xnai::models::LlmModel::load(llm_path.string(), *backend);
  auto emb = xnai::runtime::BertEmbedder::load(emb_path.string());

  xnai::server::ServerOptions bo;
  bo.host = "127.0.0.1";
  bo.port = 0;
  bo.llm_name = "tiny";
  bo.api_key = "back-secret";
  bo.embed_name = emb->model_name();
  bo.tts_name = "espeak-ng";
  xnai::server::Services bs;
  bs.llm = llm.get();
  bs.embedder = emb.get();
  bs.tts = std::make_shared<xnai::speech::EspeakEngine>();
  auto back = std::make_unique<xnai::server::Server>(bo, bs);
  back->start();
  const std::string back_url = "http://127.0.0.1:" + std::to_string(back->port());

  // The front: only remote URLs (one with /v1, as OpenAI clients write them), its own key, and
  // a document store whose vectors come from the back's embedder.
  const fs::path dir = fs::temp_directory_path() / ("xnai_remote_test_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto store = xnai::rag::open_embedded_store({(dir / "data").string()});
  xnai::server::RemoteEmbedder remote_emb(back_url, "back-secret", 60);
  xnai::server::ServerOptions fo;
  fo.host = "127.0.0.1";
  fo.port = 0;
  fo.api_key = "front-secret";
  fo.data_dir = dir.string();
  fo.llm_url = back_url + "/v1";
  fo.embed_url = back_url;
  // A key in the URL is sent to that engine (and never shown in messages).
  fo.tts_url = "http://back-secret@127.0.0.1:" + std::to_string(back->port()) + "/";
  fo.remote_api_key = "back-secret";
  xnai::server::Services fs_;
  fs_.embedder = &remote_emb;
  fs_.store = store.get();
  xnai::server::Server front(fo, fs_);
  front.start();
  httplib::Client b("127.0.0.1", back->port()), f("127.0.0.1", front.port());
  b.set_read_timeout(120, 0);
  f.set_read_timeout(120, 0);

  // Greedy chat through the front equals chat on the back; 'model' left out is filled in.
  const json chat = {{"messages", {{{"role", "user"}, {"content", "Tell me about the sea."}}}},
                     {"max_tokens", 12},
                     {"temperature", 0}};
  const json jb = post_json(b, kBack, "/v1/chat/completions", chat);
  const json jf = post_json(f, kFront, "/v1/chat/completions", chat);
  ASSERT_TRUE(jb.contains("choices") && jf.contains("choices")) << jf.dump();
  EXPECT_EQ(jf["choices"][0]["message"]["content"], jb["choices"][0]["message"]["content"]);
  EXPECT_EQ(jf["usage"], jb["usage"]);
  EXPECT_EQ(jf["model"], "tiny");
  EXPECT_EQ(jf["choices"][0]["finish_reason"], "length");

  // Streamed through the front: the same text, the usage chunk, and [DONE].
  {
    json s = chat;
    s["stream"] = true;
    s["stream_options"] = {{"include_usage", true}};
    auto r = f.Post("/v1/chat/completions", kFront, s.dump(), "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    EXPECT_NE(r->get_header_value("Content-Type").find("text/event-stream"), std::string::npos);
    bool done = false;
    json usage;
    EXPECT_EQ(streamed_chat_text(r->body, done, usage), jb["choices"][0]["message"]["content"].get<std::string>());
    EXPECT_TRUE(done);
    EXPECT_EQ(usage, jb["usage"]);
  }

  // Text completions too.
  {
    const json c = {{"prompt", "Once upon a time"}, {"max_tokens", 8}, {"temperature", 0}};
    const json cb = post_json(b, kBack, "/v1/completions", c), cf = post_json(f, kFront, "/v1/completions", c);
    EXPECT_EQ(cf["choices"][0]["text"], cb["choices"][0]["text"]);
  }

  // A remote 4xx passes through as the remote's OpenAI error.
  {
    const json e = post_json(f, kFront, "/v1/chat/completions", {{"model", "nope"}, {"messages", chat["messages"]}}, 404);
    EXPECT_EQ(e["error"]["code"], "model_not_found");
  }
  // Bad JSON is refused by the front itself.
  {
    auto r = f.Post("/v1/chat/completions", kFront, "{bad", "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400);
  }

  // Embeddings through the front equal the back's, as floats and as base64.
  {
    const json e = {{"input", {"first text", "a second, longer text"}}};
    const json eb = post_json(b, kBack, "/v1/embeddings", e), ef = post_json(f, kFront, "/v1/embeddings", e);
    ASSERT_EQ(ef["data"].size(), 2u) << ef.dump();
    EXPECT_EQ(ef["data"], eb["data"]);
    json e64 = e;
    e64["encoding_format"] = "base64";
    const json f64 = post_json(f, kFront, "/v1/embeddings", e64);
    const std::string bytes = xnai::test::base64_decode(f64["data"][1]["embedding"].get<std::string>());
    const auto& floats = eb["data"][1]["embedding"];
    ASSERT_EQ(bytes.size(), floats.size() * 4);
    for (size_t i = 0; i < floats.size(); ++i) {
      float v;
      std::memcpy(&v, bytes.data() + i * 4, 4);
      EXPECT_EQ(v, floats[i].get<float>()) << i;
    }
  }

  // Speech through the front: decodable audio from the back's engine.
  {
    const json sp = {{"input", "Hello from the back server. It speaks for the front."}, {"response_format", "wav"}};
    auto r = f.Post("/v1/audio/speech", kFront, sp.dump(), "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    EXPECT_NE(r->get_header_value("Content-Type").find("audio/"), std::string::npos);
    const auto d = xnai::test::decode_audio(r->body, ".wav");
    EXPECT_EQ(d.sample_rate, 24000);
    EXPECT_GT(double(d.frames) / 24000.0, 1.0);
    EXPECT_GT(d.rms, 0.01);
  }

  // /v1/models and /ready show the remote engines.
  {
    auto r = f.Get("/v1/models", kFront);
    ASSERT_TRUE(r);
    const json m = json::parse(r->body);
    std::map<std::string, std::string> kinds;
    for (const auto& e : m["data"]) kinds[e["kind"]] = e["id"];
    EXPECT_EQ(kinds["llm"], "tiny") << r->body;
    EXPECT_EQ(kinds["embedding"], emb->model_name()) << r->body;
    EXPECT_EQ(kinds["tts"], "espeak-ng") << r->body;
    auto ready = f.Get("/ready");
    ASSERT_TRUE(ready);
    EXPECT_EQ(ready->status, 200) << ready->body;
    EXPECT_EQ(json::parse(ready->body)["remote"]["llm"]["reachable"], true);
  }

  // RAG on the front: vectors from the back's embedder, the answer from the back's LLM and
  // its audio from the back's speech engine, sentence by sentence.
  {
    const std::string doc = "# Rivers\n\nThe Seine flows through Paris. It is 777 kilometres long.\n";
    auto up = f.Post("/v1/rag/documents?filename=rivers.md", kFront, doc, "text/markdown");
    ASSERT_TRUE(up);
    ASSERT_EQ(up->status, 201) << up->body;
    const json q = {{"question", "How long is the Seine?"}, {"stream", true}, {"max_tokens", 24},
                    {"temperature", 0},                     {"mode", "vector"},
                    {"audio", {{"format", "wav"}}}};
    auto r = f.Post("/v1/rag/query", kFront, q.dump(), "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    std::string answer;
    int audio = 0;
    bool citations = false, done = false;
    for (const auto& e : xnai::test::sse_events(r->body)) {
      if (e.data == "[DONE]") {
        done = true;
        continue;
      }
      const json j = e.json();
      ASSERT_FALSE(j.contains("error")) << e.data;
      if (j["object"] == "rag.answer.delta") answer += j["delta"].get<std::string>();
      if (j["object"] == "rag.answer.audio") {
        ++audio;
        const auto d = xnai::test::decode_audio(xnai::test::base64_decode(j["audio"]), ".wav");
        EXPECT_EQ(d.sample_rate, 24000);
        EXPECT_GT(d.frames, 0);
      }
      if (e.event == "citations") {
        citations = true;
        EXPECT_EQ(j["extractive"], false);
        EXPECT_EQ(j["retrieval_mode"], "vector");
        ASSERT_FALSE(j["sources"].empty());
        EXPECT_NE(j["sources"][0]["text"].get<std::string>().find("Seine"), std::string::npos);
      }
    }
    EXPECT_TRUE(done && citations) << r->body;
    EXPECT_FALSE(answer.empty());
    const bool sayable = std::any_of(answer.begin(), answer.end(), [](unsigned char c) { return std::isalpha(c); });
    if (sayable) {
      EXPECT_GE(audio, 1) << answer;
    }
  }

  {
    auto m = f.Get("/metrics", kFront);
    ASSERT_TRUE(m);
    EXPECT_NE(m->body.find("xnai_remote_requests_total{engine=\"llm\",outcome=\"ok\"}"), std::string::npos) << m->body;
    // The streamed chat was timed to its first token on the front too.
    EXPECT_EQ(m->body.find("xnai_time_to_first_token_seconds_count 0"), std::string::npos) << m->body;
  }

  // A front with the wrong key for the back: 502 that says so (not a 401 blaming the client).
  {
    auto o2 = fo;
    o2.remote_api_key = "wrong";
    o2.api_key.clear();
    xnai::server::Server bad(o2, {});
    bad.start();
    httplib::Client c("127.0.0.1", bad.port());
    const json e = post_json(c, {}, "/v1/chat/completions", {{"model", "tiny"}, {"messages", chat["messages"]}}, 502);
    EXPECT_EQ(e["error"]["code"], "remote_auth_failed") << e.dump();
    bad.stop();
  }

  // The back goes away: every job answers 502 naming the URL; /ready is 503.
  back->stop();
  back.reset();
  expect_bad_gateway(f.Post("/v1/chat/completions", kFront, chat.dump(), "application/json"), back_url);
  {
    json s = chat;
    s["stream"] = true;
    expect_bad_gateway(f.Post("/v1/chat/completions", kFront, s.dump(), "application/json"), back_url);
  }
  expect_bad_gateway(f.Post("/v1/embeddings", kFront, R"({"input":"x"})", "application/json"), back_url);
  expect_bad_gateway(f.Post("/v1/audio/speech", kFront, R"({"input":"hi"})", "application/json"), back_url);
  auto ready = f.Get("/ready");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 503) << ready->body;
  EXPECT_EQ(json::parse(ready->body)["error"]["code"], "remote_unreachable");
  front.stop();
  store.reset();
  fs::remove_all(dir);
}

TEST(RemoteEngines, PicksTheModelOfItsKindAndHidesTheKey) {
  using xnai::server::RemoteKind;
  using xnai::server::pick_remote_model;
  // xnai labels kinds; Ollama and vLLM list bare ids.
  const json xnai_list = {{"data", {{{"id", "e5"}, {"kind", "embedding"}}, {{"id", "qwen"}, {"kind", "llm"}}}}};
  EXPECT_EQ(pick_remote_model(xnai_list, RemoteKind::Llm), "qwen");
  EXPECT_EQ(pick_remote_model(xnai_list, RemoteKind::Embedding), "e5");
  EXPECT_EQ(pick_remote_model(xnai_list, RemoteKind::Tts), "tts-1");
  const json bare = {{"data", {{{"id", "nomic-embed-text:latest"}}, {{"id", "llama3.2:3b"}}, {{"id", "kokoro"}}}}};
  EXPECT_EQ(pick_remote_model(bare, RemoteKind::Llm), "llama3.2:3b");
  EXPECT_EQ(pick_remote_model(bare, RemoteKind::Embedding), "nomic-embed-text:latest");
  EXPECT_EQ(pick_remote_model(bare, RemoteKind::Tts), "kokoro");
  EXPECT_EQ(pick_remote_model(json{{"data", json::array()}}, RemoteKind::Llm), std::nullopt);
  EXPECT_EQ(pick_remote_model(json("nonsense"), RemoteKind::Llm), std::nullopt);

  const xnai::server::RemoteEngine e(RemoteKind::Llm, "https://sk-123@api.example.com:8443/openai/v1/", "", 5);
  EXPECT_EQ(e.display(), "https://api.example.com:8443/openai");
  EXPECT_EQ(std::string(e.unreachable("x").what()).find("sk-123"), std::string::npos);
}

TEST(RemoteEngines, BadUrlsAreRefusedAtStart) {
  xnai::server::ServerOptions o;
  o.llm_url = "ftp://example.com";
  EXPECT_THROW(xnai::server::Server(o, {}), std::exception);
  o.llm_url = "http://";
  EXPECT_THROW(xnai::server::Server(o, {}), std::exception);
  try {
    o.llm_url = "ftp://sk-9@example.com";
    xnai::server::Server s(o, {});
    ADD_FAILURE() << "accepted " << o.llm_url;
  } catch (const std::exception& e) {
    EXPECT_EQ(std::string(e.what()).find("sk-9"), std::string::npos) << e.what();  // the key is not shown
    EXPECT_NE(std::string(e.what()).find("--llm-url"), std::string::npos) << e.what();
  }
}

}  // namespace
