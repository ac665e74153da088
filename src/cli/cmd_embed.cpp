// `xnai embed`: sentence embeddings of texts with a BERT-family GGUF model, as JSON. The
// texts are the arguments, or the lines of stdin when there are none (one vector per
// line, empty lines included, so line i gives vector i). Output: one JSON array of
// vectors, or with --json an OpenAI-style object {"model", "dim", "data": [{"index",
// "embedding"}]}. Floats are printed in their shortest round-trip form.
#include <charconv>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/args.h"
#include "core/error.h"
#include "hub/hub.h"
#include "runtime/bert_embedder.h"

namespace xnai::cli {
namespace {

// Texts embedded per call when reading stdin: bounds memory for long inputs.
constexpr size_t kStdinChunk = 256;

std::string vector_json(const std::vector<float>& v) {
  std::string s = "[";
  char buf[32];
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ", ";
    const auto r = std::to_chars(buf, buf + sizeof(buf), v[i]);
    s.append(buf, r.ptr);
  }
  return s + "]";
}

models::Pooling parse_pooling(const std::string& p) {
  if (p == "mean") return models::Pooling::Mean;
  if (p == "cls") return models::Pooling::Cls;
  if (p == "last") return models::Pooling::Last;
  throw Error(ErrorKind::InvalidArgument, "--pooling must be mean, cls or last, got '" + p + "'");
}

// Prints vectors as they are made, so stdin input of any length streams through.
class Printer {
 public:
  Printer(bool json, const runtime::Embedder& e) : json_(json) {
    if (json_)
      std::printf("{\"model\": %s, \"dim\": %d, \"data\": [", nlohmann::json(e.model_name()).dump().c_str(),
                  e.dim());
    else
      std::printf("[");
  }
  void add(const std::vector<float>& v) {
    const char* sep = index_ ? ",\n " : "\n ";
    if (json_)
      std::printf("%s{\"index\": %zu, \"embedding\": %s}", sep, index_, vector_json(v).c_str());
    else
      std::printf("%s%s", sep, vector_json(v).c_str());
    ++index_;
  }
  void finish() { std::printf(json_ ? "\n]}\n" : "\n]\n"); }

 private:
  bool json_;
  size_t index_ = 0;
};

}  // namespace

int run_embed(const std::vector<std::string>& argv) {
  Args args(
      "embed",
      {
          {"--model", "-m", true, "embedding model: GGUF file (bert family) or cached name",
           "XNAI_EMBED_MODEL"},
          {"--threads", "-t", true, "CPU threads (default: physical cores)", "N_THREADS"},
          {"--json", "", false, "print {\"model\", \"dim\", \"data\": [{\"index\", \"embedding\"}]}", ""},
          {"--max-tokens", "", true, "truncate longer texts, keeping [SEP] (default: model's context)", ""},
          {"--batch-tokens", "", true, "tokens per forward pass (default: max(2048, max-tokens))", ""},
          {"--pooling", "", true, "override the model's pooling: mean, cls or last", ""},
          {"--no-normalize", "", false, "print the raw pooled vectors instead of L2-normalised ones", ""},
      });
  args.parse(argv);
  if (args.has("--help")) {
    std::printf("usage: xnai embed -m MODEL [--json] \"text\"…   (no texts: one per line from stdin)\n%s",
                args.usage().c_str());
    return 0;
  }
  runtime::BertEmbedderOptions o;
  o.n_threads = args.get_int("--threads", 0);
  o.max_tokens = args.get_int("--max-tokens", 0);
  o.batch_tokens = args.get_int("--batch-tokens", 0);
  if (o.n_threads < 0 || o.max_tokens < 0 || o.batch_tokens < 0)
    throw Error(ErrorKind::InvalidArgument, "--threads, --max-tokens and --batch-tokens must be positive");
  if (auto p = args.get("--pooling")) o.pooling = parse_pooling(*p);
  const std::string path = hub::resolve_model(args.get("--model").value_or(""), hub::ModelKind::Embedding);
  auto embedder = runtime::BertEmbedder::load(path, o);
  const bool normalize = !args.has("--no-normalize");

  auto run = [&](const std::vector<std::string>& texts, Printer& out) {
    if (normalize) {
      for (const auto& v : embedder->embed(texts)) out.add(v);
      return;
    }
    std::vector<std::vector<int32_t>> seqs;
    for (const auto& t : texts) seqs.push_back(embedder->tokenize(t));
    for (const auto& v : embedder->embed_tokens(seqs, false)) out.add(v);
  };

  if (!args.positionals().empty()) {
    Printer out(args.has("--json"), *embedder);
    run(args.positionals(), out);
    out.finish();
    return 0;
  }
  Printer out(args.has("--json"), *embedder);
  std::vector<std::string> chunk;
  std::string line;
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    chunk.push_back(line);
    if (chunk.size() == kStdinChunk) {
      run(chunk, out);
      chunk.clear();
    }
  }
  if (!chunk.empty()) run(chunk, out);
  out.finish();
  return 0;
}

}  // namespace xnai::cli
