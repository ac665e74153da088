// POST /v1/rag/query: retrieve the chunks for a question (hybrid, vector or BM25, with the
// metadata filter), answer from them — with the LLM on a generation slot when one is loaded,
// else extractively — and return the answer with its citations (chunk id, file, pages, the
// byte span and its text). With "stream": true the answer's text arrives as SSE events
// {"object":"rag.answer.delta","delta":…}, then one `event: citations` with the citations,
// then data: [DONE]. With "audio": {"voice", "format"} the answer is also spoken sentence by
// sentence as it is written (answer_audio.h): each finished sentence arrives as an
// `event: audio` {"object":"rag.answer.audio","index","text","format","audio": base64 clip}
// (not streamed: an "audio" array of the same objects). With --llm-url the remote LLM writes
// the answer (remote_answer.h).
#include <httplib.h>

#include <mutex>

#include "core/error.h"
#include "rag/answer.h"
#include "rag/filter_parse.h"
#include "rag/retriever.h"
#include "server/answer_audio.h"
#include "server/base64.h"
#include "server/remote_answer.h"
#include "server/server_context.h"
#include "server/sse.h"

namespace xnai::server {
namespace {

json page_value(int p) { return p > 0 ? json(p) : json(nullptr); }

json citation_json(const rag::Citation& c) {
  return json{{"number", c.number},
              {"chunk_id", c.chunk_id},
              {"doc_id", c.doc_id},
              {"file", c.source_path},
              {"title", c.title},
              {"page", page_value(c.page_first)},
              {"page_last", page_value(c.page_last)},
              {"span", {{"begin", c.begin}, {"end", c.end}}},
              {"heading", c.heading_path},
              {"score", c.score},
              {"text", c.text}};
}

json answer_json(const rag::Answer& a, rag::RetrievalMode mode) {
  json cites = json::array(), sources = json::array();
  for (const auto& c : a.citations) cites.push_back(citation_json(c));
  for (const auto& c : a.sources) sources.push_back(citation_json(c));
  return json{{"object", "rag.answer"},
              {"answer", a.text},
              {"extractive", a.extractive},
              {"retrieval_mode", rag::retrieval_mode_name(mode)},
              {"finish_reason", a.finish_reason},
              {"citations", cites},
              {"sources", sources},
              {"usage", {{"prompt_tokens", a.n_prompt_tokens}, {"completion_tokens", a.n_generated_tokens}}}};
}

struct Query {
  std::string question;
  rag::RetrieveOptions retrieve;
  rag::LlmAnswerOptions llm;
  bool stream = false;
  std::optional<AnswerAudioRequest> audio;
};

json audio_event(const SpokenSentence& s, const std::string& format) {
  return json{{"object", "rag.answer.audio"},
              {"index", s.index},
              {"text", s.text},
              {"format", format},
              {"audio", base64_encode(s.audio)}};
}

Query read_query(const ServerContext& ctx, const json& body, int default_max_tokens) {
  Query q;
  q.question = req_string(body, "question");
  if (q.question.find_first_not_of(" \t\r\n") == std::string::npos)
    throw bad_request("'question' is blank", "question", "invalid_value");
  q.retrieve.top_k = static_cast<int>(opt_int(body, "top_k", 1, 100).value_or(5));
  if (auto f = opt_string(body, "filter"); f && !f->empty()) {
    try {
      q.retrieve.filter = rag::parse_filter(*f);
    } catch (const Error& e) {
      throw bad_request(std::string("'filter': ") + e.what(), "filter", "invalid_filter");
    }
  }
  const std::string mode = opt_string(body, "mode").value_or("hybrid");
  if (mode == "hybrid") q.retrieve.mode = rag::RetrievalMode::Hybrid;
  else if (mode == "vector") q.retrieve.mode = rag::RetrievalMode::Vector;
  else if (mode == "bm25") q.retrieve.mode = rag::RetrievalMode::Bm25;
  else throw bad_request("'mode' must be hybrid, vector or bm25, got '" + mode + "'", "mode", "invalid_value");
  if (auto t = opt_number(body, "score_threshold", -1e9, 1e9)) q.retrieve.score_threshold = *t;
  q.llm.max_sources = q.retrieve.top_k;
  q.llm.generate.max_tokens = static_cast<int>(opt_int(body, "max_tokens", 1, 1 << 20).value_or(
      std::min(default_max_tokens, q.llm.generate.max_tokens)));
  if (auto t = opt_number(body, "temperature", 0, 2)) q.llm.generate.sampling.temperature = static_cast<float>(*t);
  if (auto s = opt_int(body, "seed", INT64_MIN, INT64_MAX)) q.llm.generate.sampling.seed = static_cast<uint64_t>(*s);
  q.stream = opt_bool(body, "stream").value_or(false);
  q.audio = read_answer_audio(ctx, body);
  return q;
}

// Retrieval and the answer, text handed to on_text as it is produced.
rag::Answer answer(ServerContext& ctx, const Query& q, std::unique_ptr<Lease> lease, rag::RetrievalMode& mode_used,
                   const TextCallback& on_text) {
  std::vector<rag::RetrievedHit> hits;
  {
    std::shared_lock<std::shared_mutex> lock(ctx.store_mu);
    auto opts = q.retrieve;
    opts.mode = rag::plan_retrieval(*ctx.services.store, ctx.services.embedder, opts.mode);
    auto r = rag::retrieve(*ctx.services.store, ctx.services.embedder, q.question, opts);
    mode_used = r.mode;
    hits = std::move(r.hits);
  }
  if (ctx.remote_llm) return answer_with_remote_llm(*ctx.remote_llm, q.question, hits, q.llm, on_text);
  if (!lease) {
    rag::ExtractiveOptions eo;
    eo.max_hits = q.retrieve.top_k;
    return rag::answer_extractive(q.question, hits, eo, on_text);
  }
  rag::Answer a;
  lease->run([&](runtime::Generator& g, const TextCallback& cb) { a = rag::answer_with_llm(g, q.question, hits, q.llm, cb); },
             on_text);
  return a;
}

void handle(ServerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const json body = parse_json_object(req.body);
  if (!ctx.services.store)
    throw ApiError(503, "server_error", "the document store is not open (start xnai serve with --data DIR)");
  auto q = std::make_shared<Query>(read_query(ctx, body, ctx.opts.max_tokens_default));
  // The speaker is made (and its voice checked) before the response starts; where its clips
  // go is set below, once the way of answering is known.
  auto emit = std::make_shared<SentenceSpeaker::OnSentence>();
  std::shared_ptr<SentenceSpeaker> speaker;
  if (q->audio)
    speaker = std::make_shared<SentenceSpeaker>(ctx, *q->audio, [emit](const SpokenSentence& s) { return (*emit)(s); });
  std::unique_ptr<Lease> lease;
  if (ctx.slots && !ctx.remote_llm) lease = acquire_slot(ctx, {}, res);
  if (!q->stream) {
    rag::RetrievalMode mode = rag::RetrievalMode::Bm25;
    json clips = json::array();
    *emit = [&](const SpokenSentence& s) {
      clips.push_back(audio_event(s, q->audio->format_name));
      return true;
    };
    TextCallback on_text;
    if (speaker) on_text = [&](std::string_view piece) { return speaker->add(piece); };
    const auto a = answer(ctx, *q, std::move(lease), mode, on_text);
    json out = answer_json(a, mode);
    if (speaker) {
      speaker->finish();
      out["audio"] = clips;
    }
    send_json(res, out);
    return;
  }
  auto held = std::make_shared<std::unique_ptr<Lease>>(std::move(lease));
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider("text/event-stream", [&ctx, q, held, speaker, emit](size_t, httplib::DataSink& sink) {
    bool gone = false;
    rag::RetrievalMode mode = rag::RetrievalMode::Bm25;
    rag::Answer a;
    *emit = [&](const SpokenSentence& s) {
      if (!gone && !sse_send(sink, audio_event(s, q->audio->format_name), "audio")) gone = true;
      return !gone;
    };
    try {
      a = answer(ctx, *q, std::move(*held), mode, [&](std::string_view piece) {
        if (!sse_send(sink, json{{"object", "rag.answer.delta"}, {"delta", std::string(piece)}})) gone = true;
        if (!gone && speaker) speaker->add(piece);
        return !gone;
      });
      if (speaker && !gone) speaker->finish();  // the last sentence, before the citations
    } catch (const ApiError& e) {
      sse_send(sink, error_body(e));
      sse_done(sink);
      return true;
    } catch (const std::exception& e) {
      sse_send(sink, error_body(500, "server_error", e.what()));
      sse_done(sink);
      return true;
    }
    if (gone) return false;
    json c = answer_json(a, mode);
    c["object"] = "rag.answer.citations";
    c.erase("answer");
    sse_send(sink, c, "citations");
    sse_done(sink);
    return true;
  });
}

}  // namespace

void register_rag_query_routes(httplib::Server& http, ServerContext& ctx) {
  add_route(http, ctx, "POST", "/v1/rag/query", "/v1/rag/query", handle);
}

}  // namespace xnai::server
