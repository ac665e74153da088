// `xnai model synth`: writes a random-weight GGUF with the exact layout of a real model
// (models/synth), for benchmarks and load tests without downloading weights.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli/args.h"
#include "core/error.h"
#include "models/encoder/bert.h"
#include "models/synth/synthetic_model.h"

namespace xnai::cli {
namespace {

std::string human_bytes(double b) {
  char buf[32];
  if (b >= 1e9)
    std::snprintf(buf, sizeof(buf), "%.2f GB", b / 1e9);
  else
    std::snprintf(buf, sizeof(buf), "%.1f MB", b / 1e6);
  return buf;
}

// Encoder (embedding) models: written by models/encoder's bert synthesiser, F16 only, the
// layout llama.cpp's converter gives them.
struct EncoderShape {
  const char* key;
  const char* hf_repo;
  models::SyntheticBertShape shape;
};

std::vector<EncoderShape> encoder_shapes() {
  auto bert = [](int64_t embd, int64_t ff, int64_t layers, int64_t heads, models::Pooling pooling, const char* name) {
    models::SyntheticBertShape s;
    s.n_embd = embd, s.n_ff = ff, s.n_layer = layers, s.n_head = heads, s.pooling = pooling, s.name = name;
    return s;
  };
  return {
      {"bge-small-en-v1.5", "BAAI/bge-small-en-v1.5", bert(384, 1536, 12, 12, models::Pooling::Cls, "bge-small-en-v1.5")},
      {"bge-base-en-v1.5", "BAAI/bge-base-en-v1.5", bert(768, 3072, 12, 12, models::Pooling::Cls, "bge-base-en-v1.5")},
      {"all-minilm-l6-v2", "sentence-transformers/all-MiniLM-L6-v2",
       bert(384, 1536, 6, 12, models::Pooling::Mean, "all-MiniLM-L6-v2")},
  };
}

const EncoderShape* find_encoder_shape(const std::string& key) {
  static const std::vector<EncoderShape> shapes = encoder_shapes();
  for (const auto& s : shapes)
    if (key == s.key) return &s;
  return nullptr;
}

void print_shapes() {
  std::printf("%-17s %-6s %7s %6s %6s %6s %5s %5s %6s %7s  %s\n", "--like", "arch", "vocab", "embd", "ff",
              "layers", "heads", "kv", "tied", "ctx", "source");
  for (const auto& s : synth::known_shapes())
    std::printf("%-17s %-6s %7lld %6lld %6lld %6lld %5lld %5lld %6s %7lld  %s\n", s.key.c_str(),
                s.arch.c_str(), static_cast<long long>(s.n_vocab), static_cast<long long>(s.n_embd),
                static_cast<long long>(s.n_ff), static_cast<long long>(s.n_layer),
                static_cast<long long>(s.n_head), static_cast<long long>(s.n_head_kv),
                s.tied_embeddings ? "yes" : "no", static_cast<long long>(s.n_ctx), s.hf_repo.c_str());
  for (const auto& e : encoder_shapes())
    std::printf("%-17s %-6s %7lld %6lld %6lld %6lld %5lld %5s %6s %7lld  %s (embeddings, --type f16)\n", e.key,
                "bert", static_cast<long long>(e.shape.n_vocab), static_cast<long long>(e.shape.n_embd),
                static_cast<long long>(e.shape.n_ff), static_cast<long long>(e.shape.n_layer),
                static_cast<long long>(e.shape.n_head), "-", "-", static_cast<long long>(e.shape.n_ctx), e.hf_repo);
}

uint64_t parse_seed(const std::string& v) {
  char* end = nullptr;
  const unsigned long long r = std::strtoull(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || v[0] == '-')
    throw Error(ErrorKind::InvalidArgument,
                "model synth: --seed expects a non-negative integer, got '" + v + "'");
  return r;
}

}  // namespace

int run_model_synth(const std::vector<std::string>& argv) {
  Args args("model synth",
            {
                {"--like", "", true, "real model to imitate (see --list)", ""},
                {"--type", "", true, "weight recipe: q4_0 (default), q8_0, q4_k_m, f16", ""},
                {"--output", "-o", true, "output GGUF path", ""},
                {"--seed", "", true, "random seed (default 1)", ""},
                {"--vocab", "", true,
                 "copy the tokenizer.* keys of this GGUF instead of a synthetic vocabulary", ""},
                {"--layers", "", true, "keep only the first N layers (small test files)", ""},
                {"--threads", "-t", true, "threads used to generate weights", "N_THREADS"},
                {"--list", "", false, "list the known model shapes and exit", ""},
            });
  args.parse(argv);
  if (args.has("--help")) {
    std::printf("usage: xnai model synth --like MODEL --type TYPE -o OUT.gguf [options]\n%s",
                args.usage().c_str());
    return 0;
  }
  if (args.has("--list")) {
    print_shapes();
    return 0;
  }
  if (!args.positionals().empty())
    throw Error(ErrorKind::InvalidArgument,
                "model synth: unexpected argument '" + args.positionals()[0] + "'");
  const auto like = args.get("--like");
  const auto out = args.get("--output");
  if (!like) throw Error(ErrorKind::InvalidArgument, "model synth: --like is required (see --list)");
  if (!out) throw Error(ErrorKind::InvalidArgument, "model synth: -o OUT.gguf is required");

  if (const EncoderShape* enc = find_encoder_shape(*like)) {
    const std::string type = args.get_or("--type", "f16");
    if (type != "f16")
      throw Error(ErrorKind::InvalidArgument, "model synth: " + *like + " is written as f16 only, not '" + type + "'");
    models::SyntheticBertShape shape = enc->shape;
    shape.seed = parse_seed(args.get_or("--seed", "1"));
    shape.vocab_from = args.get_or("--vocab", "");
    if (args.has("--layers")) shape.n_layer = args.get_int("--layers", 0);
    const auto t0 = std::chrono::steady_clock::now();
    models::write_synthetic_bert(shape, *out);
    std::printf("wrote %s: %s-shaped f16 embedding model, %lld layers, in %.1f s\n", out->c_str(), enc->key,
                static_cast<long long>(shape.n_layer),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    return 0;
  }
  synth::ModelShape shape = synth::find_shape(*like);
  if (args.has("--layers")) shape = synth::with_layers(shape, args.get_int("--layers", 0));
  synth::SynthOptions opt;
  opt.recipe = synth::parse_recipe(args.get_or("--type", "q4_0"));
  opt.seed = parse_seed(args.get_or("--seed", "1"));
  opt.vocab_from = args.get_or("--vocab", "");
  opt.n_threads = args.get_int("--threads", 0);

  const bool tty = isatty(STDERR_FILENO);
  std::fprintf(stderr, "synth: %s (%s) as %s, %lld layers -> %s\n", shape.key.c_str(), shape.hf_repo.c_str(),
               synth::recipe_name(opt.recipe), static_cast<long long>(shape.n_layer), out->c_str());
  auto last = std::chrono::steady_clock::now();
  if (tty) {
    opt.on_progress = [&](const synth::SynthProgress& p) {
      const auto now = std::chrono::steady_clock::now();
      if (p.tensors_done != p.tensors_total && now - last < std::chrono::milliseconds(100)) return;
      last = now;
      std::fprintf(stderr, "\rsynth: %zu/%zu tensors, %s / %s   ", p.tensors_done, p.tensors_total,
                   human_bytes(static_cast<double>(p.bytes_done)).c_str(),
                   human_bytes(static_cast<double>(p.bytes_total)).c_str());
      if (p.tensors_done == p.tensors_total) std::fprintf(stderr, "\n");
    };
  }
  const synth::SynthSummary s = synth::write_synthetic_model(shape, opt, *out);
  std::printf("wrote %s: %s-shaped %s, %zu tensors, %.3f B parameters, %s in %.1f s\n", out->c_str(),
              shape.key.c_str(), synth::recipe_name(opt.recipe), s.n_tensors,
              static_cast<double>(s.n_params) / 1e9, human_bytes(static_cast<double>(s.file_bytes)).c_str(),
              s.seconds);
  return 0;
}

}  // namespace xnai::cli
