// POST /v1/chat/completions and POST /v1/completions: the request becomes prompt tokens
// (chat: the model's chat template over the messages), the generation runs on a slot, and
// the text comes back whole or streamed as SSE chunks.
#include <httplib.h>

#include "formats/gguf.h"
#include "models/llm/llm.h"
#include "server/completion_request.h"
#include "server/remote_relay.h"
#include "server/server_context.h"
#include "server/sse.h"
#include "text/chat_template.h"
#include "text/tokenizer.h"

namespace xnai::server {
namespace {

using Clock = std::chrono::steady_clock;

enum class Kind { Chat, Text };

struct Job {
  Kind kind = Kind::Chat;
  std::string id, model;
  int64_t created = 0;
  std::vector<int32_t> prompt;
  CompletionParams params;
  Clock::time_point arrived;
  Clock::time_point deadline;
};

std::string message_content(const json& m, size_t i) {
  const std::string param = "messages[" + std::to_string(i) + "].content";
  auto it = m.find("content");
  if (it == m.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (!it->is_array())
    throw bad_request("'" + param + "' must be a string or an array of text parts, got " + it->type_name(), param,
                      "invalid_type");
  std::string text;
  for (const auto& part : *it) {
    if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") || !part["text"].is_string())
      throw bad_request("'" + param + "' parts must be {\"type\": \"text\", \"text\": \"...\"} (only text is supported)",
                        param, "invalid_type");
    text += part["text"].get<std::string>();
  }
  return text;
}

std::vector<text::ChatMessage> read_messages(const json& body) {
  auto it = body.find("messages");
  if (it == body.end() || it->is_null())
    throw bad_request("'messages' is required", "messages", "missing_required_parameter");
  if (!it->is_array())
    throw bad_request(std::string("'messages' must be an array, got ") + it->type_name(), "messages", "invalid_type");
  if (it->empty()) throw bad_request("'messages' must not be empty", "messages", "invalid_value");
  std::vector<text::ChatMessage> out;
  for (size_t i = 0; i < it->size(); ++i) {
    const json& m = (*it)[i];
    const std::string at = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) throw bad_request("'" + at + "' must be an object, got " + m.type_name(), at, "invalid_type");
    auto role = opt_string(m, "role");
    if (!role) throw bad_request("'" + at + ".role' is required", at + ".role", "missing_required_parameter");
    if (*role == "developer") *role = "system";
    if (*role != "system" && *role != "user" && *role != "assistant")
      throw bad_request("'" + at + ".role' must be system, user or assistant, got '" + *role + "'", at + ".role",
                        "invalid_value");
    out.push_back({*role, message_content(m, i)});
  }
  return out;
}

std::vector<int32_t> read_text_prompt(const json& body, const text::Tokenizer& tok) {
  auto it = body.find("prompt");
  if (it == body.end() || it->is_null())
    throw bad_request("'prompt' is required", "prompt", "missing_required_parameter");
  if (it->is_string()) return tok.encode(it->get<std::string>(), true, false);
  if (it->is_array() && it->size() == 1 && (*it)[0].is_string()) return tok.encode((*it)[0].get<std::string>(), true, false);
  if (it->is_array() && !it->empty() && std::all_of(it->begin(), it->end(), [](const json& e) { return e.is_number_integer(); })) {
    std::vector<int32_t> ids;
    for (const auto& e : *it) {
      const int64_t id = e.get<int64_t>();
      if (id < 0 || id >= static_cast<int64_t>(tok.n_vocab()))
        throw bad_request("'prompt' token id " + std::to_string(id) + " is outside the vocabulary", "prompt",
                          "invalid_value");
      ids.push_back(static_cast<int32_t>(id));
    }
    return ids;
  }
  throw bad_request("'prompt' must be a string, an array of one string, or an array of token ids", "prompt",
                    "invalid_type");
}

json usage_json(const Job& job, const runtime::GenerateResult& r) {
  return json{{"prompt_tokens", job.prompt.size()},
              {"completion_tokens", r.n_generated},
              {"total_tokens", static_cast<int64_t>(job.prompt.size()) + r.n_generated}};
}

json chunk_base(const Job& job) {
  return json{{"id", job.id},
              {"object", job.kind == Kind::Chat ? "chat.completion.chunk" : "text_completion"},
              {"created", job.created},
              {"model", job.model}};
}

json delta_chunk(const Job& job, const std::string& piece, const json& finish, bool first) {
  json c = chunk_base(job);
  json choice;
  choice["index"] = 0;
  if (job.kind == Kind::Chat) {
    json delta = json::object();
    if (first) delta["role"] = "assistant";
    if (!piece.empty() || first) delta["content"] = piece;
    choice["delta"] = delta;
  } else {
    choice["text"] = piece;
    choice["logprobs"] = nullptr;
  }
  choice["finish_reason"] = finish;
  c["choices"] = json::array({choice});
  if (job.params.include_usage) c["usage"] = nullptr;
  return c;
}

// Runs the generation, calling on_text per piece; stops at the deadline (timed_out set) or
// as soon as client_alive() says the client has gone, checked before every token, so the
// slot is freed within one step even while no text is due.
runtime::GenerateResult run_job(ServerContext& ctx, Lease& lease, const Job& job,
                                const std::function<bool(std::string_view)>& on_text, bool& timed_out,
                                const std::function<bool()>& client_alive = {}) {
  double ttft = -1;
  timed_out = false;
  runtime::GenerateOptions gen = job.params.gen;
  gen.keep_going = [&] {
    if (Clock::now() > job.deadline) {
      timed_out = true;
      return false;
    }
    return !client_alive || client_alive();
  };
  auto r = lease.generate(job.prompt, gen, [&](std::string_view piece) {
    const auto now = Clock::now();
    if (ttft < 0) ttft = std::chrono::duration<double>(now - job.arrived).count();
    if (now > job.deadline) {
      timed_out = true;
      return false;
    }
    return on_text(piece);
  });
  ctx.metrics.record_generation(r.n_generated, r.generate_ms / 1000.0, ttft);
  return r;
}

void respond_whole(ServerContext& ctx, Job& job, httplib::Response& res) {
  auto lease = acquire_slot(ctx, job.prompt, res);
  bool timed_out = false;
  auto r = run_job(ctx, *lease, job, [](std::string_view) { return true; }, timed_out);
  if (timed_out)
    throw ApiError(504, "timeout", "the generation ran past --timeout " + std::to_string(ctx.opts.timeout_s) + " s",
                   "", "timeout");
  json out{{"id", job.id}, {"created", job.created}, {"model", job.model}};
  json choice{{"index", 0}, {"finish_reason", openai_finish_reason(r.finish_reason)}};
  if (job.kind == Kind::Chat) {
    out["object"] = "chat.completion";
    choice["message"] = json{{"role", "assistant"}, {"content", r.text}};
    choice["logprobs"] = nullptr;
  } else {
    out["object"] = "text_completion";
    choice["text"] = r.text;
    choice["logprobs"] = nullptr;
  }
  out["choices"] = json::array({choice});
  out["usage"] = usage_json(job, r);
  send_json(res, out);
}

void respond_stream(ServerContext& ctx, std::shared_ptr<Job> job, httplib::Response& res) {
  // The slot is taken before the response starts, so a full queue is still a plain 503.
  std::shared_ptr<Lease> lease = acquire_slot(ctx, job->prompt, res);
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider(
      "text/event-stream", [&ctx, job, lease](size_t, httplib::DataSink& sink) mutable {
        bool first = true, client_gone = false;
        if (job->kind == Kind::Chat) {
          client_gone = !sse_send(sink, delta_chunk(*job, "", nullptr, true));
          first = false;
        }
        bool timed_out = false;
        runtime::GenerateResult r;
        try {
          if (!client_gone)
            r = run_job(ctx, *lease, *job, [&](std::string_view piece) {
              if (!sse_send(sink, delta_chunk(*job, std::string(piece), nullptr, first))) {
                client_gone = true;
                return false;
              }
              first = false;
              return true;
            }, timed_out, [&] { return !client_gone && (!sink.is_writable || sink.is_writable()); });
        } catch (const std::exception& e) {
          lease.reset();
          sse_send(sink, error_body(500, "server_error", e.what()));
          sse_done(sink);
          return true;
        }
        lease.reset();  // frees the slot before the last writes
        if (client_gone || (r.finish_reason == "cancelled" && !timed_out)) return false;
        if (timed_out) {
          sse_send(sink, error_body(504, "timeout", "the generation ran past --timeout", "", "timeout"));
          sse_done(sink);
          return true;
        }
        sse_send(sink, delta_chunk(*job, "", openai_finish_reason(r.finish_reason), false));
        if (job->params.include_usage) {
          json u = chunk_base(*job);
          u["choices"] = json::array();
          u["usage"] = usage_json(*job, r);
          sse_send(sink, u);
        }
        sse_done(sink);
        return true;
      });
}

void handle(ServerContext& ctx, const httplib::Request& req, httplib::Response& res, Kind kind) {
  auto job = std::make_shared<Job>();
  job->arrived = Clock::now();
  job->deadline = ctx.deadline_from_now();
  const json body = parse_json_object(req.body);
  if (ctx.remote_llm) {  // --llm-url: the remote engine answers (remote_relay.h)
    relay_to_remote(ctx, *ctx.remote_llm, req.path, body, opt_bool(body, "stream").value_or(false), res);
    return;
  }
  if (!ctx.services.llm)
    throw ApiError(503, "server_error", "no language model is loaded (start xnai serve with -m MODEL)");
  check_model(body, ctx.opts.llm_name);
  job->kind = kind;
  job->model = ctx.opts.llm_name;
  job->created = unix_now();
  job->id = random_id(kind == Kind::Chat ? "chatcmpl" : "cmpl");
  job->params = read_completion_params(body, ctx.opts.max_tokens_default);
  const auto& model = *ctx.services.llm;
  const auto& tok = model.tokenizer();
  if (kind == Kind::Chat) {
    const auto messages = read_messages(body);
    const auto tmpl = text::choose_chat_template(model.gguf().get_string("tokenizer.chat_template"), nullptr);
    const std::string prompt = text::apply_chat_template(tmpl, messages, true);
    job->prompt = tok.encode(prompt, true, true);
  } else {
    job->prompt = read_text_prompt(body, tok);
  }
  for (const auto& [id, bias] : job->params.gen.sampling.logit_bias)
    if (id >= static_cast<int64_t>(tok.n_vocab()))
      throw bad_request("logit_bias token id " + std::to_string(id) + " is outside the vocabulary of " +
                            std::to_string(tok.n_vocab()),
                        "logit_bias", "invalid_value");
  if (job->prompt.empty()) throw bad_request("the prompt has no tokens", kind == Kind::Chat ? "messages" : "prompt");
  const int64_t n_ctx = ctx.slots->n_ctx();
  if (static_cast<int64_t>(job->prompt.size()) >= n_ctx)
    throw bad_request("the prompt has " + std::to_string(job->prompt.size()) + " tokens but the context holds " +
                          std::to_string(n_ctx) + " (--ctx-size)",
                      kind == Kind::Chat ? "messages" : "prompt", "context_length_exceeded");
  if (job->params.stream) respond_stream(ctx, job, res);
  else respond_whole(ctx, *job, res);
}

}  // namespace

void register_completion_routes(httplib::Server& http, ServerContext& ctx) {
  add_route(http, ctx, "POST", "/v1/chat/completions", "/v1/chat/completions",
            [](ServerContext& c, const httplib::Request& q, httplib::Response& r) { handle(c, q, r, Kind::Chat); });
  add_route(http, ctx, "POST", "/v1/completions", "/v1/completions",
            [](ServerContext& c, const httplib::Request& q, httplib::Response& r) { handle(c, q, r, Kind::Text); });
}

}  // namespace xnai::server
