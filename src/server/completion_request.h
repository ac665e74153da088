// Reading the shared fields of /v1/chat/completions and /v1/completions into generation
// options, and the OpenAI finish_reason of a generation. OpenAI's sampling semantics are
// kept: temperature (default 1) and top_p are the only truncations unless the request adds
// the llama.cpp-style extensions top_k / min_p / repeat_penalty. presence_penalty and
// frequency_penalty are OpenAI's (logit -= presence + count · frequency) over the sampler's
// window of recent tokens (repeat_last_n, default 64, prompt included).
#pragma once
#include <string>

#include "runtime/generator.h"
#include "server/api_error.h"

namespace xnai::server {

struct CompletionParams {
  runtime::GenerateOptions gen;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
};

// Throws ApiError (400) naming the field for a wrong type or an out-of-range value.
CompletionParams read_completion_params(const json& body, int default_max_tokens);

// "stop" or "length" (OpenAI's two values for a finished text).
const char* openai_finish_reason(const std::string& generator_reason);

// Checks `model` against the served id; 404 model_not_found otherwise.
void check_model(const json& body, const std::string& served);

}  // namespace xnai::server
