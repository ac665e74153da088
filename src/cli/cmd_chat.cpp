// `xnai chat`: an interactive conversation on the terminal. Each turn is formatted with the
// model's chat template; the generator re-uses the cached prefix, so only the new turn is
// decoded. Lines starting with '/' are commands: /reset, /exit (EOF exits too).
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "cli/llm_options.h"
#include "core/error.h"
#include "formats/gguf.h"
#include "runtime/generator.h"
#include "text/chat_template.h"
#include "text/tokenizer.h"

namespace xnai::cli {

int run_chat(const std::vector<std::string>& argv) {
  std::vector<OptionSpec> specs = model_option_specs();
  for (auto& o : context_option_specs()) specs.push_back(o);
  for (auto& o : sampling_option_specs()) specs.push_back(o);
  specs.push_back({"--system", "", true, "system prompt", ""});
  specs.push_back({"--n-predict", "-n", true, "most tokens per reply (default 512)", ""});
  specs.push_back({"--template", "", true, "chat template name instead of the model's (chatml, llama3, …)", ""});
  Args args("chat", specs);
  args.parse(argv);
  if (args.has("--help")) {
    std::printf("usage: xnai chat -m MODEL [options]\n%s", args.usage().c_str());
    return 0;
  }
  auto backend = make_backend(args);
  auto model = load_llm(args, *backend);
  const auto& tok = model->tokenizer();

  text::ChatTemplateKind kind;
  if (auto name = args.get("--template")) {
    auto k = text::chat_template_from_name(*name);
    if (!k) throw Error(ErrorKind::InvalidArgument, "unknown chat template '" + *name + "'");
    kind = *k;
  } else {
    std::string warning;
    kind = text::choose_chat_template(model->gguf().get_string("tokenizer.chat_template"), &warning);
    if (!warning.empty()) std::fprintf(stderr, "warning: %s\n", warning.c_str());
  }

  runtime::GenerateOptions gen;
  gen.max_tokens = args.get_int("--n-predict", 512);
  gen.sampling = sampling_params(args);
  runtime::Generator generator(*model, context_options(args));

  std::vector<text::ChatMessage> messages;
  if (auto sys = args.get("--system")) messages.push_back({"system", *sys});
  const size_t n_fixed = messages.size();
  const bool tty = ::isatty(0);
  std::fprintf(stderr, "chat with %s (template %s); /reset clears the conversation, /exit or Ctrl-D quits\n",
               model->hparams().arch_name.c_str(), text::chat_template_name(kind));
  std::string line;
  for (;;) {
    if (tty) std::fprintf(stdout, "\n> "), std::fflush(stdout);
    if (!std::getline(std::cin, line) || line == "/exit") break;
    if (line == "/reset") {
      messages.resize(n_fixed);
      generator.reset();
      std::fprintf(stderr, "(conversation cleared)\n");
      continue;
    }
    if (line.empty()) continue;
    messages.push_back({"user", line});
    const std::string prompt = text::apply_chat_template(kind, messages, true);
    std::vector<int32_t> ids = tok.encode(prompt, true, true);
    runtime::GenerateResult r;
    try {
      r = generator.generate(ids, gen, [](std::string_view piece) {
        std::fwrite(piece.data(), 1, piece.size(), stdout);
        std::fflush(stdout);
        return true;
      });
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::ContextFull) throw;
      std::fprintf(stderr, "\n(%s — conversation cleared; ask again)\n", e.what());
      messages.resize(n_fixed);
      generator.reset();
      continue;
    }
    std::fprintf(stdout, "\n");
    messages.push_back({"assistant", r.text});
    if (r.finish_reason == "context_full") {
      std::fprintf(stderr, "(the context is full — conversation cleared)\n");
      messages.resize(n_fixed);
      generator.reset();
    }
  }
  return 0;
}

}  // namespace xnai::cli
