// PL-BERT: transformers' AlbertModel last_hidden_state (spec §2.1): factorised embedding,
// one shared post-LN layer applied num_hidden_layers times, gelu_new.
#include <cmath>

#include "core/error.h"
#include "models/kokoro/kokoro_internal.h"

namespace xnai::models::kokoro {

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
  for (int64_t layer = 0; layer < c.bert_layers; ++layer) {
    const Mat q = linear(h, w.get(L + "attention.query.weight"), &w.get(L + "attention.query.bias"));
    const Mat k = linear(h, w.get(L + "attention.key.weight"), &w.get(L + "attention.key.bias"));
    const Mat v = linear(h, w.get(L + "attention.value.weight"), &w.get(L + "attention.value.bias"));
    Mat ctx(T, D);
    std::vector<float> p(T);
    for (int64_t head = 0; head < nh; ++head) {
      for (int64_t i = 0; i < T; ++i) {
        float mx = -INFINITY;
        for (int64_t j = 0; j < T; ++j) {
          float acc = 0.f;
          for (int64_t d = 0; d < hd; ++d) acc += q.at(i, head * hd + d) * k.at(j, head * hd + d);
          p[j] = acc * scale;
          mx = std::max(mx, p[j]);
        }
        float sum = 0.f;
        for (int64_t j = 0; j < T; ++j) sum += (p[j] = std::exp(p[j] - mx));
        for (int64_t d = 0; d < hd; ++d) {
          float acc = 0.f;
          for (int64_t j = 0; j < T; ++j) acc += p[j] * v.at(j, head * hd + d);
          ctx.at(i, head * hd + d) = acc / sum;
        }
      }
    }
    Mat a = linear(ctx, w.get(L + "attention.dense.weight"), &w.get(L + "attention.dense.bias"));
    for (size_t i = 0; i < a.v.size(); ++i) a.v[i] += h.v[i];
    layer_norm_rows(a, w.get(L + "attention.LayerNorm.weight").data.data(),
                    w.get(L + "attention.LayerNorm.bias").data.data(), 1e-12f);
    Mat f = linear(a, w.get(L + "ffn.weight"), &w.get(L + "ffn.bias"));
    const float k0 = std::sqrt(2.f / static_cast<float>(M_PI));
    for (float& x : f.v) x = 0.5f * x * (1.f + std::tanh(k0 * (x + 0.044715f * x * x * x)));
    f = linear(f, w.get(L + "ffn_output.weight"), &w.get(L + "ffn_output.bias"));
    for (size_t i = 0; i < f.v.size(); ++i) f.v[i] += a.v[i];
    layer_norm_rows(f, w.get(L + "full_layer_layer_norm.weight").data.data(),
                    w.get(L + "full_layer_layer_norm.bias").data.data(), 1e-12f);
    h = std::move(f);
  }
  return h;
}

}  // namespace xnai::models::kokoro
