#include "server/remote_answer.h"

#include <exception>
#include <optional>

#include "runtime/sampler.h"
#include "server/api_error.h"
#include "server/remote_engine.h"

namespace xnai::server {

rag::Answer answer_with_remote_llm(const RemoteEngine& engine, const std::string& question,
                                   const std::vector<rag::RetrievedHit>& hits, const rag::LlmAnswerOptions& opts,
                                   const std::function<bool(std::string_view)>& on_text) {
  rag::Answer a;
  if (hits.empty()) {
    a.finish_reason = "no_hits";
    return a;
  }
  const auto m = rag::build_answer_messages(question, hits, opts.max_sources, kRemoteAnswerMaxUserChars,
                                            opts.system_prompt);
  a.sources = m.sources;
  json body{{"messages", json::array({json{{"role", "system"}, {"content", m.system}},
                                      json{{"role", "user"}, {"content", m.user}}})},
            {"temperature", opts.generate.sampling.temperature},
            {"stream", true},
            {"stream_options", {{"include_usage", true}}}};
  if (opts.generate.max_tokens > 0) body["max_tokens"] = opts.generate.max_tokens;
  if (opts.generate.sampling.seed != runtime::kRandomSeed)
    body["seed"] = static_cast<int64_t>(opts.generate.sampling.seed);
  if (auto model = engine.default_model()) body["model"] = *model;

  int status = 0;
  std::string buffer, error_text;
  std::optional<ApiError> failure;
  bool stopped = false;
  std::exception_ptr thrown;  // from on_text
  // One SSE event: its data lines; chunks carry choices[0].delta.content, a finish_reason
  // and, with include_usage, a last chunk with usage.
  auto on_event = [&](const std::string& event) {
    std::string data;
    size_t pos = 0;
    while (pos < event.size()) {
      size_t end = event.find('\n', pos);
      if (end == std::string::npos) end = event.size();
      std::string line = event.substr(pos, end - pos);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.rfind("data:", 0) == 0) data += line.substr(line.size() > 5 && line[5] == ' ' ? 6 : 5);
      pos = end + 1;
    }
    if (data.empty() || data == "[DONE]") return true;
    const json c = json::parse(data, nullptr, false);
    if (c.is_discarded()) return true;
    if (c.contains("error")) {
      const json& e = c["error"];
      failure = ApiError(502, "server_error",
                         "the remote llm engine at " + engine.display() + " failed mid-answer: " +
                             (e.is_object() && e.contains("message") && e["message"].is_string()
                                  ? e["message"].get<std::string>()
                                  : e.dump()),
                         "", "remote_error");
      return false;
    }
    if (c.contains("usage") && c["usage"].is_object()) {
      a.n_prompt_tokens = c["usage"].value("prompt_tokens", 0);
      a.n_generated_tokens = c["usage"].value("completion_tokens", 0);
    }
    if (!c.contains("choices") || !c["choices"].is_array() || c["choices"].empty()) return true;
    const json& ch = c["choices"][0];
    if (ch.contains("finish_reason") && ch["finish_reason"].is_string()) a.finish_reason = ch["finish_reason"];
    if (ch.contains("delta") && ch["delta"].contains("content") && ch["delta"]["content"].is_string()) {
      const std::string piece = ch["delta"]["content"];
      if (piece.empty()) return true;
      a.text += piece;
      bool go_on = true;
      try {
        go_on = !on_text || on_text(piece);
      } catch (...) {  // rethrown once the transfer has unwound
        thrown = std::current_exception();
        go_on = false;
      }
      if (!go_on) {
        stopped = true;
        return false;
      }
    }
    return true;
  };
  std::optional<ApiError> transfer;
  engine.post_streaming(
      "/v1/chat/completions", body,
      [&](int s, const std::string&) {
        status = s;
        return true;
      },
      [&](const char* data, size_t n) {
        if (status != 200) {
          error_text.append(data, n);
          return true;
        }
        buffer.append(data, n);
        for (size_t end; (end = buffer.find("\n\n")) != std::string::npos;) {
          const std::string event = buffer.substr(0, end);
          buffer.erase(0, end + 2);
          try {
            if (!on_event(event)) return false;
          } catch (const std::exception& ex) {  // a malformed chunk; httplib's callbacks must not throw
            failure = ApiError(502, "server_error",
                               "the remote llm engine at " + engine.display() + " sent a malformed chunk (" +
                                   ex.what() + ")",
                               "", "remote_error");
            return false;
          }
        }
        return true;
      },
      transfer);
  if (thrown) std::rethrow_exception(thrown);
  if (transfer) throw *transfer;
  if (failure) throw *failure;
  if (status != 200) {
    const json e = json::parse(error_text, nullptr, false);
    if (!e.is_discarded() && e.is_object() && e.contains("error") && e["error"].is_object()) {
      const json& err = e["error"];
      const auto text = [&](const char* key, const char* def) {
        return err.contains(key) && err[key].is_string() ? err[key].get<std::string>() : std::string(def);
      };
      throw ApiError(status >= 400 && status < 500 ? status : 502, text("type", "server_error"),
                     "the remote llm engine at " + engine.display() + ": " + text("message", "error"), "",
                     text("code", ""));
    }
    throw ApiError(502, "server_error",
                   "the remote llm engine at " + engine.display() + " answered HTTP " + std::to_string(status), "",
                   "remote_error");
  }
  if (!stopped && !buffer.empty()) {
    try {
      on_event(buffer);
    } catch (const std::exception&) {  // a torn last chunk adds nothing
    }
  }
  if (a.finish_reason.empty()) a.finish_reason = "stop";
  a.citations = rag::cited_sources(a.text, a.sources, &a.unknown_markers);
  return a;
}

}  // namespace xnai::server
