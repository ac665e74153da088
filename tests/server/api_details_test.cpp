// The finer points of the OpenAI surface, over real HTTP with the tiny models: presence and
// frequency penalties reach the sampler, stop strings give finish_reason "stop", usage adds
// up, bad values are field-named 400s, base64 embeddings decode to the float values, the
// metrics page has every family, and a RAG answer is spoken sentence by sentence.
#include <httplib.h>
#include <signal.h>

#include <cstring>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>
#include <nlohmann/json.hpp>

#include "compute/backend.h"
#include "http_test_util.h"
#include "models/llm/llm.h"
#include "rag/store.h"
#include "runtime/bert_embedder.h"
#include "server/server.h"
#include "speech/espeak_engine.h"
#include "test_support.h"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

json post(httplib::Client& cli, const std::string& path, const json& body, int status = 200) {
  auto r = cli.Post(path, body.dump(), "application/json");
  EXPECT_TRUE(r) << path;
  if (!r) return json();
  EXPECT_EQ(r->status, status) << path << " " << body.dump() << ": " << r->body;
  return json::parse(r->body, nullptr, false);
}

// The value of the first sample line that starts with `series` ("name{labels}" or "name").
double metric(const std::string& page, const std::string& series) {
  size_t pos = 0;
  while ((pos = page.find(series + " ", pos)) != std::string::npos) {
    if (pos == 0 || page[pos - 1] == '\n') return std::stod(page.substr(pos + series.size() + 1));
    pos += series.size();
  }
  ADD_FAILURE() << "no series " << series << " in\n" << page;
  return -1;
}

TEST(ServerApiDetails, PenaltiesStopUsageErrorsBase64AndMetrics) {
  XNAI_SKIP_IF_MISSING(llm_path, "llm/tiny-llama-spm-q8_0.gguf");
  XNAI_SKIP_IF_MISSING(emb_path, "llm/tiny-bert-bge-f16.gguf");
  ::signal(SIGPIPE, SIG_IGN);
  auto backend = xnai::compute::make_cpu_backend({});
  auto llm = xnai::models::LlmModel::load(llm_path.string(), *backend);
  auto emb = xnai::runtime::BertEmbedder::load(emb_path.string());
  xnai::server::ServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  xnai::server::Services s;
  s.llm = llm.get();
  s.embedder = emb.get();
  xnai::server::Server server(o, s);
  server.start();
  httplib::Client cli("127.0.0.1", server.port());
  cli.set_read_timeout(120, 0);

  const json base = {{"messages", {{{"role", "user"}, {"content", "Write a long story about a cat."}}}},
                     {"max_tokens", 48},
                     {"temperature", 0}};
  const json plain = post(cli, "/v1/chat/completions", base);
  const std::string text = plain["choices"][0]["message"]["content"];
  const auto& u = plain["usage"];
  EXPECT_EQ(u["total_tokens"].get<int>(), u["prompt_tokens"].get<int>() + u["completion_tokens"].get<int>());
  EXPECT_EQ(plain["object"], "chat.completion");
  EXPECT_EQ(plain["choices"][0]["finish_reason"], "length");

  // Penalties change a greedy answer (the same request without them is deterministic).
  EXPECT_EQ(post(cli, "/v1/chat/completions", base)["choices"][0]["message"]["content"], text);
  for (const char* penalty : {"frequency_penalty", "presence_penalty"}) {
    json p = base;
    p[penalty] = 2.0;
    const json r = post(cli, "/v1/chat/completions", p);
    EXPECT_NE(r["choices"][0]["message"]["content"], text) << penalty;
    p[penalty] = 2.5;
    EXPECT_EQ(post(cli, "/v1/chat/completions", p, 400)["error"]["param"], penalty);
    p[penalty] = "high";
    EXPECT_EQ(post(cli, "/v1/chat/completions", p, 400)["error"]["code"], "invalid_type");
  }

  // The window reaches the sampler: an empty one turns the penalties off.
  {
    json p = base;
    p["frequency_penalty"] = 2.0;
    p["repeat_last_n"] = 0;
    EXPECT_EQ(post(cli, "/v1/chat/completions", p)["choices"][0]["message"]["content"], text);
    p["repeat_last_n"] = -2;
    EXPECT_EQ(post(cli, "/v1/chat/completions", p, 400)["error"]["param"], "repeat_last_n");
  }

  // A stop string cuts the text before it, with finish_reason "stop".
  // (The tiny model's text is random: take three printable ASCII bytes from it as the stop.)
  size_t at = 4;
  auto plain_ascii = [](char c) { return c > ' ' && c < 127; };
  while (at + 3 <= text.size() && !(plain_ascii(text[at]) && plain_ascii(text[at + 1]) && plain_ascii(text[at + 2]))) ++at;
  ASSERT_LE(at + 3, text.size()) << text;
  {
    json p = base;
    const std::string stop = text.substr(at, 3);
    p["stop"] = stop;
    const json r = post(cli, "/v1/chat/completions", p);
    EXPECT_EQ(r["choices"][0]["finish_reason"], "stop");
    EXPECT_EQ(r["choices"][0]["message"]["content"], text.substr(0, text.find(stop)));
  }
  {
    json p = base;
    p["stream_options"] = {{"include_usage", true}};  // without "stream": true
    const json e = post(cli, "/v1/chat/completions", p, 400);
    EXPECT_EQ(e["error"]["param"], "stream_options");
    EXPECT_TRUE(e["error"]["message"].is_string());
    EXPECT_EQ(e["error"]["type"], "invalid_request_error");
  }

  // Embeddings: a string or an array; base64 is the little-endian float32 bytes.
  {
    const json one = post(cli, "/v1/embeddings", {{"input", "just one"}});
    ASSERT_EQ(one["data"].size(), 1u);
    const json floats = post(cli, "/v1/embeddings", {{"input", {"alpha", "beta"}}});
    const json b64 = post(cli, "/v1/embeddings", {{"input", {"alpha", "beta"}}, {"encoding_format", "base64"}});
    ASSERT_EQ(b64["data"].size(), 2u);
    for (size_t k = 0; k < 2; ++k) {
      const std::string bytes = xnai::test::base64_decode(b64["data"][k]["embedding"]);
      const auto& v = floats["data"][k]["embedding"];
      ASSERT_EQ(bytes.size(), v.size() * 4);
      for (size_t i = 0; i < v.size(); ++i) {
        const auto* p = reinterpret_cast<const unsigned char*>(bytes.data()) + i * 4;
        const uint32_t bits = uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
        float x;
        std::memcpy(&x, &bits, 4);
        ASSERT_EQ(x, v[i].get<float>()) << k << "," << i;
      }
    }
    EXPECT_EQ(post(cli, "/v1/embeddings", {{"input", "x"}, {"encoding_format", "int8"}}, 400)["error"]["param"],
              "encoding_format");
  }

  // Streaming with include_usage, so time to first token is observed on this server too.
  {
    json p = base;
    p["stream"] = true;
    p["stream_options"] = {{"include_usage", true}};
    auto r = cli.Post("/v1/chat/completions", p.dump(), "application/json");
    ASSERT_TRUE(r);
    const auto events = xnai::test::sse_events(r->body);
    ASSERT_GE(events.size(), 3u);
    EXPECT_EQ(events.back().data, "[DONE]");
    const json last = events[events.size() - 2].json();  // the usage chunk: no choices
    EXPECT_TRUE(last["choices"].empty());
    EXPECT_EQ(last["usage"], u);
    const json fin = events[events.size() - 3].json();
    EXPECT_EQ(fin["choices"][0]["finish_reason"], "length");
  }

  // A request is counted once its response is written, just after the client has it: poll
  // briefly for the last one.
  const std::string ok_series = "xnai_http_requests_total{route=\"/v1/chat/completions\",status=\"200\"} 7";
  std::string page;
  for (int i = 0; i < 100; ++i) {
    auto m = cli.Get("/metrics");
    ASSERT_TRUE(m);
    page = m->body;
    if (page.find(ok_series) != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_GE(metric(page, "xnai_http_requests_total{route=\"/v1/chat/completions\",status=\"200\"}"), 7);
  EXPECT_GE(metric(page, "xnai_http_errors_total{route=\"/v1/chat/completions\",status=\"400\"}"), 5);
  EXPECT_GE(metric(page, "xnai_http_request_duration_seconds_bucket{route=\"/v1/embeddings\",le=\"+Inf\"}"), 4);
  EXPECT_GE(metric(page, "xnai_time_to_first_token_seconds_count"), 6);
  EXPECT_GT(metric(page, "xnai_tokens_per_second"), 0);
  EXPECT_GT(metric(page, "xnai_generated_tokens_total"), 48 * 5);
  EXPECT_EQ(metric(page, "xnai_queue_depth"), 0);
  EXPECT_EQ(metric(page, "xnai_slots_active"), 0);
  EXPECT_EQ(metric(page, "xnai_slots_total"), 1);
  EXPECT_GT(metric(page, "xnai_kv_cache_cells_total"), 0);
  EXPECT_GE(metric(page, "xnai_kv_cache_cells_used"), 0);
  EXPECT_GT(metric(page, "process_resident_memory_bytes"), 1e6);
  server.stop();
}

TEST(ServerApiDetails, RagAnswerIsSpokenSentenceBySentence) {
  XNAI_SKIP_IF_MISSING(emb_path, "llm/tiny-bert-bge-f16.gguf");
  ::signal(SIGPIPE, SIG_IGN);
  auto emb = xnai::runtime::BertEmbedder::load(emb_path.string());
  const fs::path dir = fs::temp_directory_path() / ("xnai_rag_audio_test_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto store = xnai::rag::open_embedded_store({(dir / "data").string()});
  xnai::server::ServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.data_dir = dir.string();
  xnai::server::Services s;
  s.embedder = emb.get();
  s.store = store.get();
  s.tts = std::make_shared<xnai::speech::EspeakEngine>();
  xnai::server::Server server(o, s);  // no LLM: the answer is extractive, its sentences known
  server.start();
  httplib::Client cli("127.0.0.1", server.port());
  cli.set_read_timeout(120, 0);
  const std::string doc =
      "# The Seine\n\nThe Seine river flows through Paris in France. The Seine river is the longest river of "
      "northern France. The Seine river reaches the sea at Le Havre in France.\n";
  auto up = cli.Post("/v1/rag/documents?filename=seine.md", doc, "text/markdown");
  ASSERT_TRUE(up);
  ASSERT_EQ(up->status, 201) << up->body;

  const json q = {{"question", "Seine river France"}, {"stream", true}, {"audio", {{"voice", "alloy"}, {"format", "wav"}}}};
  auto r = cli.Post("/v1/rag/query", q.dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  std::string answer;
  std::vector<std::string> spoken;
  int citations_at = -1, first_audio_at = -1, n_deltas = 0, last_delta_at = -1;
  size_t n_citations = 0;
  const auto events = xnai::test::sse_events(r->body);
  for (size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    if (e.data == "[DONE]") continue;
    const json j = e.json();
    ASSERT_FALSE(j.contains("error")) << e.data;
    if (j["object"] == "rag.answer.delta") {
      answer += j["delta"].get<std::string>();
      ++n_deltas;
      last_delta_at = int(i);
    } else if (j["object"] == "rag.answer.audio") {
      EXPECT_EQ(e.event, "audio");
      EXPECT_EQ(j["index"], spoken.size());
      EXPECT_EQ(j["format"], "wav");
      if (first_audio_at < 0) first_audio_at = int(i);
      const std::string said = j["text"];
      EXPECT_EQ(said.find('['), std::string::npos) << said;  // markers are not read aloud
      EXPECT_NE(answer.find(said), std::string::npos) << said << " | " << answer;
      const auto d = xnai::test::decode_audio(xnai::test::base64_decode(j["audio"]), ".wav");
      EXPECT_EQ(d.sample_rate, 24000);
      EXPECT_GT(double(d.frames) / 24000.0, 0.5) << said;
      EXPECT_GT(d.rms, 0.01) << said;
      spoken.push_back(said);
    } else if (e.event == "citations") {
      citations_at = int(i);
      n_citations = j["citations"].size();
    }
  }
  ASSERT_GE(n_citations, 2u) << r->body;
  EXPECT_EQ(spoken.size(), n_citations) << answer;  // one clip per quoted sentence
  EXPECT_GE(first_audio_at, 0);
  EXPECT_LT(first_audio_at, citations_at);
  // Spoken while being written: the first clip comes before the last sentence's text.
  if (n_deltas >= 3) {
    EXPECT_LT(first_audio_at, last_delta_at);
  }

  // Not streamed: the same clips in an "audio" array.
  json whole = q;
  whole["stream"] = false;
  const json w = post(cli, "/v1/rag/query", whole);
  ASSERT_TRUE(w["audio"].is_array());
  ASSERT_EQ(w["audio"].size(), spoken.size());
  for (size_t i = 0; i < spoken.size(); ++i) EXPECT_EQ(w["audio"][i]["text"], spoken[i]);

  // Bad audio requests are 400s naming the field.
  json bad = q;
  bad["audio"] = {{"format", "aac"}};
  EXPECT_EQ(post(cli, "/v1/rag/query", bad, 400)["error"]["param"], "audio.format");
  bad["audio"] = "mp3";
  EXPECT_EQ(post(cli, "/v1/rag/query", bad, 400)["error"]["param"], "audio");
  bad["audio"] = {{"voice", "xx_nobody"}};
  EXPECT_EQ(post(cli, "/v1/rag/query", bad, 400)["error"]["param"], "audio.voice");
  bad["audio"] = {{"voice", 7}};
  EXPECT_EQ(post(cli, "/v1/rag/query", bad, 400)["error"]["param"], "audio.voice");
  server.stop();
  store.reset();
  fs::remove_all(dir);
}

// The same with a local LLM writing the answer: the clips are made inside the generation's
// text callback (the slot hands its turn on meanwhile) and arrive before the citations.
TEST(ServerApiDetails, RagLlmAnswerIsSpokenToo) {
  XNAI_SKIP_IF_MISSING(llm_path, "llm/tiny-llama-spm-q8_0.gguf");
  XNAI_SKIP_IF_MISSING(emb_path, "llm/tiny-bert-bge-f16.gguf");
  ::signal(SIGPIPE, SIG_IGN);
  auto backend = xnai::compute::make_cpu_backend({});
  auto llm = xnai::models::LlmModel::load(llm_path.string(), *backend);
  auto emb = xnai::runtime::BertEmbedder::load(emb_path.string());
  const fs::path dir = fs::temp_directory_path() / ("xnai_rag_llm_audio_test_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto store = xnai::rag::open_embedded_store({(dir / "data").string()});
  xnai::server::ServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.data_dir = dir.string();
  xnai::server::Services s;
  s.llm = llm.get();
  s.embedder = emb.get();
  s.store = store.get();
  s.tts = std::make_shared<xnai::speech::EspeakEngine>();
  xnai::server::Server server(o, s);
  server.start();
  httplib::Client cli("127.0.0.1", server.port());
  cli.set_read_timeout(120, 0);
  auto up = cli.Post("/v1/rag/documents?filename=kettle.md", "The kettle has a warranty of two years.\n", "text/markdown");
  ASSERT_TRUE(up);
  ASSERT_EQ(up->status, 201) << up->body;
  const json q = {{"question", "How long is the warranty?"}, {"stream", true}, {"max_tokens", 24},
                  {"temperature", 0},                        {"audio", {{"format", "wav"}}}};
  auto r = cli.Post("/v1/rag/query", q.dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  std::string answer, spoken;
  int audio = 0, citations_at = -1, last_audio_at = -1;
  const auto events = xnai::test::sse_events(r->body);
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].data == "[DONE]") continue;
    const json j = events[i].json();
    ASSERT_FALSE(j.contains("error")) << events[i].data;
    if (j["object"] == "rag.answer.delta") answer += j["delta"].get<std::string>();
    if (j["object"] == "rag.answer.audio") {
      ++audio;
      last_audio_at = int(i);
      spoken += j["text"].get<std::string>();
      const auto d = xnai::test::decode_audio(xnai::test::base64_decode(j["audio"]), ".wav");
      EXPECT_EQ(d.sample_rate, 24000);
      EXPECT_GT(d.frames, 0);
    }
    if (events[i].event == "citations") {
      citations_at = int(i);
      EXPECT_EQ(j["extractive"], false);
    }
  }
  ASSERT_GE(citations_at, 0) << r->body;
  ASSERT_FALSE(answer.empty());
  if (std::any_of(answer.begin(), answer.end(), [](unsigned char c) { return std::isalpha(c); })) {
    EXPECT_GE(audio, 1) << answer;
    EXPECT_LT(last_audio_at, citations_at);
  }
  server.stop();
  store.reset();
  fs::remove_all(dir);
}

}  // namespace
