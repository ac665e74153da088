// The tensor list of a synthetic model: names and shapes as convert_hf_to_gguf.py maps the
// Hugging Face weights, order and types as llama-quantize (c392e50) writes its output.
//
// llama-quantize's per-tensor type choice (llama_tensor_get_type), restricted to the
// recipes we offer and to the llama / qwen2 architectures:
// - the LM head (output.weight, or token_embd.weight when the embedding is tied) becomes
//   Q6_K, except Q8_0 when its row length is not a multiple of the recipe's block size or
//   the recipe is Q8_0 itself (so Q4_0 files carry a Q6_K head, as real ones do);
// - Q4_K_M: attn_v and ffn_down become Q6_K on the "use more bits" layers: the first and
//   last eighth of the layers and every third layer in between;
// - a K-quant on a row that is not a multiple of 256 falls back: Q4_K → Q5_0,
//   Q6_K → Q8_0 (Qwen2.5-0.5B's n_embd 896 hits this), and to F16 when even 32 does not fit;
// - F16 is not a quantized type, so that recipe applies no rule: every matrix is F16.
// Tensors whose name does not end in "weight", 1-D tensors and *_norm.weight stay F32.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <string>

#include "core/error.h"
#include "models/synth/synthetic_model.h"

namespace xnai::synth {
namespace {

int layer_of(const std::string& name) {
  int layer = -1;
  if (std::sscanf(name.c_str(), "blk.%d.", &layer) != 1) return -1;
  return layer;
}

// llama-quantize's weight_name_comparer: by layer number (non-layer tensors first), then name.
bool quantize_order(const TensorPlan& a, const TensorPlan& b) {
  const int la = layer_of(a.name), lb = layer_of(b.name);
  if (la != lb) return la < lb;
  return a.name < b.name;
}

bool use_more_bits(int64_t i_layer, int64_t n_layers) {
  return i_layer < n_layers / 8 || i_layer >= 7 * n_layers / 8 || (i_layer - n_layers / 8) % 3 == 2;
}

DType default_type(Recipe r) {
  switch (r) {
    case Recipe::F16:
      return DType::F16;
    case Recipe::Q4_0:
      return DType::Q4_0;
    case Recipe::Q8_0:
      return DType::Q8_0;
    case Recipe::Q4_K_M:
      return DType::Q4_K;
  }
  return DType::F16;
}

bool fits(DType t, int64_t ne0) { return ne0 % info(t).block_size == 0; }

DType choose_type(const ModelShape& shape, Recipe recipe, const TensorPlan& t) {
  const std::string& name = t.name;
  const bool is_matrix = t.ne.size() >= 2 && name.size() >= 6 &&
                         name.compare(name.size() - 6, 6, "weight") == 0 &&
                         name.find("_norm.weight") == std::string::npos;
  if (!is_matrix) return DType::F32;
  DType type = default_type(recipe);
  if (recipe == Recipe::F16) return type;

  const int64_t ne0 = t.ne[0];
  const bool is_head = name == "output.weight" || (shape.tied_embeddings && name == "token_embd.weight");
  if (is_head) {
    if (!fits(type, ne0))
      type = DType::Q8_0;
    else if (type != DType::Q8_0)
      type = DType::Q6_K;
  } else if (recipe == Recipe::Q4_K_M && (name.find("attn_v.weight") != std::string::npos ||
                                          name.find("ffn_down") != std::string::npos)) {
    if (use_more_bits(layer_of(name), shape.n_layer)) type = DType::Q6_K;
  }

  if (!fits(type, ne0)) {
    switch (type) {
      case DType::Q4_K:
        type = DType::Q5_0;
        break;
      case DType::Q5_K:
        type = DType::Q5_1;
        break;
      case DType::Q6_K:
        type = DType::Q8_0;
        break;
      default:
        throw Error(ErrorKind::Unsupported, "tensor " + name + ": row of " + std::to_string(ne0) +
                                                " values does not fit " + dtype_name(type) + " blocks");
    }
    if (!fits(type, ne0)) type = DType::F16;
  }
  return type;
}

}  // namespace

Recipe parse_recipe(std::string_view name) {
  std::string n(name);
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
  if (n == "f16") return Recipe::F16;
  if (n == "q4_0") return Recipe::Q4_0;
  if (n == "q8_0") return Recipe::Q8_0;
  if (n == "q4_k_m") return Recipe::Q4_K_M;
  throw Error(ErrorKind::InvalidArgument,
              "unknown weight type '" + std::string(name) + "' (known: q4_0, q8_0, q4_k_m, f16)");
}

const char* recipe_name(Recipe r) {
  switch (r) {
    case Recipe::F16:
      return "F16";
    case Recipe::Q4_0:
      return "Q4_0";
    case Recipe::Q8_0:
      return "Q8_0";
    case Recipe::Q4_K_M:
      return "Q4_K_M";
  }
  return "?";
}

// LLAMA_FTYPE_MOSTLY_* numbers.
uint32_t recipe_file_type(Recipe r) {
  switch (r) {
    case Recipe::F16:
      return 1;
    case Recipe::Q4_0:
      return 2;
    case Recipe::Q8_0:
      return 7;
    case Recipe::Q4_K_M:
      return 15;
  }
  return 0;
}

std::vector<TensorPlan> plan_tensors(const ModelShape& shape, Recipe recipe) {
  const int64_t hd = shape.effective_head_dim();
  const int64_t q_dim = shape.n_head * hd, kv_dim = shape.n_head_kv * hd;
  const int64_t e = shape.n_embd;
  std::vector<TensorPlan> out;
  auto add = [&](std::string name, std::vector<int64_t> ne) {
    out.push_back({std::move(name), DType::F32, std::move(ne)});
  };

  add("token_embd.weight", {e, shape.n_vocab});
  add("output_norm.weight", {e});
  if (!shape.tied_embeddings) add("output.weight", {e, shape.n_vocab});
  if (shape.llama3_rope) add("rope_freqs.weight", {hd / 2});
  for (int64_t i = 0; i < shape.n_layer; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    add(p + "attn_norm.weight", {e});
    add(p + "attn_q.weight", {e, q_dim});
    add(p + "attn_k.weight", {e, kv_dim});
    add(p + "attn_v.weight", {e, kv_dim});
    if (shape.qkv_bias) {
      add(p + "attn_q.bias", {q_dim});
      add(p + "attn_k.bias", {kv_dim});
      add(p + "attn_v.bias", {kv_dim});
    }
    add(p + "attn_output.weight", {q_dim, e});
    add(p + "ffn_norm.weight", {e});
    add(p + "ffn_gate.weight", {e, shape.n_ff});
    add(p + "ffn_up.weight", {e, shape.n_ff});
    add(p + "ffn_down.weight", {shape.n_ff, e});
  }
  std::stable_sort(out.begin(), out.end(), quantize_order);
  for (auto& t : out) t.type = choose_type(shape, recipe, t);
  return out;
}

// The converter's llama3 formula: each rotary frequency θ^(-2i/d) gets factor 1 when its
// wavelength is below original_context / high_freq_factor, `factor` when above
// original_context / low_freq_factor, and a smooth blend in between. Computed in float32
// like the converter's torch code.
std::vector<float> llama3_rope_factors(const ModelShape& shape) {
  if (!shape.llama3_rope) return {};
  const Llama3Rope& r = *shape.llama3_rope;
  const int64_t dim = shape.effective_head_dim();
  const float base = static_cast<float>(shape.rope_theta ? shape.rope_theta : 10000.0);
  const float old_ctx = static_cast<float>(r.original_context);
  const float low_wavelen = old_ctx / static_cast<float>(r.low_freq_factor);
  const float high_wavelen = old_ctx / static_cast<float>(r.high_freq_factor);
  std::vector<float> out;
  for (int64_t i = 0; i < dim; i += 2) {
    const float freq = 1.0f / std::pow(base, static_cast<float>(i) / static_cast<float>(dim));
    const float wavelen = static_cast<float>(2.0 * M_PI) / freq;
    if (wavelen < high_wavelen) {
      out.push_back(1.0f);
    } else if (wavelen > low_wavelen) {
      out.push_back(static_cast<float>(r.factor));
    } else {
      const float smooth = (old_ctx / wavelen - static_cast<float>(r.low_freq_factor)) /
                           static_cast<float>(r.high_freq_factor - r.low_freq_factor);
      out.push_back(1.0f / ((1.0f - smooth) / static_cast<float>(r.factor) + smooth));
    }
  }
  return out;
}

}  // namespace xnai::synth
