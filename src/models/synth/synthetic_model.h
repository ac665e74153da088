// Random-weight GGUF models with the exact layout of real ones: the same tensor names,
// shapes, tensor types, metadata keys and tokenizer shape as llama.cpp's
// convert_hf_to_gguf.py followed by llama-quantize (commit c392e50, Feb 2025) write for
// the real checkpoint. Speed, memory and file-size figures do not depend on weight values,
// so these files stand in for real models in benchmarks and load tests.
//
// What is real and what is not is listed in docs/bench.md ("Synthetic models"). In short:
// shapes, types, hyper-parameters, rope settings (incl. Llama-3.2's rope_freqs values),
// special-token ids and the chat template are the real model's; the weights are random
// (finite, each value ~N(0, 0.02)-sized) and the default vocabulary is synthetic filler of
// the real size (or copied from a real GGUF with SynthOptions::vocab_from).
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/dtype.h"

namespace xnai::synth {

enum class VocabKind {
  Spm,  // SentencePiece ("llama"): <unk> <s> </s>, 256 <0xXX> byte tokens, then pieces with scores
  Bpe,  // byte-level BPE ("gpt2"): GPT-2 byte symbols, merges, special tokens at their real ids
};

// GGUF token types (tokenizer.ggml.token_type), as llama.cpp numbers them.
enum TokenType : int32_t {
  kTokenNormal = 1,
  kTokenUnknown = 2,
  kTokenControl = 3,
  kTokenUserDefined = 4,
  kTokenUnused = 5,
  kTokenByte = 6,
};

struct SpecialToken {
  int32_t id;
  std::string text;
  int32_t type;  // TokenType
};

// Llama-3.x "rope_type": "llama3" scaling; the converter turns it into a rope_freqs tensor.
struct Llama3Rope {
  double factor;
  double low_freq_factor;
  double high_freq_factor;
  int64_t original_context;
};

// One real model, with the numbers of its Hugging Face config.json / tokenizer_config.json.
struct ModelShape {
  std::string key;      // "tinyllama-1.1b" (the --like name)
  std::string hf_repo;  // where the numbers come from, e.g. "TinyLlama/TinyLlama-1.1B-Chat-v1.0"
  std::string arch;     // GGUF architecture: "llama" or "qwen2"

  // general.* as the converter derives them from the repo name.
  std::string name, version, finetune, basename, size_label, license;

  int64_t n_vocab = 0, n_embd = 0, n_ff = 0, n_layer = 0, n_head = 0, n_head_kv = 0;
  int64_t head_dim =
      0;              // config.json "head_dim" (then also written as key/value_length); 0 = n_embd / n_head
  int64_t n_ctx = 0;  // max_position_embeddings
  double rope_theta = 0;  // 0: config.json has no rope_theta, so no rope.freq_base key is written
  double rms_eps = 1e-5;
  bool tied_embeddings = false;  // no output.weight; token_embd doubles as the LM head
  bool qkv_bias = false;         // attn_q/k/v.bias (qwen2)
  std::optional<Llama3Rope> llama3_rope;
  bool writes_vocab_size = true;  // the llama converter writes <arch>.vocab_size and rope.dimension_count

  // Tokenizer.
  VocabKind vocab = VocabKind::Spm;
  std::string tokenizer_pre;           // tokenizer.ggml.pre: "default", "llama-bpe", "qwen2"
  int32_t n_normal_tokens = 0;         // BPE: ids [0, n) are byte symbols + merged filler
  std::vector<SpecialToken> specials;  // at their real ids (SPM: <unk>, <s>, </s>)
  // "tokenizer.ggml.<x>_token_id" / "tokenizer.ggml.add_<x>_token" in the converter's order.
  std::vector<std::pair<std::string, int32_t>> special_ids;
  std::vector<std::pair<std::string, bool>> add_flags;
  std::string chat_template;

  int64_t effective_head_dim() const { return head_dim ? head_dim : n_embd / n_head; }
};

// The table of real models (see model_shapes.cpp for the sources of each number).
const std::vector<ModelShape>& known_shapes();
// Throws Error(InvalidArgument) naming the unknown key and listing the known ones.
const ModelShape& find_shape(std::string_view key);
// A copy with the layer count capped at n_layer (for small test files); n_layer >= 1.
ModelShape with_layers(const ModelShape& shape, int64_t n_layer);

// The weight type recipes llama-quantize applies (LLAMA_FTYPE_MOSTLY_*).
enum class Recipe { F16, Q4_0, Q8_0, Q4_K_M };
// "f16", "q4_0", "q8_0", "q4_k_m" (case-insensitive); throws Error(InvalidArgument).
Recipe parse_recipe(std::string_view name);
const char* recipe_name(Recipe r);    // "F16", "Q4_0", "Q8_0", "Q4_K_M"
uint32_t recipe_file_type(Recipe r);  // general.file_type: 1, 2, 7, 15

struct TensorPlan {
  std::string name;
  DType type;
  std::vector<int64_t> ne;  // innermost first, as in GGUF
};

// The tensors of `shape` in the order llama-quantize writes them (non-layer tensors by
// name, then each layer's by name) with the types its recipe picks: output / tied
// embedding at Q6_K (Q8_0 when the row is not a multiple of 256), Q4_K_M's Q6_K attn_v /
// ffn_down on the "more bits" layers, and the fallbacks for rows that do not fit 256-value
// super-blocks (Q4_K → Q5_0, Q6_K → Q8_0). 1-D tensors stay F32.
std::vector<TensorPlan> plan_tensors(const ModelShape& shape, Recipe recipe);

// The rope_freqs values the converter computes for llama3 rope scaling (head_dim / 2 values).
std::vector<float> llama3_rope_factors(const ModelShape& shape);

struct SynthProgress {
  size_t tensors_done = 0, tensors_total = 0;
  uint64_t bytes_done = 0, bytes_total = 0;  // tensor data
};

struct SynthOptions {
  Recipe recipe = Recipe::Q4_0;
  uint64_t seed = 1;
  std::string vocab_from;  // a GGUF whose tokenizer.* keys replace the synthetic vocabulary ("" = synthetic)
  int n_threads = 0;       // 0 = default_thread_count()
  // Called on the writing thread after each tensor; must not throw.
  std::function<void(const SynthProgress&)> on_progress;
};

struct SynthSummary {
  size_t n_tensors = 0;
  int64_t n_params = 0;
  uint64_t data_bytes = 0;  // tensor data
  uint64_t file_bytes = 0;
  double seconds = 0;
};

// Writes the model to `path` (atomically, through GgufWriter). Deterministic for a given
// shape, options.seed and recipe, whatever the thread count. Throws Error(Io) for the
// output, Error(NotFound / InvalidFormat) for a bad vocab_from file, Error(InvalidArgument)
// when that vocabulary is larger than the model's n_vocab.
SynthSummary write_synthetic_model(const ModelShape& shape, const SynthOptions& options,
                                   const std::string& path);

}  // namespace xnai::synth
