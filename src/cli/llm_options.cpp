#include "cli/llm_options.h"

#include <unistd.h>

#include <filesystem>

#include "cli/progress_bar.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "hub/hub.h"

namespace xnai::cli {

std::vector<OptionSpec> model_option_specs() {
  return {
      {"--model", "-m", true, "GGUF model file", "MODEL_PATH"},
      {"--threads", "-t", true, "CPU threads (default: physical cores)", "N_THREADS"},
  };
}

std::vector<OptionSpec> context_option_specs() {
  return {
      {"--ctx-size", "-c", true, "context size in tokens (default: model's, at most 4096)", ""},
      {"--batch-size", "-b", true, "prompt tokens per forward pass (default 512)", ""},
      {"--kv-type", "", true, "KV cache type: f16 (default) or f32", ""},
  };
}

std::vector<OptionSpec> sampling_option_specs() {
  return {
      {"--temp", "", true, "temperature (default 0.8; 0 = greedy)", ""},
      {"--top-k", "", true, "top-k (default 40; 0 = off)", ""},
      {"--top-p", "", true, "top-p (default 0.95; 1 = off)", ""},
      {"--min-p", "", true, "min-p (default 0.05; 0 = off)", ""},
      {"--repeat-penalty", "", true, "repetition penalty (default 1.0 = off)", ""},
      {"--repeat-last-n", "", true, "tokens the penalties look back over (default 64)", ""},
      {"--presence-penalty", "", true, "presence penalty (default 0)", ""},
      {"--frequency-penalty", "", true, "frequency penalty (default 0)", ""},
      {"--seed", "-s", true, "random seed (default: random)", ""},
  };
}

// -m (or MODEL_PATH, which Args reads for -m) is a path or a cached model's name; with
// neither, the config's default LLM (hub::resolve_model says how to get one when unset).
std::string model_path(const Args& args) {
  return hub::resolve_model(args.get("--model").value_or(""), hub::ModelKind::Llm);
}

std::unique_ptr<compute::Backend> make_backend(const Args& args) {
  compute::BackendOptions opts;
  opts.n_threads = args.get_int("--threads", 0);
  if (opts.n_threads < 0) throw Error(ErrorKind::InvalidArgument, "--threads must be >= 1");
  return compute::make_cpu_backend(opts);
}

std::unique_ptr<models::LlmModel> load_llm(const Args& args, compute::Backend& backend) {
  const std::string path = model_path(args);
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  const bool show = !ec && (::isatty(STDERR_FILENO) || size > (200u << 20));
  ProgressBar bar("loading " + std::filesystem::path(path).filename().string(), show);
  models::LoadOptions opts;
  opts.progress = [&bar](float f) { bar.update(f); };
  auto model = models::LlmModel::load(path, backend, opts);
  bar.finish();
  return model;
}

runtime::ContextOptions context_options(const Args& args) {
  runtime::ContextOptions o;
  o.n_ctx = args.get_int("--ctx-size", 0);
  o.n_batch = args.get_int("--batch-size", 512);
  const std::string kv = args.get_or("--kv-type", "f16");
  if (kv == "f16") o.kv_type = DType::F16;
  else if (kv == "f32") o.kv_type = DType::F32;
  else throw Error(ErrorKind::InvalidArgument, "--kv-type must be f16 or f32, got '" + kv + "'");
  return o;
}

runtime::SamplingParams sampling_params(const Args& args) {
  runtime::SamplingParams p;
  p.temperature = static_cast<float>(args.get_double("--temp", p.temperature));
  p.top_k = args.get_int("--top-k", p.top_k);
  p.top_p = static_cast<float>(args.get_double("--top-p", p.top_p));
  p.min_p = static_cast<float>(args.get_double("--min-p", p.min_p));
  p.repeat_penalty = static_cast<float>(args.get_double("--repeat-penalty", p.repeat_penalty));
  p.repeat_last_n = args.get_int("--repeat-last-n", p.repeat_last_n);
  p.presence_penalty = static_cast<float>(args.get_double("--presence-penalty", p.presence_penalty));
  p.frequency_penalty = static_cast<float>(args.get_double("--frequency-penalty", p.frequency_penalty));
  if (auto s = args.get("--seed")) {
    try {
      p.seed = std::stoull(*s);
    } catch (...) {
      throw Error(ErrorKind::InvalidArgument, "--seed expects a non-negative integer, got '" + *s + "'");
    }
  }
  return p;
}

}  // namespace xnai::cli
