// The encoder table: which GGUF keys give the hyper-parameters and which tensors (with
// which shapes and for which architecture) make the weights. Adding a BERT variant that
// fits the post-norm block is a column in kArchs and a Need per tensor row; names and
// shapes are those llama.cpp's converter writes (commit c392e50).
#include "models/encoder/bert_arch.h"

#include <string>
#include <string_view>

#include "core/error.h"
#include "formats/gguf.h"

namespace xnai::models::encoder_detail {
namespace {

enum class Need { No, Optional, Required };

struct ArchSpec {
  const char* name;  // general.architecture
  EncoderArch arch;
  bool rope;  // NEOX rope on q/k instead of learned position embeddings
};

constexpr ArchSpec kArchs[] = {
    {"bert", EncoderArch::Bert, false},
    {"nomic-bert", EncoderArch::NomicBert, true},
};
constexpr int kNumArchs = 2;

int arch_index(EncoderArch a) { return a == EncoderArch::Bert ? 0 : 1; }

// Symbolic tensor dimensions, resolved against the hyper-parameters.
enum class Dim { One, Embd, Ff, Vocab, Ctx, Types, Qkv };

struct GlobalRow {
  const char* name;
  compute::Tensor BertWeights::*slot;
  Dim d0, d1;
  Need need[kNumArchs];  // bert, nomic-bert
};

constexpr GlobalRow kGlobals[] = {
    {"token_embd.weight", &BertWeights::tok_embd, Dim::Embd, Dim::Vocab, {Need::Required, Need::Required}},
    {"token_types.weight", &BertWeights::type_embd, Dim::Embd, Dim::Types, {Need::Optional, Need::Optional}},
    {"position_embd.weight", &BertWeights::pos_embd, Dim::Embd, Dim::Ctx, {Need::Required, Need::No}},
    {"token_embd_norm.weight",
     &BertWeights::embd_norm,
     Dim::Embd,
     Dim::One,
     {Need::Required, Need::Required}},
    {"token_embd_norm.bias",
     &BertWeights::embd_norm_b,
     Dim::Embd,
     Dim::One,
     {Need::Required, Need::Required}},
};

// A null slot marks the fused attn_qkv matrix, split into wq/wk/wv row ranges.
struct LayerRow {
  const char* name;  // after "blk.N."
  compute::Tensor BertLayerWeights::*slot;
  Dim d0, d1;
  Need need[kNumArchs];
};

using L = BertLayerWeights;
constexpr Need R = Need::Required, N = Need::No;
constexpr LayerRow kLayer[] = {
    {"attn_q.weight", &L::wq, Dim::Embd, Dim::Embd, {R, N}},
    {"attn_q.bias", &L::bq, Dim::Embd, Dim::One, {R, N}},
    {"attn_k.weight", &L::wk, Dim::Embd, Dim::Embd, {R, N}},
    {"attn_k.bias", &L::bk, Dim::Embd, Dim::One, {R, N}},
    {"attn_v.weight", &L::wv, Dim::Embd, Dim::Embd, {R, N}},
    {"attn_v.bias", &L::bv, Dim::Embd, Dim::One, {R, N}},
    {"attn_qkv.weight", nullptr, Dim::Embd, Dim::Qkv, {N, R}},
    {"attn_output.weight", &L::wo, Dim::Embd, Dim::Embd, {R, R}},
    {"attn_output.bias", &L::bo, Dim::Embd, Dim::One, {R, N}},
    {"attn_output_norm.weight", &L::attn_out_norm, Dim::Embd, Dim::One, {R, R}},
    {"attn_output_norm.bias", &L::attn_out_norm_b, Dim::Embd, Dim::One, {R, R}},
    {"ffn_up.weight", &L::ffn_up, Dim::Embd, Dim::Ff, {R, R}},
    {"ffn_up.bias", &L::ffn_up_b, Dim::Ff, Dim::One, {R, N}},
    {"ffn_gate.weight", &L::ffn_gate, Dim::Embd, Dim::Ff, {N, R}},
    {"ffn_down.weight", &L::ffn_down, Dim::Ff, Dim::Embd, {R, R}},
    {"ffn_down.bias", &L::ffn_down_b, Dim::Embd, Dim::One, {R, N}},
    {"layer_output_norm.weight", &L::out_norm, Dim::Embd, Dim::One, {R, R}},
    {"layer_output_norm.bias", &L::out_norm_b, Dim::Embd, Dim::One, {R, R}},
};

const ArchSpec* find_arch(std::string_view name) {
  for (const auto& a : kArchs)
    if (name == a.name) return &a;
  return nullptr;
}

std::string shape_str(const std::vector<int64_t>& ne) {
  std::string s = "[";
  for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "]";
}

bool present(const compute::Tensor& t) { return t.data != nullptr || t.buffer != 0; }

class TensorMapper {
 public:
  TensorMapper(const gguf::GgufFile& f, const BertHParams& hp, compute::Backend& be)
      : file_(f), hp_(hp), backend_(be) {
    // token_types has as many rows as the vocabulary's token types (2 for BERT); the key
    // is optional, so without it the tensor's own row count is taken.
    if (const auto* t = f.find_tensor("token_types.weight")) n_types_ = t->dim(1);
    n_types_ = f.get_int("tokenizer.ggml.token_type_count", n_types_);
  }

  std::vector<int64_t> shape(Dim d0, Dim d1) const {
    std::vector<int64_t> ne{resolve(d0)};
    if (d1 != Dim::One) ne.push_back(resolve(d1));
    return ne;
  }

  const gguf::TensorInfo* find(const std::string& name, const std::vector<int64_t>& ne, Need need) const {
    const gguf::TensorInfo* t = file_.find_tensor(name);
    if (!t) {
      if (need == Need::Required)
        throw Error(ErrorKind::NotFound, file_.path() + ": missing tensor '" + name + "' (expected shape " +
                                             shape_str(ne) + ", needed by arch " + hp_.arch_name + ")");
      return nullptr;
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
    return t;
  }

  compute::Tensor get(const std::string& name, Dim d0, Dim d1, Need need) const {
    const auto ne = shape(d0, d1);
    const gguf::TensorInfo* t = find(name, ne, need);
    if (!t) return {};
    return wrap(t, 0, ne[0], ne.size() > 1 ? ne[1] : 1, name);
  }

  // Rows [row0, row0 + rows) of a matrix, in place.
  compute::Tensor wrap(const gguf::TensorInfo* t, int64_t row0, int64_t cols, int64_t rows,
                       const std::string& name) const {
    const size_t off = static_cast<size_t>(row0) * row_size(t->type, cols);
    return backend_.weight(t->data + off, t->type, {cols, rows, 1, 1}, name);
  }

 private:
  int64_t resolve(Dim d) const {
    switch (d) {
      case Dim::One:
        return 1;
      case Dim::Embd:
        return hp_.n_embd;
      case Dim::Ff:
        return hp_.n_ff;
      case Dim::Vocab:
        return hp_.n_vocab;
      case Dim::Ctx:
        return hp_.n_ctx_train;
      case Dim::Types:
        return n_types_;
      case Dim::Qkv:
        return 3 * hp_.n_embd;
    }
    return 0;
  }

  const gguf::GgufFile& file_;
  const BertHParams& hp_;
  compute::Backend& backend_;
  int64_t n_types_ = 2;
};

}  // namespace

BertHParams read_hparams(const gguf::GgufFile& f) {
  BertHParams hp;
  hp.arch_name = f.architecture();
  const ArchSpec* spec = find_arch(hp.arch_name);
  if (!spec)
    throw Error(ErrorKind::Unsupported,
                f.path() + ": architecture '" + hp.arch_name +
                    "' is not an embedding (encoder) model; supported: bert, nomic-bert");
  hp.arch = spec->arch;
  const std::string a = hp.arch_name + ".";
  auto positive = [&](const std::string& key, int64_t v) {
    if (v <= 0)
      throw Error(ErrorKind::InvalidFormat,
                  f.path() + ": key '" + key + "' must be positive, got " + std::to_string(v));
    return v;
  };
  auto required = [&](const std::string& key) { return positive(key, f.require_int(key)); };

  hp.n_ctx_train = required(a + "context_length");
  hp.n_embd = required(a + "embedding_length");
  hp.n_ff = required(a + "feed_forward_length");
  hp.n_layer = required(a + "block_count");
  hp.n_head = required(a + "attention.head_count");
  const int64_t n_head_kv =
      positive(a + "attention.head_count_kv", f.get_int(a + "attention.head_count_kv", hp.n_head));
  if (n_head_kv != hp.n_head)
    throw Error(ErrorKind::Unsupported, f.path() + ": attention.head_count_kv " + std::to_string(n_head_kv) +
                                            " differs from head_count " + std::to_string(hp.n_head) +
                                            " (grouped attention in an encoder is not supported)");
  if (hp.n_embd % hp.n_head != 0)
    throw Error(ErrorKind::InvalidFormat, f.path() + ": embedding_length " + std::to_string(hp.n_embd) +
                                              " is not a multiple of attention.head_count " +
                                              std::to_string(hp.n_head));
  hp.head_dim = hp.n_embd / hp.n_head;
  hp.norm_eps = static_cast<float>(f.require_float(a + "attention.layer_norm_epsilon"));
  if (!(hp.norm_eps >= 0.0f))
    throw Error(ErrorKind::InvalidFormat, f.path() + ": attention.layer_norm_epsilon must be >= 0");
  if (f.get_bool(a + "attention.causal", false))
    throw Error(
        ErrorKind::Unsupported,
        f.path() + ": key '" + a + "attention.causal' is true; only bidirectional encoders are supported");

  if (const gguf::Value* p = f.find(a + "pooling_type")) {
    const int64_t v = p->is_integer() ? p->as_int() : -2;
    if (v == 4)
      throw Error(ErrorKind::Unsupported,
                  f.path() + ": pooling_type 4 (rank) is a reranker head, not an embedding model");
    if (v == -1) {
      hp.pooling = Pooling::None;  // llama.cpp's "unspecified"
    } else if (v < 0 || v > 3) {
      throw Error(ErrorKind::InvalidFormat, f.path() + ": key '" + a + "pooling_type' has value " +
                                                p->to_display() +
                                                "; expected 0 (none), 1 (mean), 2 (cls) or 3 (last)");
    } else {
      hp.pooling = static_cast<Pooling>(v);
      hp.pooling_in_file = true;
    }
  }

  // Vocabulary size: the tokenizer's token list, else the embedding's row count (the
  // embedding's shape is then checked against it).
  if (const auto* t = f.find("tokenizer.ggml.tokens")) {
    hp.n_vocab = static_cast<int64_t>(t->size());
  } else if (const auto* e = f.find_tensor("token_embd.weight")) {
    hp.n_vocab = e->dim(1);
  }
  positive("tokenizer.ggml.tokens (vocabulary size)", hp.n_vocab);

  if (spec->rope) {
    auto& r = hp.rope;
    r.mode = compute::RopeMode::Neox;
    r.n_dims = static_cast<int>(f.get_int(a + "rope.dimension_count", hp.head_dim));
    if (r.n_dims <= 0 || r.n_dims % 2 != 0 || r.n_dims > hp.head_dim)
      throw Error(ErrorKind::InvalidFormat, f.path() + ": rope.dimension_count " + std::to_string(r.n_dims) +
                                                " must be even and at most the head size " +
                                                std::to_string(hp.head_dim));
    r.freq_base = static_cast<float>(f.get_float(a + "rope.freq_base", 10000.0));
    if (!(r.freq_base > 0.0f))
      throw Error(ErrorKind::InvalidFormat, f.path() + ": key '" + a + "rope.freq_base' must be positive");
    r.freq_scale = 1.0f;
    r.n_ctx_orig = static_cast<int>(hp.n_ctx_train);
  }
  return hp;
}

BertWeights map_weights(const gguf::GgufFile& f, const BertHParams& hp, compute::Backend& be) {
  const TensorMapper m(f, hp, be);
  const int ai = arch_index(hp.arch);
  BertWeights w;
  for (const auto& g : kGlobals) {
    if (g.need[ai] == Need::No) continue;
    w.*g.slot = m.get(g.name, g.d0, g.d1, g.need[ai]);
  }
  w.layers.resize(static_cast<size_t>(hp.n_layer));
  for (int64_t il = 0; il < hp.n_layer; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    auto& l = w.layers[static_cast<size_t>(il)];
    for (const auto& r : kLayer) {
      if (r.need[ai] == Need::No) continue;
      const std::string name = p + r.name;
      if (r.slot) {
        l.*r.slot = m.get(name, r.d0, r.d1, r.need[ai]);
        continue;
      }
      // Fused Q/K/V: each output row is one dot product, so three row ranges of the same
      // matrix compute exactly what the fused matmul would.
      const gguf::TensorInfo* t = m.find(name, m.shape(r.d0, r.d1), r.need[ai]);
      if (!t) continue;
      l.wq = m.wrap(t, 0, hp.n_embd, hp.n_embd, name + "[q]");
      l.wk = m.wrap(t, hp.n_embd, hp.n_embd, hp.n_embd, name + "[k]");
      l.wv = m.wrap(t, 2 * hp.n_embd, hp.n_embd, hp.n_embd, name + "[v]");
    }
  }
  return w;
}

void release_weights(BertWeights& w, compute::Backend& be) {
  for (auto& l : w.layers)
    for (auto* t :
         {&l.wq, &l.wk, &l.wv, &l.wo, &l.bq, &l.bk, &l.bv, &l.bo, &l.attn_out_norm, &l.attn_out_norm_b,
          &l.ffn_up, &l.ffn_up_b, &l.ffn_gate, &l.ffn_down, &l.ffn_down_b, &l.out_norm, &l.out_norm_b})
      if (present(*t)) be.release(*t);
  for (auto* t : {&w.tok_embd, &w.type_embd, &w.pos_embd, &w.embd_norm, &w.embd_norm_b})
    if (present(*t)) be.release(*t);
  w.layers.clear();
}

}  // namespace xnai::models::encoder_detail
