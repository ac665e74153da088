// The architecture table: which GGUF keys give the hyper-parameters and which tensors
// (with which shapes) make the weights, for each decoder family we run. Adding a family
// that fits the llama-style block (norm → attention → norm → SwiGLU FFN) is one row in
// kArchs; anything structurally new also needs a forward pass (docs/adding-a-model.md).
#include "models/llm/llm_arch.h"

#include <string>
#include <string_view>

#include "core/error.h"
#include "formats/gguf.h"

namespace xnai::models::detail {
namespace {

enum class Need { No, Optional, Required };

struct ArchSpec {
  const char* name;  // general.architecture
  LlmArch arch;
  compute::RopeMode rope_mode;
  Need qkv_bias;  // blk.N.attn_{q,k,v}.bias
  bool qk_norm;   // blk.N.attn_{q,k}_norm.weight, applied per head before rope
};

constexpr ArchSpec kArchs[] = {
    // llama.cpp's converter permutes Q/K rows for arch llama so that "normal" rope applies.
    {"llama", LlmArch::Llama, compute::RopeMode::Normal, Need::Optional, false},
    {"qwen2", LlmArch::Qwen2, compute::RopeMode::Neox, Need::Required, false},
    {"qwen3", LlmArch::Qwen3, compute::RopeMode::Neox, Need::Optional, true},
};

const ArchSpec* find_arch(std::string_view name) {
  for (const auto& a : kArchs)
    if (name == a.name) return &a;
  return nullptr;
}

const ArchSpec& spec_of(LlmArch arch) {
  for (const auto& a : kArchs)
    if (a.arch == arch) return a;
  throw Error(ErrorKind::Internal, "llm: no table entry for an architecture");
}

std::string shape_str(const std::vector<int64_t>& ne) {
  std::string s = "[";
  for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "]";
}

// Reads the tensors of one file for one set of hyper-parameters.
class TensorMapper {
 public:
  TensorMapper(const gguf::GgufFile& f, const LlmHParams& hp, compute::Backend& be)
      : file_(f), hp_(hp), backend_(be) {}

  // Returns an empty Tensor when the tensor is absent and not required.
  compute::Tensor get(const std::string& name, std::vector<int64_t> ne, Need need) const {
    const gguf::TensorInfo* t = file_.find_tensor(name);
    if (!t) {
      if (need == Need::Required)
        throw Error(ErrorKind::NotFound, file_.path() + ": missing tensor '" + name + "' (expected shape " +
                                             shape_str(ne) + ", needed by arch " + hp_.arch_name + ")");
      return {};
    }
    std::vector<int64_t> actual = t->ne;
    while (actual.size() > ne.size() && actual.back() == 1) actual.pop_back();
    if (actual != ne)
      throw Error(ErrorKind::InvalidFormat, file_.path() + ": tensor '" + name + "' has shape " +
                                                shape_str(t->ne) + ", expected " + shape_str(ne));
    if (ne.size() == 1) {
      // Gains and biases feed element-wise F32 ops.
      if (t->type != DType::F32)
        throw Error(ErrorKind::Unsupported, file_.path() + ": tensor '" + name + "' is " +
                                                dtype_name(t->type) + ", expected f32 for a 1-D tensor");
    } else if (!info(t->type).computable) {
      throw Error(ErrorKind::Unsupported, file_.path() + ": tensor '" + name + "' has type " +
                                              dtype_name(t->type) + ", which xnai cannot compute with");
    }
    std::array<int64_t, 4> ne4{1, 1, 1, 1};
    for (size_t i = 0; i < ne.size(); ++i) ne4[i] = ne[i];
    return backend_.weight(t->data, t->type, ne4, name);
  }

 private:
  const gguf::GgufFile& file_;
  const LlmHParams& hp_;
  compute::Backend& backend_;
};

bool present(const compute::Tensor& t) { return t.data != nullptr || t.buffer != 0; }

}  // namespace

LlmHParams read_hparams(const gguf::GgufFile& f) {
  LlmHParams hp;
  hp.arch_name = f.architecture();
  const ArchSpec* spec = find_arch(hp.arch_name);
  if (!spec)
    throw Error(ErrorKind::Unsupported, f.path() + ": architecture '" + hp.arch_name +
                                            "' is not a supported LLM (supported: llama, qwen2, qwen3)");
  hp.arch = spec->arch;
  const std::string a = hp.arch_name + ".";
  auto positive = [&](const std::string& key, int64_t v) {
    if (v <= 0)
      throw Error(ErrorKind::InvalidFormat,
                  f.path() + ": key '" + key + "' must be positive, got " + std::to_string(v));
    return v;
  };

  hp.n_ctx_train = positive(a + "context_length", f.require_int(a + "context_length"));
  hp.n_embd = positive(a + "embedding_length", f.require_int(a + "embedding_length"));
  hp.n_ff = positive(a + "feed_forward_length", f.require_int(a + "feed_forward_length"));
  hp.n_layer = positive(a + "block_count", f.require_int(a + "block_count"));
  hp.n_head = positive(a + "attention.head_count", f.require_int(a + "attention.head_count"));
  hp.n_head_kv = positive(a + "attention.head_count_kv", f.get_int(a + "attention.head_count_kv", hp.n_head));
  if (hp.n_head % hp.n_head_kv != 0)
    throw Error(ErrorKind::InvalidFormat, f.path() + ": attention.head_count " + std::to_string(hp.n_head) +
                                              " is not a multiple of head_count_kv " +
                                              std::to_string(hp.n_head_kv));
  if (hp.n_embd % hp.n_head != 0 && !f.find(a + "attention.key_length"))
    throw Error(ErrorKind::InvalidFormat,
                f.path() + ": embedding_length " + std::to_string(hp.n_embd) +
                    " is not a multiple of head_count and attention.key_length is absent");
  hp.head_dim =
      positive(a + "attention.key_length", f.get_int(a + "attention.key_length", hp.n_embd / hp.n_head));
  const int64_t v_dim = f.get_int(a + "attention.value_length", hp.head_dim);
  if (v_dim != hp.head_dim)
    throw Error(ErrorKind::Unsupported, f.path() + ": attention.value_length " + std::to_string(v_dim) +
                                            " differs from key_length " + std::to_string(hp.head_dim));
  hp.rms_eps = static_cast<float>(f.require_float(a + "attention.layer_norm_rms_epsilon"));
  hp.qk_norm = spec->qk_norm;

  // Vocabulary size: the explicit key, else the tokenizer's token list (the embedding's
  // shape is checked against it when the weights are mapped).
  if (const auto* v = f.find(a + "vocab_size")) {
    hp.n_vocab = v->as_int();
  } else if (const auto* t = f.find("tokenizer.ggml.tokens")) {
    hp.n_vocab = static_cast<int64_t>(t->size());
  } else if (const auto* e = f.find_tensor("token_embd.weight")) {
    hp.n_vocab = e->dim(1);
  }
  positive(a + "vocab_size", hp.n_vocab);

  // Rope, as llama.cpp sets up ggml_rope_ext for these models.
  auto& r = hp.rope;
  r.mode = spec->rope_mode;
  r.n_dims = static_cast<int>(f.get_int(a + "rope.dimension_count", hp.head_dim));
  if (r.n_dims <= 0 || r.n_dims % 2 != 0 || r.n_dims > hp.head_dim)
    throw Error(ErrorKind::InvalidFormat, f.path() + ": rope.dimension_count " + std::to_string(r.n_dims) +
                                              " must be even and at most the head size " +
                                              std::to_string(hp.head_dim));
  r.freq_base = static_cast<float>(f.get_float(a + "rope.freq_base", 10000.0));
  const std::string scaling = f.get_string(a + "rope.scaling.type", "linear");
  float factor = static_cast<float>(f.get_float(a + "rope.scaling.factor", 0.0));
  if (factor == 0.0f) factor = static_cast<float>(f.get_float(a + "rope.scale_linear", 0.0));
  r.freq_scale = factor == 0.0f ? 1.0f : 1.0f / factor;
  r.n_ctx_orig = static_cast<int>(f.get_int(a + "rope.scaling.original_context_length", hp.n_ctx_train));
  r.attn_factor = static_cast<float>(f.get_float(a + "rope.scaling.attn_factor", 1.0));
  r.beta_fast = 32.0f;
  r.beta_slow = 1.0f;
  if (scaling == "none") {
    r.freq_scale = 1.0f;
    r.ext_factor = 0.0f;
  } else if (scaling == "linear") {
    r.ext_factor = 0.0f;
  } else if (scaling == "yarn") {
    r.ext_factor = 1.0f;
  } else {
    throw Error(ErrorKind::Unsupported,
                f.path() + ": rope.scaling.type '" + scaling + "' is not supported (none, linear, yarn)");
  }
  if (!(r.freq_base > 0.0f) || !(r.freq_scale > 0.0f))
    throw Error(ErrorKind::InvalidFormat,
                f.path() + ": rope.freq_base and rope.scaling.factor must be positive");
  return hp;
}

LlmWeights map_weights(const gguf::GgufFile& f, LlmHParams& hp, compute::Backend& be,
                       const std::function<void(float)>& progress) {
  const ArchSpec& spec = spec_of(hp.arch);
  const TensorMapper m(f, hp, be);
  const int64_t n_embd = hp.n_embd, n_q = hp.n_embd_q(), n_kv = hp.n_embd_kv();
  LlmWeights w;
  w.tok_embd = m.get("token_embd.weight", {n_embd, hp.n_vocab}, Need::Required);
  w.output_norm = m.get("output_norm.weight", {n_embd}, Need::Required);
  w.output = m.get("output.weight", {n_embd, hp.n_vocab}, Need::Optional);
  if (!present(w.output)) w.output = w.tok_embd;  // tied LM head
  w.rope_freqs = m.get("rope_freqs.weight", {hp.rope.n_dims / 2}, Need::Optional);

  hp.qkv_bias = false;
  w.layers.resize(static_cast<size_t>(hp.n_layer));
  for (int64_t il = 0; il < hp.n_layer; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    auto& l = w.layers[static_cast<size_t>(il)];
    l.attn_norm = m.get(p + "attn_norm.weight", {n_embd}, Need::Required);
    l.wq = m.get(p + "attn_q.weight", {n_embd, n_q}, Need::Required);
    l.wk = m.get(p + "attn_k.weight", {n_embd, n_kv}, Need::Required);
    l.wv = m.get(p + "attn_v.weight", {n_embd, n_kv}, Need::Required);
    l.wo = m.get(p + "attn_output.weight", {n_q, n_embd}, Need::Required);
    if (spec.qkv_bias != Need::No) {
      l.bq = m.get(p + "attn_q.bias", {n_q}, spec.qkv_bias);
      l.bk = m.get(p + "attn_k.bias", {n_kv}, spec.qkv_bias);
      l.bv = m.get(p + "attn_v.bias", {n_kv}, spec.qkv_bias);
      const int n_present = present(l.bq) + present(l.bk) + present(l.bv);
      if (n_present != 0 && n_present != 3)
        throw Error(ErrorKind::InvalidFormat,
                    f.path() + ": layer " + std::to_string(il) + " has only some of the attn_q/k/v biases");
      if (il == 0) hp.qkv_bias = n_present == 3;
      if ((n_present == 3) != hp.qkv_bias)
        throw Error(ErrorKind::InvalidFormat, f.path() + ": layer " + std::to_string(il) +
                                                  " disagrees with layer 0 on having attn_q/k/v biases");
    }
    if (spec.qk_norm) {
      l.q_norm = m.get(p + "attn_q_norm.weight", {hp.head_dim}, Need::Required);
      l.k_norm = m.get(p + "attn_k_norm.weight", {hp.head_dim}, Need::Required);
    }
    l.ffn_norm = m.get(p + "ffn_norm.weight", {n_embd}, Need::Required);
    l.ffn_gate = m.get(p + "ffn_gate.weight", {n_embd, hp.n_ff}, Need::Required);
    l.ffn_up = m.get(p + "ffn_up.weight", {n_embd, hp.n_ff}, Need::Required);
    l.ffn_down = m.get(p + "ffn_down.weight", {hp.n_ff, n_embd}, Need::Required);
    if (progress) progress(static_cast<float>(il + 1) / static_cast<float>(hp.n_layer));
  }
  return w;
}

}  // namespace xnai::models::detail
