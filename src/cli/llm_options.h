// Options shared by the commands that run an LLM (generate, chat, bench …): model path,
// threads, context, sampling. One place so every command spells them the same way.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "cli/args.h"
#include "compute/backend.h"
#include "models/llm/llm.h"
#include "runtime/llm_context.h"
#include "runtime/sampler.h"

namespace xnai::cli {

std::vector<OptionSpec> model_option_specs();     // -m/--model (MODEL_PATH), -t/--threads (N_THREADS)
std::vector<OptionSpec> context_option_specs();   // -c/--ctx-size, -b/--batch-size, --kv-type
std::vector<OptionSpec> sampling_option_specs();  // --temp, --top-k, --top-p, --min-p, penalties, --seed

std::string model_path(const Args& args);  // throws InvalidArgument when neither -m nor MODEL_PATH
std::unique_ptr<compute::Backend> make_backend(const Args& args);
// Loads the model, showing a progress bar on stderr for large files.
std::unique_ptr<models::LlmModel> load_llm(const Args& args, compute::Backend& backend);
runtime::ContextOptions context_options(const Args& args);
runtime::SamplingParams sampling_params(const Args& args);

}  // namespace xnai::cli
