#include "cli/commands.h"

#include <cstdio>
#include <cstring>

#include "core/error.h"

namespace xnai::cli {

// Defined in the cmd_*.cpp files.
int run_generate(const std::vector<std::string>& args);
int run_chat(const std::vector<std::string>& args);
int run_tokenize(const std::vector<std::string>& args);
int run_model_info(const std::vector<std::string>& args);
int run_model_synth(const std::vector<std::string>& args);
int run_bench_llm(const std::vector<std::string>& args);
int run_bench_serve(const std::vector<std::string>& args);
int run_bench_tts(const std::vector<std::string>& args);
int run_ingest(const std::vector<std::string>& args);
int run_search(const std::vector<std::string>& args);
int run_ask(const std::vector<std::string>& args);
int run_bench_rag(const std::vector<std::string>& args);
int run_pull(const std::vector<std::string>& args);
int run_models(const std::vector<std::string>& args);
int run_models_rm(const std::vector<std::string>& args);
int run_embed(const std::vector<std::string>& args);
int run_speak(const std::vector<std::string>& args);
int run_phonemes(const std::vector<std::string>& args);
int run_voices(const std::vector<std::string>& args);
int run_serve(const std::vector<std::string>& args);

const std::vector<Command>& all_commands() {
  static const std::vector<Command> commands = {
      {"generate", "generate text from a prompt, streaming tokens", run_generate},
      {"chat", "interactive chat with a model", run_chat},
      {"tokenize", "print the token ids of a text as a JSON array", run_tokenize},
      {"model info", "print a GGUF model's architecture, size, quantization and context", run_model_info},
      {"model synth", "write a random-weight model with the shapes of a real one", run_model_synth},
      {"bench llm", "prompt-processing and generation speed (llama-bench style)", run_bench_llm},
      {"bench serve", "the HTTP server under streaming load: TTFT, latency, tokens/s, leaked slots, RSS",
       run_bench_serve},
      {"bench tts", "speech synthesis speed: real-time factor, time to first audio, batching, RSS", run_bench_tts},
      {"ingest", "add files and folders (.txt .md .html .pdf .docx) to the document store", run_ingest},
      {"search", "ranked passages from the document store for a query (BM25, vector or hybrid)", run_search},
      {"ask", "answer a question from your documents, citing the sources", run_ask},
      {"bench rag", "ingest throughput, search latency (vector, BM25, hybrid) and recall", run_bench_rag},
      {"pull", "download a model (hf://org/repo/file, https URL, or --recommended) into the cache", run_pull},
      {"models", "list the cached models and the defaults the config uses", run_models},
      {"models rm", "remove a cached model (file, manifest entry, config references)", run_models_rm},
      {"embed", "sentence embeddings of texts (or stdin lines) with a bert-family model, as JSON", run_embed},
      {"speak", "text to speech (Kokoro, or the espeak-ng voice), to a file, stdout or the speakers", run_speak},
      {"phonemes", "the phonemes the speech model will see for a text, one line per chunk", run_phonemes},
      {"voices", "list the voices of the speech engine", run_voices},
      {"serve", "OpenAI-compatible HTTP server: chat, completions, embeddings, RAG, metrics", run_serve},
  };
  return commands;
}

namespace {

void print_help() {
  std::printf("xnai — local, private AI: text generation, RAG and speech on your own machine\n\n");
  std::printf("usage: xnai COMMAND [options]   (xnai COMMAND --help for its options)\n\ncommands:\n");
  for (const auto& c : all_commands()) std::printf("  %-14s %s\n", c.name, c.summary);
}

int exit_code_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::InvalidArgument: return 2;
    case ErrorKind::NotFound: return 3;
    case ErrorKind::InvalidFormat: return 4;
    case ErrorKind::Unsupported: return 5;
    default: return 1;
  }
}

}  // namespace

int dispatch(const std::vector<std::string>& argv) {
  if (argv.empty() || argv[0] == "--help" || argv[0] == "-h" || argv[0] == "help") {
    print_help();
    return argv.empty() ? 2 : 0;
  }
  if (argv[0] == "--version") {
    std::printf("xnai 0.1.0\n");
    return 0;
  }
  // Longest match first: "model info" before a hypothetical "model".
  const Command* found = nullptr;
  size_t used = 0;
  for (const auto& c : all_commands()) {
    const std::string name = c.name;
    const auto space = name.find(' ');
    if (space == std::string::npos) {
      if (argv[0] == name && used < 1) found = &c, used = 1;
    } else if (argv.size() >= 2 && argv[0] == name.substr(0, space) && argv[1] == name.substr(space + 1)) {
      found = &c, used = 2;
    }
  }
  if (!found) {
    std::fprintf(stderr, "xnai: unknown command '%s'", argv[0].c_str());
    if (argv.size() >= 2) std::fprintf(stderr, " (or '%s %s')", argv[0].c_str(), argv[1].c_str());
    std::fprintf(stderr, "; see 'xnai --help'\n");
    return 2;
  }
  try {
    return found->run(std::vector<std::string>(argv.begin() + static_cast<long>(used), argv.end()));
  } catch (const Error& e) {
    std::fprintf(stderr, "xnai %s: %s\n", found->name, e.what());
    return exit_code_for(e.kind());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "xnai %s: unexpected error: %s\n", found->name, e.what());
    return 1;
  }
}

}  // namespace xnai::cli
