// `xnai model info`: what a GGUF file holds, read from its header only (no weights are
// touched, so it is instant on any size): architecture, size, quantization mix, context,
// shape, rope, tokenizer and chat-template family. Works on vocab-only files too.
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/args.h"
#include "core/error.h"
#include "formats/gguf.h"
#include "runtime/bench_llm.h"
#include "text/chat_template.h"

namespace xnai::cli {
namespace {

const char* tokenizer_kind(const std::string& model) {
  if (model == "llama") return "SentencePiece";
  if (model == "gpt2") return "byte-level BPE";
  if (model == "bert") return "WordPiece";
  if (model == "t5") return "Unigram";
  return "unknown";
}

std::string format_count(double n) {
  char buf[32];
  if (n >= 1e9)
    std::snprintf(buf, sizeof(buf), "%.2f B", n / 1e9);
  else if (n >= 1e6)
    std::snprintf(buf, sizeof(buf), "%.2f M", n / 1e6);
  else if (n >= 1e3)
    std::snprintf(buf, sizeof(buf), "%.2f K", n / 1e3);
  else
    std::snprintf(buf, sizeof(buf), "%.0f", n);
  return buf;
}

std::string format_bytes(double b) {
  char buf[32];
  if (b >= 1024.0 * 1024 * 1024)
    std::snprintf(buf, sizeof(buf), "%.2f GiB", b / (1024.0 * 1024 * 1024));
  else if (b >= 1024.0 * 1024)
    std::snprintf(buf, sizeof(buf), "%.2f MiB", b / (1024.0 * 1024));
  else if (b >= 1024.0)
    std::snprintf(buf, sizeof(buf), "%.2f KiB", b / 1024.0);
  else
    std::snprintf(buf, sizeof(buf), "%.0f B", b);
  return buf;
}

struct TypeUse {
  size_t tensors = 0;
  uint64_t bytes = 0;
  int64_t elements = 0;
};

// Everything `model info` reports, gathered once for both output forms. Absent keys are
// -1 / "" and print as "-".
struct ModelSummary {
  std::string path, arch, name;
  uint32_t version = 0;
  uint64_t file_bytes = 0, tensor_bytes = 0;
  size_t n_tensors = 0, n_keys = 0;
  int64_t n_params = 0;
  int64_t file_type = -1;
  int64_t n_ctx = -1, n_layer = -1, n_embd = -1, n_ff = -1, n_head = -1, n_head_kv = -1, head_dim = -1;
  int64_t rope_dims = -1;
  double rope_base = -1, rms_eps = -1;
  bool rope_base_default = false;  // no rope.freq_base key: loaders use 10000
  std::string rope_scaling;        // "", "llama3 (rope_freqs tensor)", "linear x4", "yarn x4" …
  int64_t n_vocab = -1, bos = -1, eos = -1;
  std::string tok_model, tok_pre;
  std::string template_family;  // "" = no template in the file
  size_t template_chars = 0;
  std::map<std::string, TypeUse> types;  // by type name
};

ModelSummary summarize(const gguf::GgufFile& f) {
  ModelSummary s;
  s.path = f.path();
  s.version = f.version();
  s.file_bytes = f.file_size();
  s.n_keys = f.metadata().size();
  s.n_tensors = f.tensors().size();
  s.arch = f.architecture();
  s.name = f.get_string("general.name", "");
  s.file_type = f.get_int("general.file_type", -1);
  for (const auto& t : f.tensors()) {
    auto& u = s.types[dtype_name(t.type)];
    ++u.tensors;
    u.bytes += t.nbytes;
    u.elements += t.n_elements();
    s.n_params += t.n_elements();
    s.tensor_bytes += t.nbytes;
  }
  const std::string a = s.arch + ".";
  if (!s.arch.empty()) {
    s.n_ctx = f.get_int(a + "context_length", -1);
    s.n_layer = f.get_int(a + "block_count", -1);
    s.n_embd = f.get_int(a + "embedding_length", -1);
    s.n_ff = f.get_int(a + "feed_forward_length", -1);
    s.n_head = f.get_int(a + "attention.head_count", -1);
    s.n_head_kv = f.get_int(a + "attention.head_count_kv", s.n_head);
    s.head_dim =
        f.get_int(a + "attention.key_length", s.n_head > 0 && s.n_embd > 0 ? s.n_embd / s.n_head : -1);
    s.rope_dims = f.get_int(a + "rope.dimension_count", s.head_dim);
    s.rope_base = f.get_float(a + "rope.freq_base", -1.0);
    if (s.rope_base < 0 && s.n_layer >= 0) s.rope_base = 10000.0, s.rope_base_default = true;
    s.rms_eps = f.get_float(a + "attention.layer_norm_rms_epsilon", -1);
    const std::string scaling = f.get_string(a + "rope.scaling.type", "");
    if (!scaling.empty() && scaling != "none") {
      char buf[64];
      std::snprintf(buf, sizeof(buf), "%s x%g", scaling.c_str(), f.get_float(a + "rope.scaling.factor", 1.0));
      s.rope_scaling = buf;
    }
    if (f.find_tensor("rope_freqs.weight"))
      s.rope_scaling +=
          (s.rope_scaling.empty() ? "" : ", ") + std::string("per-frequency factors (rope_freqs)");
  }
  s.tok_model = f.get_string("tokenizer.ggml.model", "");
  s.tok_pre = f.get_string("tokenizer.ggml.pre", "");
  if (const gguf::Value* tokens = f.find("tokenizer.ggml.tokens"); tokens && tokens->is_array())
    s.n_vocab = static_cast<int64_t>(tokens->size());
  else if (!s.arch.empty())
    s.n_vocab = f.get_int(a + "vocab_size", -1);
  s.bos = f.get_int("tokenizer.ggml.bos_token_id", -1);
  s.eos = f.get_int("tokenizer.ggml.eos_token_id", -1);
  const std::string tmpl = f.get_string("tokenizer.chat_template", "");
  if (!tmpl.empty()) {
    s.template_chars = tmpl.size();
    const auto kind = text::detect_chat_template(tmpl);
    s.template_family = kind == text::ChatTemplateKind::Unknown ? "unknown" : text::chat_template_name(kind);
  }
  return s;
}

// A value read from an F32 key, as the shortest decimal that rounds to the same float
// (1e-05, not 9.999999747378752e-06).
double shortest_f32(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.7g", v);
  return std::strtod(buf, nullptr);
}

std::string or_dash(int64_t v) { return v < 0 ? "-" : std::to_string(v); }

void print_text(const ModelSummary& s) {
  const auto line = [](const char* key, const std::string& value) {
    std::printf("%-15s %s\n", key, value.c_str());
  };
  char buf[256];
  std::snprintf(buf, sizeof(buf), "%s  (GGUF v%u, %s = %" PRIu64 " bytes)", s.path.c_str(), s.version,
                format_bytes(static_cast<double>(s.file_bytes)).c_str(), s.file_bytes);
  line("file", buf);
  line("architecture", s.arch.empty() ? "-" : s.arch);
  line("name", s.name.empty() ? "-" : s.name);
  if (s.n_tensors == 0) {
    line("parameters", "none (vocabulary-only file)");
  } else {
    std::snprintf(
        buf, sizeof(buf), "%s (%zu tensors, %.2f bits per weight)",
        format_count(static_cast<double>(s.n_params)).c_str(), s.n_tensors,
        s.n_params ? 8.0 * static_cast<double>(s.tensor_bytes) / static_cast<double>(s.n_params) : 0.0);
    line("parameters", buf);
  }
  if (s.file_type >= 0) {
    std::snprintf(buf, sizeof(buf), "%s (general.file_type %" PRId64 ")",
                  runtime::file_type_name(s.file_type), s.file_type);
    line("file type", buf);
  }
  line("context length", or_dash(s.n_ctx));
  line("layers", or_dash(s.n_layer));
  line("n_embd", or_dash(s.n_embd));
  line("n_ff", or_dash(s.n_ff));
  std::snprintf(buf, sizeof(buf), "%s (kv heads %s)", or_dash(s.n_head).c_str(),
                or_dash(s.n_head_kv).c_str());
  line("heads", buf);
  line("head_dim", or_dash(s.head_dim));
  if (s.rope_base >= 0) {
    std::snprintf(buf, sizeof(buf), "base %.10g%s, %s dims%s%s", s.rope_base,
                  s.rope_base_default ? " (default; no rope.freq_base key)" : "",
                  or_dash(s.rope_dims).c_str(),
                  s.rope_scaling.empty() ? "" : ", scaling: ", s.rope_scaling.c_str());
    line("rope", buf);
  }
  if (s.rms_eps >= 0) {
    std::snprintf(buf, sizeof(buf), "%g", s.rms_eps);
    line("rms eps", buf);
  }
  if (s.tok_model.empty()) {
    line("vocab", s.n_vocab < 0 ? "-" : std::to_string(s.n_vocab) + " (no tokenizer in file)");
  } else {
    std::snprintf(buf, sizeof(buf), "%s tokens, %s (%s%s%s), bos %s, eos %s", or_dash(s.n_vocab).c_str(),
                  tokenizer_kind(s.tok_model), s.tok_model.c_str(), s.tok_pre.empty() ? "" : ", pre ",
                  s.tok_pre.c_str(), or_dash(s.bos).c_str(), or_dash(s.eos).c_str());
    line("vocab", buf);
  }
  if (s.template_family.empty()) {
    line("chat template", "none");
  } else {
    std::snprintf(buf, sizeof(buf), "%s (%zu chars)", s.template_family.c_str(), s.template_chars);
    line("chat template", buf);
  }
  if (s.n_tensors > 0) {
    std::printf("quantization mix:\n  %-8s %8s %14s %9s\n", "type", "tensors", "bytes", "% of file");
    for (const auto& [type, u] : s.types)
      std::printf("  %-8s %8zu %14" PRIu64 " %8.2f%%\n", type.c_str(), u.tensors, u.bytes,
                  100.0 * static_cast<double>(u.bytes) / static_cast<double>(s.file_bytes));
  }
}

nlohmann::ordered_json to_json(const ModelSummary& s) {
  auto opt = [](int64_t v) { return v < 0 ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(v); };
  auto optf = [](double v) { return v < 0 ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(v); };
  auto opts = [](const std::string& v) {
    return v.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(v);
  };
  nlohmann::ordered_json j;
  j["path"] = s.path;
  j["gguf_version"] = s.version;
  j["file_bytes"] = s.file_bytes;
  j["architecture"] = opts(s.arch);
  j["name"] = opts(s.name);
  j["n_params"] = s.n_params;
  j["n_tensors"] = s.n_tensors;
  j["n_metadata_keys"] = s.n_keys;
  j["file_type"] = s.file_type < 0 ? nlohmann::ordered_json(nullptr)
                                   : nlohmann::ordered_json{{"id", s.file_type},
                                                            {"name", runtime::file_type_name(s.file_type)}};
  j["bits_per_weight"] = s.n_params ? nlohmann::ordered_json(8.0 * static_cast<double>(s.tensor_bytes) /
                                                             static_cast<double>(s.n_params))
                                    : nlohmann::ordered_json(nullptr);
  j["context_length"] = opt(s.n_ctx);
  j["n_layer"] = opt(s.n_layer);
  j["n_embd"] = opt(s.n_embd);
  j["n_ff"] = opt(s.n_ff);
  j["n_head"] = opt(s.n_head);
  j["n_head_kv"] = opt(s.n_head_kv);
  j["head_dim"] = opt(s.head_dim);
  j["rope"] = {{"freq_base", optf(s.rope_base)},
               {"dimension_count", opt(s.rope_dims)},
               {"scaling", opts(s.rope_scaling)}};
  j["rms_eps"] = optf(shortest_f32(s.rms_eps));
  j["vocab"] = {{"size", opt(s.n_vocab)},
                {"model", opts(s.tok_model)},
                {"pre", opts(s.tok_pre)},
                {"bos_token_id", opt(s.bos)},
                {"eos_token_id", opt(s.eos)}};
  j["chat_template"] = s.template_family.empty() ? nlohmann::ordered_json(nullptr)
                                                 : nlohmann::ordered_json{{"family", s.template_family},
                                                                          {"chars", s.template_chars}};
  nlohmann::ordered_json mix = nlohmann::ordered_json::array();
  for (const auto& [type, u] : s.types)
    mix.push_back(
        {{"type", type},
         {"tensors", u.tensors},
         {"bytes", u.bytes},
         {"elements", u.elements},
         {"percent_of_file", 100.0 * static_cast<double>(u.bytes) / static_cast<double>(s.file_bytes)}});
  j["quantization"] = mix;
  return j;
}

}  // namespace

int run_model_info(const std::vector<std::string>& argv) {
  Args args("model info", {
                              {"--json", "", false, "print one JSON object instead of text", ""},
                          });
  args.parse(argv);
  if (args.has("--help")) {
    std::printf("usage: xnai model info MODEL.gguf [--json]\n%s", args.usage().c_str());
    return 0;
  }
  if (args.positionals().size() != 1)
    throw Error(ErrorKind::InvalidArgument, "model info: expects exactly one GGUF file (got " +
                                                std::to_string(args.positionals().size()) + ")");
  const gguf::GgufFile f = gguf::GgufFile::open(args.positionals()[0]);
  const ModelSummary s = summarize(f);
  if (args.has("--json"))
    std::printf("%s\n", to_json(s).dump(2).c_str());
  else
    print_text(s);
  return 0;
}

}  // namespace xnai::cli
