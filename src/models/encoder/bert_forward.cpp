// The encoder forward pass, written with backend ops, and the workspace that holds its
// activations. Sequences of a batch are packed back to back: every matmul, norm and
// element-wise op runs over all tokens at once, and attention runs once per sequence over
// that sequence's own K/V columns (non-causal), which is the block-diagonal mask llama.cpp
// builds for a multi-sequence batch without computing the masked-out scores.
//
// Per layer (post-norm, as llama.cpp's build_bert):
//   q, k, v = Wq·x + bq, Wk·x + bk, Wv·x + bv      (nomic-bert: attn_qkv rows, no bias, NEOX rope)
//   o = Wo·attention(q, k, v) + bo + x;  h = LayerNorm(o)
//   o = W_down·gelu(W_up·h + b_up) + b_down + h     (nomic-bert: W_down·(silu(W_gate·h) ⊙ W_up·h) + h)
//   x = LayerNorm(o)
// With CLS or last-token pooling only one row per sequence is read, so after the last
// layer's attention only those rows go on (as llama.cpp skips unused outputs).
#include <cmath>
#include <string>

#include "core/error.h"
#include "models/encoder/bert.h"

namespace xnai::models {
namespace {

using compute::Tensor;

// Columns [c0, c0 + n) of a tensor whose ne[0] is one column (contiguous in memory).
Tensor cols(const Tensor& t, int64_t c0, int64_t n) {
  Tensor v = t;
  const size_t off = static_cast<size_t>(c0) * t.row_bytes();
  if (v.data) v.data = static_cast<uint8_t*>(v.data) + off;
  v.offset += off;
  v.ne = {t.ne[0], n, 1, 1};
  return v;
}

Tensor reshape(const Tensor& t, std::array<int64_t, 4> ne) {
  Tensor v = t;
  v.ne = ne;
  return v;
}

bool present(const Tensor& t) { return t.data != nullptr || t.buffer != 0; }

void bad_batch(const std::string& what) { throw Error(ErrorKind::InvalidArgument, "bert encode: " + what); }

}  // namespace

const char* pooling_name(Pooling p) {
  switch (p) {
    case Pooling::None:
      return "none";
    case Pooling::Mean:
      return "mean";
    case Pooling::Cls:
      return "cls";
    case Pooling::Last:
      return "last";
  }
  return "?";
}

BertWorkspace::BertWorkspace(const BertModel& model, int64_t n_batch)
    : backend_(&model.backend()), n_batch_(n_batch) {
  if (n_batch < 1)
    throw Error(ErrorKind::InvalidArgument,
                "encoder batch size must be at least 1, got " + std::to_string(n_batch));
  const BertHParams& hp = model.hparams();
  auto& be = *backend_;
  const int64_t B = n_batch, E = hp.n_embd;
  try {
    ids_ = be.alloc(DType::I32, {B, 1, 1, 1}, "ids");
    pos_ = be.alloc(DType::I32, {B, 1, 1, 1}, "pos");
    for (auto [t, name] :
         {std::pair{&x_, "x"}, {&h_, "h"}, {&o_, "o"}, {&q_, "q"}, {&k_, "k"}, {&v_, "v"}, {&attn_, "attn"}})
      *t = be.alloc(DType::F32, {E, B, 1, 1}, name);
    up_ = be.alloc(DType::F32, {hp.n_ff, B, 1, 1}, "ffn_up");
    if (present(model.weights().layers.front().ffn_gate)) {
      gate_ = be.alloc(DType::F32, {hp.n_ff, B, 1, 1}, "ffn_gate");
      act_ = be.alloc(DType::F32, {hp.n_ff, B, 1, 1}, "ffn_act");
    }
    if (present(model.weights().type_embd)) {
      // Token type 0 ("sentence A") for every token, as llama.cpp: row 0, made F32 once.
      type_row_ = be.alloc(DType::F32, {E, 1, 1, 1}, "token_type_row0");
      be.get_rows(model.weights().type_embd, reshape(ids_, {1, 1, 1, 1}), type_row_);  // ids_ starts zeroed
    }
    pos_host_.resize(static_cast<size_t>(B));
    hidden_host_.resize(static_cast<size_t>(E * B));
  } catch (...) {
    release_all();
    throw;
  }
}

BertWorkspace::~BertWorkspace() { release_all(); }

void BertWorkspace::release_all() {
  for (auto* t : {&ids_, &pos_, &x_, &h_, &o_, &q_, &k_, &v_, &attn_, &up_, &gate_, &act_, &type_row_})
    if (present(*t)) backend_->release(*t);
}

void BertModel::encode(BertWorkspace& ws, std::span<const int32_t> tokens, std::span<const int32_t> seq_lens,
                       Pooling pooling, float* out) const {
  auto& be = *backend_;
  const BertHParams& hp = hparams_;
  const BertWeights& w = weights_;
  const int64_t n = static_cast<int64_t>(tokens.size());
  const int64_t n_seq = static_cast<int64_t>(seq_lens.size());

  if (n_seq < 1) bad_batch("no sequences");
  if (n > ws.n_batch_)
    bad_batch(std::to_string(n) + " tokens exceed the workspace batch of " + std::to_string(ws.n_batch_));
  int64_t total = 0;
  for (int64_t s = 0; s < n_seq; ++s) {
    const int64_t len = seq_lens[static_cast<size_t>(s)];
    if (len < 1 || len > hp.n_ctx_train)
      bad_batch("sequence " + std::to_string(s) + " has " + std::to_string(len) + " tokens; expected 1 to " +
                std::to_string(hp.n_ctx_train));
    total += len;
  }
  if (total != n)
    bad_batch("sequence lengths add up to " + std::to_string(total) + " but " + std::to_string(n) +
              " tokens were given");
  for (int64_t i = 0; i < n; ++i) {
    const int32_t id = tokens[static_cast<size_t>(i)];
    if (id < 0 || id >= hp.n_vocab)
      bad_batch("token id " + std::to_string(id) + " is outside the vocabulary of " +
                std::to_string(hp.n_vocab));
  }

  for (int64_t s = 0, i = 0; s < n_seq; ++s)
    for (int32_t p = 0; p < seq_lens[static_cast<size_t>(s)]; ++p) ws.pos_host_[static_cast<size_t>(i++)] = p;
  be.upload(ws.ids_, tokens.data(), static_cast<size_t>(n) * sizeof(int32_t));
  be.upload(ws.pos_, ws.pos_host_.data(), static_cast<size_t>(n) * sizeof(int32_t));
  const Tensor ids_n = reshape(ws.ids_, {n, 1, 1, 1}), pos_n = reshape(ws.pos_, {n, 1, 1, 1});

  const int64_t hd = hp.head_dim;
  Tensor x = cols(ws.x_, 0, n), h = cols(ws.h_, 0, n), o = cols(ws.o_, 0, n);
  Tensor q = cols(ws.q_, 0, n), k = cols(ws.k_, 0, n), v = cols(ws.v_, 0, n), attn = cols(ws.attn_, 0, n);

  // Embeddings: token + type 0 + position, then LayerNorm.
  be.get_rows(w.tok_embd, ids_n, o);
  if (present(ws.type_row_)) be.add(o, ws.type_row_, o);
  if (present(w.pos_embd)) {
    be.get_rows(w.pos_embd, pos_n, h);
    be.add(o, h, o);
  }
  be.layer_norm(o, w.embd_norm, w.embd_norm_b, hp.norm_eps, x);

  compute::AttentionParams ap;
  ap.pos0 = 0;
  ap.scale = 1.0f / std::sqrt(static_cast<float>(hd));
  ap.causal = false;
  const bool one_row_per_seq = pooling == Pooling::Cls || pooling == Pooling::Last;

  for (int64_t il = 0; il < hp.n_layer; ++il) {
    const BertLayerWeights& L = w.layers[static_cast<size_t>(il)];
    be.matmul(L.wq, x, q);
    be.matmul(L.wk, x, k);
    be.matmul(L.wv, x, v);
    if (present(L.bq)) be.add(q, L.bq, q);
    if (present(L.bk)) be.add(k, L.bk, k);
    if (present(L.bv)) be.add(v, L.bv, v);
    if (hp.arch == EncoderArch::NomicBert) {
      Tensor q3 = reshape(q, {hd, hp.n_head, n, 1}), k3 = reshape(k, {hd, hp.n_head, n, 1});
      be.rope(q3, pos_n, hp.rope, q3);
      be.rope(k3, pos_n, hp.rope, k3);
    }
    // A sequence's own K/V columns are contiguous, so they serve as its "cache" in place.
    for (int64_t s = 0, c0 = 0; s < n_seq; ++s) {
      const int64_t len = seq_lens[static_cast<size_t>(s)];
      ap.n_kv = len;
      Tensor qs = reshape(cols(q, c0, len), {hd, hp.n_head, len, 1});
      Tensor os = cols(attn, c0, len);
      be.attention(qs, cols(k, c0, len), cols(v, c0, len), static_cast<int>(hp.n_head), ap, os);
      c0 += len;
    }

    // Rows that go on: all, or in the last layer one per sequence, gathered into the
    // (now free) q and k buffers.
    int64_t m = n;
    Tensor attn_in = attn, resid = x;
    if (il == hp.n_layer - 1 && one_row_per_seq) {
      for (int64_t s = 0, c0 = 0; s < n_seq; ++s) {
        const int64_t len = seq_lens[static_cast<size_t>(s)];
        const int64_t c = pooling == Pooling::Cls ? c0 : c0 + len - 1;
        be.copy_rows(cols(attn, c, 1), ws.q_, s);
        be.copy_rows(cols(x, c, 1), ws.k_, s);
        c0 += len;
      }
      m = n_seq;
      attn_in = cols(ws.q_, 0, m);
      resid = cols(ws.k_, 0, m);
    }
    Tensor om = cols(ws.o_, 0, m), hm = cols(ws.h_, 0, m), um = cols(ws.up_, 0, m);
    be.matmul(L.wo, attn_in, om);
    if (present(L.bo)) be.add(om, L.bo, om);
    be.add(om, resid, om);
    be.layer_norm(om, L.attn_out_norm, L.attn_out_norm_b, hp.norm_eps, hm);

    be.matmul(L.ffn_up, hm, um);
    if (present(L.ffn_up_b)) be.add(um, L.ffn_up_b, um);
    Tensor act = um;
    if (present(L.ffn_gate)) {
      Tensor gm = cols(ws.gate_, 0, m);
      act = cols(ws.act_, 0, m);
      be.matmul(L.ffn_gate, hm, gm);
      be.silu_mul(gm, um, act);
    } else {
      be.gelu(um, um);
    }
    be.matmul(L.ffn_down, act, om);
    if (present(L.ffn_down_b)) be.add(om, L.ffn_down_b, om);
    be.add(om, hm, om);
    Tensor xm = cols(ws.x_, 0, m);
    be.layer_norm(om, L.out_norm, L.out_norm_b, hp.norm_eps, xm);
  }

  const size_t row_bytes = static_cast<size_t>(hp.n_embd) * sizeof(float);
  switch (pooling) {
    case Pooling::Cls:
    case Pooling::Last:
      be.download(cols(ws.x_, 0, n_seq), out, static_cast<size_t>(n_seq) * row_bytes);
      break;
    case Pooling::None:
      be.download(x, out, static_cast<size_t>(n) * row_bytes);
      break;
    case Pooling::Mean: {
      be.download(x, ws.hidden_host_.data(), static_cast<size_t>(n) * row_bytes);
      const int64_t E = hp.n_embd;
      for (int64_t s = 0, c0 = 0; s < n_seq; ++s) {
        const int64_t len = seq_lens[static_cast<size_t>(s)];
        // As llama.cpp: a weighted sum with weights 1/len (its mean-pooling matmul).
        const float wgt = 1.0f / static_cast<float>(len);
        float* dst = out + s * E;
        for (int64_t d = 0; d < E; ++d) dst[d] = 0.0f;
        for (int64_t j = 0; j < len; ++j) {
          const float* row = ws.hidden_host_.data() + (c0 + j) * E;
          for (int64_t d = 0; d < E; ++d) dst[d] += row[d] * wgt;
        }
        c0 += len;
      }
      break;
    }
  }
}

}  // namespace xnai::models
