// Text encoder (spec §2.6): embedding, n_layer x (weight-normed conv, channel LayerNorm,
// LeakyReLU 0.2), BiLSTM. Output t_en [d_hid, T].
#include "core/error.h"
#include "models/kokoro/kokoro_internal.h"

namespace xnai::models::kokoro {

Mat text_encoder_forward(const KokoroConfig& c, const Weights& w, std::span<const int64_t> ids) {
  const Param& emb = w.get("text_encoder.embedding.weight");
  const int64_t T = static_cast<int64_t>(ids.size()), C = emb.dim(1);
  Mat x(C, T);
  for (int64_t t = 0; t < T; ++t) {
    if (ids[t] < 0 || ids[t] >= emb.dim(0))
      throw Error(ErrorKind::InvalidArgument, "Kokoro: token id " + std::to_string(ids[t]) + " out of range");
    for (int64_t k = 0; k < C; ++k) x.at(k, t) = emb.data[ids[t] * C + k];
  }
  for (int64_t l = 0; l < c.n_layer; ++l) {
    const std::string p = "text_encoder.cnn." + std::to_string(l);
    const Param& cw = w.get(p + ".0.weight");
    x = conv1d(x, cw, w.find(p + ".0.bias"), 1, static_cast<int>(cw.dim(2) / 2), 1);
    Mat xt = transpose(x);
    layer_norm_rows(xt, w.get(p + ".1.gamma").data.data(), w.get(p + ".1.beta").data.data(), 1e-5f);
    leaky_relu(xt, 0.2f);
    x = transpose(xt);
  }
  return transpose(bilstm(transpose(x), w, "text_encoder.lstm."));
}

}  // namespace xnai::models::kokoro
