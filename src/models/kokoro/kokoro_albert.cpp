// PL-BERT: transformers' AlbertModel last_hidden_state (spec §2.1): factorised embedding,
// one shared post-LN layer applied num_hidden_layers times, gelu_new.
#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "models/kokoro/kokoro_internal.h"
#include "models/kokoro/kokoro_simd.h"
#include "models/kokoro/parallel.h"

namespace xnai::models::kokoro {

namespace {

// The shared layer's six linears. ALBERT runs the same layer bert_layers times per
// synthesis, so with the direct conv kernel their weights are packed once, here.
class SharedLayer {
 public:
  SharedLayer(const Weights& w, const std::string& prefix)
      : q_(w, prefix + "attention.query"),
        k_(w, prefix + "attention.key"),
        v_(w, prefix + "attention.value"),
        dense_(w, prefix + "attention.dense"),
        ffn_(w, prefix + "ffn"),
        out_(w, prefix + "ffn_output") {}
  Mat query(const Mat& x) const { return q_(x); }
  Mat key(const Mat& x) const { return k_(x); }
  Mat value(const Mat& x) const { return v_(x); }
  Mat dense(const Mat& x) const { return dense_(x); }
  Mat ffn(const Mat& x) const { return ffn_(x); }
  Mat ffn_output(const Mat& x) const { return out_(x); }

 private:
  // The weights were packed at load (pack_conv_weights_in_place): linear() reads them as
  // they are, 12 times per synthesis.
  struct Linear {
    Linear(const Weights& w, const std::string& name)
        : weight(w.get(name + ".weight")), bias(w.get(name + ".bias")) {}
    Mat operator()(const Mat& x) const { return linear(x, weight, &bias); }
    const Param& weight;
    const Param& bias;
  };
  Linear q_, k_, v_, dense_, ffn_, out_;
};

// Softmax attention of one head (columns [c0, c0 + hd) of q, k, v) into ctx.
void attend_head(const Mat& q, const Mat& k, const Mat& v, int64_t c0, int64_t hd, float scale,
                 std::vector<float>& p, Mat& ctx) {
  const int64_t T = q.rows;
  for (int64_t i = 0; i < T; ++i) {
    const float* qi = q.row(i) + c0;
    float mx = -INFINITY;
    for (int64_t j = 0; j < T; ++j) {
      const float* kj = k.row(j) + c0;
      p[j] = dot16(qi, kj, hd) * scale;
      mx = std::max(mx, p[j]);
    }
    float sum = 0.f;
    for (int64_t j = 0; j < T; ++j) sum += (p[j] = std::exp(p[j] - mx));
    float* out = ctx.row(i) + c0;
    std::fill(out, out + hd, 0.f);
    for (int64_t j = 0; j < T; ++j) {
      const float* vj = v.row(j) + c0;
      const float pj = p[j];
      for (int64_t d = 0; d < hd; ++d) out[d] += pj * vj[d];
    }
    const float inv = 1.f / sum;
    for (int64_t d = 0; d < hd; ++d) out[d] *= inv;
  }
}

// transformers' gelu_new (the tanh approximation), vectorised (kokoro_simd.h; libm's tanh
// took an eighth of ALBERT's time) and split over the pool by rows.
void gelu_new(Mat& f) {
  parallel_for(f.rows, double(f.v.size()) * 40,
               [&](int64_t r0, int64_t r1) { simd::gelu_tanh(f.row(r0), f.row(r0), (r1 - r0) * f.cols); });
}

}  // namespace

Mat albert_forward(const KokoroConfig& c, const Weights& w, std::span<const int64_t> ids) {
  const int64_t T = static_cast<int64_t>(ids.size());
  const Param& word = w.get("bert.embeddings.word_embeddings.weight");
  const Param& pos = w.get("bert.embeddings.position_embeddings.weight");
  const Param& type = w.get("bert.embeddings.token_type_embeddings.weight");
  const int64_t E = word.dim(1);
  if (T > pos.dim(0))
    throw Error(
        ErrorKind::InvalidArgument,
        "Kokoro: " + std::to_string(T) + " tokens exceed the context of " + std::to_string(pos.dim(0)));
  Mat e(T, E);
  for (int64_t t = 0; t < T; ++t) {
    if (ids[t] < 0 || ids[t] >= word.dim(0))
      throw Error(ErrorKind::InvalidArgument, "Kokoro: token id " + std::to_string(ids[t]) + " out of range");
    for (int64_t k = 0; k < E; ++k)
      e.at(t, k) = word.data[ids[t] * E + k] + pos.data[t * E + k] + type.data[k];
  }
  layer_norm_rows(e, w.get("bert.embeddings.LayerNorm.weight").data.data(),
                  w.get("bert.embeddings.LayerNorm.bias").data.data(), 1e-12f);
  Mat h = linear(e, w.get("bert.encoder.embedding_hidden_mapping_in.weight"),
                 &w.get("bert.encoder.embedding_hidden_mapping_in.bias"));
  const std::string L = "bert.encoder.albert_layer_groups.0.albert_layers.0.";
  const int64_t D = h.cols, nh = c.bert_heads, hd = D / nh;
  if (hd * nh != D) throw Error(ErrorKind::InvalidFormat, "Kokoro: hidden size not divisible by the heads");
  const float scale = 1.f / std::sqrt(static_cast<float>(hd));
  const SharedLayer layer(w, L);
  for (int64_t n = 0; n < c.bert_layers; ++n) {
    const Mat q = layer.query(h), k = layer.key(h), v = layer.value(h);
    Mat ctx(T, D);
    parallel_for(nh, double(nh) * T * T * hd * 2, [&](int64_t h0, int64_t h1) {
      std::vector<float> p(T);
      for (int64_t head = h0; head < h1; ++head) attend_head(q, k, v, head * hd, hd, scale, p, ctx);
    });
    Mat a = layer.dense(ctx);
    for (size_t i = 0; i < a.v.size(); ++i) a.v[i] += h.v[i];
    layer_norm_rows(a, w.get(L + "attention.LayerNorm.weight").data.data(),
                    w.get(L + "attention.LayerNorm.bias").data.data(), 1e-12f);
    Mat f = layer.ffn(a);
    gelu_new(f);
    f = layer.ffn_output(f);
    for (size_t i = 0; i < f.v.size(); ++i) f.v[i] += a.v[i];
    layer_norm_rows(f, w.get(L + "full_layer_layer_norm.weight").data.data(),
                    w.get(L + "full_layer_layer_norm.bias").data.data(), 1e-12f);
    h = std::move(f);
  }
  return h;
}

}  // namespace xnai::models::kokoro
