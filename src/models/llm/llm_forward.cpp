// The forward pass shared by llama, qwen2 and qwen3, written with backend ops, and the
// workspace that holds its KV cache and activations. Per layer (pre-norm residual block):
//   h = rms_norm(x) · attn_norm
//   q, k, v = Wq·h (+bq), Wk·h (+bk), Wv·h (+bv)
//   qwen3: q, k = per-head rms_norm(q) · q_norm, rms_norm(k) · k_norm
//   q, k = rope(q), rope(k);  K/V cache rows [n_past, n_past+n) = k, v
//   x += Wo · attention(q, K, V)
//   x += W_down · (silu(W_gate · h') ⊙ (W_up · h')),  h' = rms_norm(x) · ffn_norm
// then logits = W_out · (rms_norm(x) · output_norm) for the rows asked for. As llama.cpp
// does, the last layer only finishes the rows whose logits are wanted.
#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "models/llm/llm.h"

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

// The same memory seen with another shape (same number of elements).
Tensor reshape(const Tensor& t, std::array<int64_t, 4> ne) {
  Tensor v = t;
  v.ne = ne;
  return v;
}

bool present(const Tensor& t) { return t.data != nullptr || t.buffer != 0; }

// LM-head rows computed per matmul when all logits are asked for: bounds the logits
// scratch to n_vocab × this many floats.
constexpr int64_t kLogitRows = 16;

}  // namespace

LlmWorkspace::LlmWorkspace(const LlmModel& model, int64_t n_ctx, int64_t n_batch, DType kv_type)
    : backend_(&model.backend()), n_ctx_(n_ctx), n_batch_(n_batch), kv_type_(kv_type) {
  if (kv_type != DType::F16 && kv_type != DType::F32)
    throw Error(ErrorKind::InvalidArgument,
                std::string("KV cache type must be f16 or f32, got ") + dtype_name(kv_type));
  if (n_ctx < 1 || n_batch < 1)
    throw Error(ErrorKind::InvalidArgument, "context size and batch size must be at least 1 (got n_ctx " +
                                                std::to_string(n_ctx) + ", n_batch " +
                                                std::to_string(n_batch) + ")");
  const LlmHParams& hp = model.hparams();
  n_logit_rows_ = std::min(n_batch, kLogitRows);
  auto& be = *backend_;
  try {
    for (int64_t il = 0; il < hp.n_layer; ++il) {
      const std::string s = std::to_string(il);
      k_cache_.push_back(be.alloc(kv_type, {hp.n_embd_kv(), n_ctx, 1, 1}, "cache_k." + s));
      v_cache_.push_back(be.alloc(kv_type, {hp.n_embd_kv(), n_ctx, 1, 1}, "cache_v." + s));
    }
    const int64_t B = n_batch;
    ids_ = be.alloc(DType::I32, {B, 1, 1, 1}, "ids");
    pos_ = be.alloc(DType::I32, {B, 1, 1, 1}, "pos");
    x_ = be.alloc(DType::F32, {hp.n_embd, B, 1, 1}, "x");
    h_ = be.alloc(DType::F32, {hp.n_embd, B, 1, 1}, "h");
    o_ = be.alloc(DType::F32, {hp.n_embd, B, 1, 1}, "o");
    q_ = be.alloc(DType::F32, {hp.n_embd_q(), B, 1, 1}, "q");
    k_ = be.alloc(DType::F32, {hp.n_embd_kv(), B, 1, 1}, "k");
    v_ = be.alloc(DType::F32, {hp.n_embd_kv(), B, 1, 1}, "v");
    if (hp.qk_norm) {
      qn_ = be.alloc(DType::F32, {hp.n_embd_q(), B, 1, 1}, "q_normed");
      kn_ = be.alloc(DType::F32, {hp.n_embd_kv(), B, 1, 1}, "k_normed");
    }
    attn_ = be.alloc(DType::F32, {hp.n_embd_q(), B, 1, 1}, "attn");
    gate_ = be.alloc(DType::F32, {hp.n_ff, B, 1, 1}, "ffn_gate");
    up_ = be.alloc(DType::F32, {hp.n_ff, B, 1, 1}, "ffn_up");
    act_ = be.alloc(DType::F32, {hp.n_ff, B, 1, 1}, "ffn_act");
    logits_ = be.alloc(DType::F32, {hp.n_vocab, n_logit_rows_, 1, 1}, "logits");
    pos_host_.resize(static_cast<size_t>(B));
  } catch (...) {
    release_all();
    throw;
  }
}

LlmWorkspace::~LlmWorkspace() { release_all(); }

void LlmWorkspace::release_all() {
  for (auto& t : k_cache_) backend_->release(t);
  for (auto& t : v_cache_) backend_->release(t);
  k_cache_.clear();
  v_cache_.clear();
  for (auto* t :
       {&ids_, &pos_, &x_, &h_, &o_, &q_, &qn_, &k_, &kn_, &v_, &attn_, &gate_, &up_, &act_, &logits_})
    if (present(*t)) backend_->release(*t);
}

template <class Attend>
void LlmModel::run_layers(LlmWorkspace& ws, int64_t n, int64_t first_logit, Attend&& attend) const {
  auto& be = *backend_;
  const LlmHParams& hp = hparams_;
  const LlmWeights& w = weights_;
  const Tensor ids_n = reshape(ws.ids_, {n, 1, 1, 1}), pos_n = reshape(ws.pos_, {n, 1, 1, 1});

  const int64_t hd = hp.head_dim;
  Tensor x = cols(ws.x_, 0, n), h = cols(ws.h_, 0, n);
  Tensor q = cols(ws.q_, 0, n), k = cols(ws.k_, 0, n), v = cols(ws.v_, 0, n), attn = cols(ws.attn_, 0, n);
  Tensor q3 = reshape(q, {hd, hp.n_head, n, 1}), k3 = reshape(k, {hd, hp.n_head_kv, n, 1});

  be.get_rows(w.tok_embd, ids_n, x);
  for (int64_t il = 0; il < hp.n_layer; ++il) {
    const LlmLayerWeights& L = w.layers[static_cast<size_t>(il)];
    be.rms_norm(x, L.attn_norm, hp.rms_eps, h);
    be.matmul(L.wq, h, q);
    be.matmul(L.wk, h, k);
    be.matmul(L.wv, h, v);
    if (hp.qkv_bias) {
      be.add(q, L.bq, q);
      be.add(k, L.bk, k);
      be.add(v, L.bv, v);
    }
    if (hp.qk_norm) {
      Tensor qn3 = reshape(cols(ws.qn_, 0, n), q3.ne), kn3 = reshape(cols(ws.kn_, 0, n), k3.ne);
      be.rms_norm(q3, L.q_norm, hp.rms_eps, qn3);
      be.rms_norm(k3, L.k_norm, hp.rms_eps, kn3);
      be.rope(qn3, pos_n, hp.rope, q3);
      be.rope(kn3, pos_n, hp.rope, k3);
    } else {
      be.rope(q3, pos_n, hp.rope, q3);
      be.rope(k3, pos_n, hp.rope, k3);
    }
    attend(il, q3, k, v, attn);

    // Rows [r0, n) continue; in the last layer only those whose logits are wanted.
    const int64_t r0 = il == hp.n_layer - 1 ? first_logit : 0;
    const int64_t m = n - r0;
    if (m == 0) return;
    Tensor xr = cols(ws.x_, r0, m), hr = cols(ws.h_, 0, m), orow = cols(ws.o_, 0, m);
    Tensor gr = cols(ws.gate_, 0, m), ur = cols(ws.up_, 0, m), ar = cols(ws.act_, 0, m);
    be.matmul(L.wo, cols(ws.attn_, r0, m), orow);
    be.add(xr, orow, xr);
    be.rms_norm(xr, L.ffn_norm, hp.rms_eps, hr);
    be.matmul(L.ffn_gate, hr, gr);
    be.matmul(L.ffn_up, hr, ur);
    be.silu_mul(gr, ur, ar);
    be.matmul(L.ffn_down, ar, orow);
    be.add(xr, orow, xr);
  }
  const int64_t n_out = n - first_logit;
  if (n_out == 0) return;
  Tensor hr = cols(ws.h_, 0, n_out);
  be.rms_norm(cols(ws.x_, first_logit, n_out), w.output_norm, hp.rms_eps, hr);
}

void LlmModel::forward(LlmWorkspace& ws, std::span<const int32_t> tokens, int64_t n_past, int64_t first_logit,
                       float* logits) const {
  auto& be = *backend_;
  const LlmHParams& hp = hparams_;
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (n < 1 || n > ws.n_batch_ || n_past < 0 || n_past + n > ws.n_ctx_ || first_logit < 0 || first_logit > n)
    throw Error(ErrorKind::Internal, "llm forward: " + std::to_string(n) + " tokens at position " +
                                         std::to_string(n_past) + " do not fit the workspace");

  for (int64_t i = 0; i < n; ++i) ws.pos_host_[static_cast<size_t>(i)] = static_cast<int32_t>(n_past + i);
  be.upload(ws.ids_, tokens.data(), static_cast<size_t>(n) * sizeof(int32_t));
  be.upload(ws.pos_, ws.pos_host_.data(), static_cast<size_t>(n) * sizeof(int32_t));

  compute::AttentionParams ap;
  ap.n_kv = n_past + n;
  ap.pos0 = n_past;
  ap.scale = 1.0f / std::sqrt(static_cast<float>(hp.head_dim));
  ap.causal = true;
  run_layers(ws, n, first_logit, [&](int64_t il, Tensor& q3, Tensor& k, Tensor& v, Tensor& attn) {
    be.copy_rows(k, ws.k_cache_[static_cast<size_t>(il)], n_past);
    be.copy_rows(v, ws.v_cache_[static_cast<size_t>(il)], n_past);
    be.attention(q3, ws.k_cache_[static_cast<size_t>(il)], ws.v_cache_[static_cast<size_t>(il)],
                 static_cast<int>(hp.n_head_kv), ap, attn);
  });

  const int64_t n_out = n - first_logit;
  const size_t row_bytes = static_cast<size_t>(hp.n_vocab) * sizeof(float);
  for (int64_t r = 0; r < n_out; r += ws.n_logit_rows_) {
    const int64_t m = std::min(ws.n_logit_rows_, n_out - r);
    Tensor out = cols(ws.logits_, 0, m);
    be.matmul(weights_.output, cols(ws.h_, r, m), out);
    be.download(out, logits + r * hp.n_vocab, static_cast<size_t>(m) * row_bytes);
  }
}

void LlmModel::forward_batch(LlmWorkspace& scratch, std::span<LlmWorkspace* const> seqs,
                             std::span<const int32_t> tokens, std::span<const int64_t> n_past,
                             std::span<float* const> logits) const {
  auto& be = *backend_;
  const LlmHParams& hp = hparams_;
  const int64_t n = static_cast<int64_t>(seqs.size());
  bool fits = n >= 1 && n <= scratch.n_batch_ && tokens.size() == seqs.size() && n_past.size() == seqs.size() &&
              logits.size() == seqs.size();
  for (int64_t i = 0; fits && i < n; ++i)
    fits = n_past[static_cast<size_t>(i)] >= 0 && n_past[static_cast<size_t>(i)] < seqs[static_cast<size_t>(i)]->n_ctx_;
  if (!fits)
    throw Error(ErrorKind::Internal, "llm forward_batch: " + std::to_string(n) +
                                         " sequences do not fit the scratch workspace or their caches");

  for (int64_t i = 0; i < n; ++i) scratch.pos_host_[static_cast<size_t>(i)] = static_cast<int32_t>(n_past[static_cast<size_t>(i)]);
  be.upload(scratch.ids_, tokens.data(), static_cast<size_t>(n) * sizeof(int32_t));
  be.upload(scratch.pos_, scratch.pos_host_.data(), static_cast<size_t>(n) * sizeof(int32_t));

  const int64_t hd = hp.head_dim;
  compute::AttentionParams ap;
  ap.scale = 1.0f / std::sqrt(static_cast<float>(hd));
  ap.causal = true;
  run_layers(scratch, n, 0, [&](int64_t il, Tensor&, Tensor& k, Tensor& v, Tensor&) {
    for (int64_t i = 0; i < n; ++i) {
      LlmWorkspace& seq = *seqs[static_cast<size_t>(i)];
      const int64_t pos = n_past[static_cast<size_t>(i)];
      Tensor& kc = seq.k_cache_[static_cast<size_t>(il)];
      Tensor& vc = seq.v_cache_[static_cast<size_t>(il)];
      be.copy_rows(cols(k, i, 1), kc, pos);
      be.copy_rows(cols(v, i, 1), vc, pos);
      Tensor q3 = reshape(cols(scratch.q_, i, 1), {hd, hp.n_head, 1, 1});
      Tensor out = cols(scratch.attn_, i, 1);
      ap.n_kv = pos + 1;
      ap.pos0 = pos;
      be.attention(q3, kc, vc, static_cast<int>(hp.n_head_kv), ap, out);
    }
  });

  const size_t row_bytes = static_cast<size_t>(hp.n_vocab) * sizeof(float);
  for (int64_t r = 0; r < n; r += scratch.n_logit_rows_) {
    const int64_t m = std::min(scratch.n_logit_rows_, n - r);
    Tensor out = cols(scratch.logits_, 0, m);
    be.matmul(weights_.output, cols(scratch.h_, r, m), out);
    for (int64_t j = 0; j < m; ++j)
      be.download(out, logits[static_cast<size_t>(r + j)], row_bytes, static_cast<size_t>(j) * row_bytes);
  }
}

}  // namespace xnai::models
