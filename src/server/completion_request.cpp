#include "server/completion_request.h"

#include <cmath>
#include <cstdlib>
#include <climits>

namespace xnai::server {

CompletionParams read_completion_params(const json& body, int default_max_tokens) {
  CompletionParams p;
  auto& s = p.gen.sampling;
  s.temperature = 1.0f;
  s.top_k = 0;
  s.top_p = 1.0f;
  s.min_p = 0.0f;
  if (auto v = opt_number(body, "temperature", 0, 2)) s.temperature = static_cast<float>(*v);
  if (auto v = opt_number(body, "top_p", 0, 1)) s.top_p = static_cast<float>(*v);
  if (auto v = opt_int(body, "top_k", 0, 1 << 20)) s.top_k = static_cast<int>(*v);
  if (auto v = opt_number(body, "min_p", 0, 1)) s.min_p = static_cast<float>(*v);
  if (auto v = opt_number(body, "presence_penalty", -2, 2)) s.presence_penalty = static_cast<float>(*v);
  if (auto v = opt_number(body, "frequency_penalty", -2, 2)) s.frequency_penalty = static_cast<float>(*v);
  if (auto v = opt_number(body, "repeat_penalty", 0.01, 10)) s.repeat_penalty = static_cast<float>(*v);
  // The penalties' window (llama.cpp's name): the last 64 tokens, prompt included, unless set;
  // -1 = every token of the prompt and the answer.
  if (auto v = opt_int(body, "repeat_last_n", -1, 1 << 20)) s.repeat_last_n = static_cast<int>(*v);
  if (auto v = opt_int(body, "seed", INT64_MIN, INT64_MAX)) s.seed = static_cast<uint64_t>(*v);
  p.gen.max_tokens = default_max_tokens;
  // max_completion_tokens is the newer name; either may be sent.
  if (auto v = opt_int(body, "max_tokens", 1, 1 << 20)) p.gen.max_tokens = static_cast<int>(*v);
  if (auto v = opt_int(body, "max_completion_tokens", 1, 1 << 20)) p.gen.max_tokens = static_cast<int>(*v);
  if (auto v = opt_int(body, "n", 1, 1)) (void)v;  // only one choice per request
  if (auto stops = opt_string_or_array(body, "stop", 4)) {
    for (auto& st : *stops)
      if (st.empty()) throw bad_request("'stop' strings must not be empty", "stop", "invalid_value");
    p.gen.stop = *stops;
  }
  // OpenAI's logit_bias: {"token id": bias in [-100, 100]}; -100 bans the token in practice.
  if (auto it = body.find("logit_bias"); it != body.end() && !it->is_null()) {
    if (!it->is_object())
      throw bad_request(std::string("'logit_bias' must be an object of token id → bias, got ") + it->type_name(),
                        "logit_bias", "invalid_type");
    for (const auto& [key, val] : it->items()) {
      char* end = nullptr;
      const long long id = std::strtoll(key.c_str(), &end, 10);
      if (key.empty() || *end != '\0' || id < 0 || id > INT32_MAX)
        throw bad_request("logit_bias key '" + key + "' is not a token id", "logit_bias", "invalid_value");
      if (!val.is_number() || !std::isfinite(val.get<double>()) || val.get<double>() < -100 || val.get<double>() > 100)
        throw bad_request("logit_bias for token " + key + " must be a number in [-100, 100]", "logit_bias",
                          "invalid_value");
      s.logit_bias.emplace_back(static_cast<int32_t>(id), val.get<float>());
    }
  }
  // llama-server's ignore_eos: generate up to max_tokens even past end-of-generation tokens.
  p.gen.ignore_eog = opt_bool(body, "ignore_eos").value_or(false);
  p.stream = opt_bool(body, "stream").value_or(false);
  if (auto it = body.find("stream_options"); it != body.end() && !it->is_null()) {
    if (!it->is_object())
      throw bad_request(std::string("'stream_options' must be an object, got ") + it->type_name(), "stream_options",
                        "invalid_type");
    if (!p.stream)
      throw bad_request("'stream_options' is only allowed when 'stream' is true", "stream_options", "invalid_value");
    p.include_usage = opt_bool(*it, "include_usage").value_or(false);
  }
  return p;
}

const char* openai_finish_reason(const std::string& r) { return r == "stop" ? "stop" : "length"; }

// 'model' may be left out (as llama.cpp's and Ollama's servers allow): one model is served.
void check_model(const json& body, const std::string& served) {
  const std::string model = opt_string(body, "model").value_or(served);
  if (model != served)
    throw ApiError(404, "invalid_request_error",
                   "the model '" + model + "' does not exist; this server serves '" + served + "' (see GET /v1/models)",
                   "model", "model_not_found");
}

}  // namespace xnai::server
