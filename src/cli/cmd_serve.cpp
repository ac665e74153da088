// `xnai serve`: the OpenAI-compatible HTTP server (docs/server.md) over the same model,
// embedder and document store the other commands use. Runs until SIGINT/SIGTERM.
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cli/llm_options.h"
#include "cli/rag_options.h"
#include "cli/speech_options.h"
#include "core/error.h"
#include "rag/store.h"
#include "runtime/embedder.h"
#include "server/remote_embedder.h"
#include "server/server.h"

namespace xnai::cli {
namespace {

std::string read_key_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(ErrorKind::NotFound, "--api-key-file: cannot read '" + path + "'");
  std::string key;
  std::getline(in, key);
  while (!key.empty() && (key.back() == '\r' || key.back() == ' ' || key.back() == '\t')) key.pop_back();
  if (key.empty()) throw Error(ErrorKind::InvalidArgument, "--api-key-file: '" + path + "' holds no key on its first line");
  return key;
}

int positive(const Args& args, const char* name, int def, int lo) {
  const int v = args.get_int(name, def);
  if (v < lo) throw Error(ErrorKind::InvalidArgument, std::string(name) + " must be at least " + std::to_string(lo));
  return v;
}

}  // namespace

int run_serve(const std::vector<std::string>& argv) {
  std::vector<OptionSpec> specs = model_option_specs();
  for (auto& o : rag_store_option_specs()) specs.push_back(o);
  for (auto& o : speech_engine_option_specs()) specs.push_back(o);
  specs.push_back({"--host", "", true, "address to listen on (default 127.0.0.1)", "HOST"});
  specs.push_back({"--port", "", true, "port (default 8000)", "PORT"});
  specs.push_back({"--ctx-size", "-c", true, "context size per slot in tokens (default: model's, at most 4096)", ""});
  specs.push_back({"--parallel", "", true, "generation slots sharing the model, each with its own KV cache (default 1)", ""});
  specs.push_back({"--queue", "", true, "requests that may wait for a slot before 503 (default 8)", ""});
  specs.push_back({"--api-key", "", true, "require 'Authorization: Bearer KEY' (not for /health, /ready)", "XNAI_API_KEY"});
  specs.push_back({"--api-key-file", "", true, "read the API key from the first line of a file", ""});
  specs.push_back({"--max-body", "", true, "largest request body in bytes (default 16777216)", ""});
  specs.push_back({"--timeout", "", true, "seconds a request may wait and generate (default 600; 0 = none)", ""});
  specs.push_back({"--cors", "", true, "allow browsers from this origin (e.g. http://localhost:3000, or *); off by default", ""});
  specs.push_back({"--max-tokens", "", true, "tokens per answer when a request gives no max_tokens (default 512)", ""});
  specs.push_back({"--llm-url", "", true,
                   "send chat/completions (and RAG answers) to this OpenAI-compatible server instead of a local "
                   "model: http[s]://[KEY@]host[:port][/v1] (llama-server, Ollama, vLLM, another xnai)", ""});
  specs.push_back({"--embed-url", "", true, "send embeddings (and RAG vectors) to this OpenAI-compatible server", ""});
  specs.push_back({"--tts-url", "", true, "send /v1/audio/speech (and RAG answer audio) to this OpenAI-compatible server", ""});
  specs.push_back({"--remote-api-key", "", true, "API key for the remote engines (a KEY@ in a URL overrides it)",
                   "XNAI_REMOTE_API_KEY"});
  Args args("serve", specs);
  args.parse(argv);
  if (args.has("--help")) {
    std::printf("usage: xnai serve [-m MODEL] [--embed-model M] [--data DIR] [options]\n%s", args.usage().c_str());
    return 0;
  }

  server::ServerOptions opts;
  opts.host = args.get_or("--host", "127.0.0.1");
  opts.port = args.get_int("--port", 8000);
  if (opts.port < 0 || opts.port > 65535)
    throw Error(ErrorKind::InvalidArgument, "--port must be between 0 and 65535, got " + std::to_string(opts.port));
  opts.parallel = positive(args, "--parallel", 1, 1);
  opts.queue = positive(args, "--queue", 8, 0);
  opts.ctx_size = positive(args, "--ctx-size", 0, 0);
  opts.timeout_s = positive(args, "--timeout", 600, 0);
  opts.max_tokens_default = positive(args, "--max-tokens", 512, 1);
  if (auto b = args.get("--max-body")) {
    try {
      opts.max_body = std::stoull(*b);
    } catch (...) {
      throw Error(ErrorKind::InvalidArgument, "--max-body expects a number of bytes, got '" + *b + "'");
    }
    if (opts.max_body == 0) throw Error(ErrorKind::InvalidArgument, "--max-body must be at least 1");
  }
  opts.api_key = args.get_or("--api-key", "");
  if (auto f = args.get("--api-key-file")) opts.api_key = read_key_file(*f);
  opts.cors_origin = args.get_or("--cors", "");
  opts.data_dir = rag_data_dir(args);
  opts.llm_url = args.get_or("--llm-url", "");
  opts.embed_url = args.get_or("--embed-url", "");
  opts.tts_url = args.get_or("--tts-url", "");
  opts.remote_api_key = args.get_or("--remote-api-key", "");

  std::unique_ptr<compute::Backend> backend;
  std::unique_ptr<models::LlmModel> llm;
  if (!opts.llm_url.empty()) {
    std::fprintf(stderr, "note: chat, completions and RAG answers go to the --llm-url server\n");
  } else if (llm_configured(args)) {
    backend = make_backend(args);
    const std::string path = model_path(args);
    llm = load_llm(args, *backend);
    opts.llm_name = std::filesystem::path(path).stem().string();
  } else {
    std::fprintf(stderr, "note: no LLM (-m MODEL or `xnai pull --recommended`): chat and completions answer 503, "
                         "RAG answers are extractive\n");
  }
  // With --embed-url the remote model also makes the RAG vectors, so the store never mixes
  // vectors of two models.
  std::unique_ptr<runtime::Embedder> embedder;
  if (!opts.embed_url.empty())
    embedder = std::make_unique<server::RemoteEmbedder>(opts.embed_url, opts.remote_api_key, opts.timeout_s);
  else
    embedder = load_embedder(args);
  if (embedder && opts.embed_url.empty()) opts.embed_name = embedder->model_name();
  auto store = open_rag_store(args);

  server::Services services;
  services.llm = llm.get();
  services.embedder = embedder.get();
  services.store = store.get();
  if (opts.tts_url.empty()) {
    services.tts = make_tts_engine(args);  // Kokoro when configured or pulled, else espeak-ng
    opts.tts_name = services.tts->name();
  }

  // Signals are taken by sigwait below; the server's threads inherit the blocked mask.
  // A client that hangs up mid-stream must be a failed write, not SIGPIPE.
  ::signal(SIGPIPE, SIG_IGN);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  server::Server srv(opts, services);
  srv.start();
  std::fprintf(stderr, "xnai serve: listening on http://%s:%d (%d slot%s%s%s)\n", opts.host.c_str(), srv.port(),
               opts.parallel, opts.parallel == 1 ? "" : "s", llm ? ", llm " : "", llm ? opts.llm_name.c_str() : "");
  int sig = 0;
  sigwait(&set, &sig);
  std::fprintf(stderr, "xnai serve: stopping (signal %d)\n", sig);
  srv.stop();
  return 0;
}

}  // namespace xnai::cli
