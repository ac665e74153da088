// `xnai generate`: prints the prompt, then streams the model's continuation to stdout;
// timings go to stderr as llama.cpp prints them.
#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli/llm_options.h"
#include "core/error.h"
#include "formats/gguf.h"
#include "runtime/generator.h"
#include "text/chat_template.h"
#include "text/tokenizer.h"

namespace xnai::cli {
namespace {

std::vector<OptionSpec> generate_specs() {
  std::vector<OptionSpec> s = model_option_specs();
  for (auto& o : context_option_specs()) s.push_back(o);
  for (auto& o : sampling_option_specs()) s.push_back(o);
  s.push_back({"--prompt", "-p", true, "prompt text", ""});
  s.push_back({"--file", "-f", true, "read the prompt from a file", ""});
  s.push_back({"--n-predict", "-n", true, "tokens to generate (default 128; -1 = until end)", ""});
  s.push_back({"--stop", "", true, "stop string (repeatable)", ""});
  s.push_back({"--chat", "", false, "wrap the prompt in the model's chat template as a user message", ""});
  s.push_back({"--no-display-prompt", "", false, "print only the generated text", ""});
  s.push_back({"--ignore-eos", "", false, "keep generating past end-of-generation tokens", ""});
  return s;
}

std::string read_prompt(const Args& args) {
  if (auto f = args.get("--file")) {
    std::ifstream in(*f, std::ios::binary);
    if (!in) throw Error(ErrorKind::NotFound, *f + ": cannot read the prompt file");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  if (auto p = args.get("--prompt")) return *p;
  if (!args.positionals().empty()) return args.positionals().front();
  throw Error(ErrorKind::InvalidArgument, "no prompt: pass -p TEXT or -f FILE");
}

}  // namespace

int run_generate(const std::vector<std::string>& argv) {
  Args args("generate", generate_specs());
  args.parse(argv);
  if (args.has("--help")) {
    std::printf("usage: xnai generate -m MODEL -p PROMPT [options]\n%s", args.usage().c_str());
    return 0;
  }
  const std::string prompt_text = read_prompt(args);
  runtime::GenerateOptions gen;
  gen.max_tokens = args.get_int("--n-predict", 128);
  gen.sampling = sampling_params(args);
  gen.stop = args.get_all("--stop");
  gen.ignore_eog = args.has("--ignore-eos");

  auto backend = make_backend(args);
  auto model = load_llm(args, *backend);
  const auto& tok = model->tokenizer();

  std::string text = prompt_text;
  bool parse_special = false;
  if (args.has("--chat")) {
    std::string warning;
    const auto kind = text::choose_chat_template(model->gguf().get_string("tokenizer.chat_template"), &warning);
    if (!warning.empty()) std::fprintf(stderr, "warning: %s\n", warning.c_str());
    text = text::apply_chat_template(kind, {{"user", prompt_text}}, true);
    parse_special = true;
  }
  const std::vector<int32_t> prompt = tok.encode(text, /*add_special=*/true, parse_special);

  runtime::Generator generator(*model, context_options(args));
  if (!args.has("--no-display-prompt")) {
    std::fwrite(prompt_text.data(), 1, prompt_text.size(), stdout);
    std::fflush(stdout);
  }
  const auto r = generator.generate(prompt, gen, [](std::string_view piece) {
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
    return true;
  });
  std::printf("\n");
  std::fprintf(stderr, "\nprompt: %d tokens in %.1f ms (%.2f tok/s); generated: %d tokens in %.1f ms (%.2f tok/s); finish: %s; seed: %llu\n",
               r.n_prompt, r.prompt_ms, r.prompt_ms > 0 ? r.n_prompt * 1000.0 / r.prompt_ms : 0.0, r.n_generated,
               r.generate_ms, r.generate_ms > 0 ? r.n_generated * 1000.0 / r.generate_ms : 0.0, r.finish_reason.c_str(),
               static_cast<unsigned long long>(r.seed));
  if (r.finish_reason == "context_full")
    std::fprintf(stderr, "warning: generation stopped because the context (%lld tokens) is full; use -c to enlarge it\n",
                 static_cast<long long>(generator.context().n_ctx()));
  return 0;
}

}  // namespace xnai::cli
