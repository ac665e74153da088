// Prosody predictor (spec §2.3–2.5): the duration encoder (BiLSTM + AdaLayerNorm with the
// style appended to every time step) and F0/N heads made of AdainResBlk1d blocks.
#include "core/error.h"
#include "models/kokoro/kokoro_internal.h"

namespace xnai::models::kokoro {
namespace {

Mat append_style(const Mat& x, std::span<const float> s) {  // [T, C] -> [T, C + style]
  const int64_t S = static_cast<int64_t>(s.size());
  Mat y(x.rows, x.cols + S);
  for (int64_t t = 0; t < x.rows; ++t) {
    std::copy(x.row(t), x.row(t) + x.cols, y.row(t));
    std::copy(s.begin(), s.end(), y.row(t) + x.cols);
  }
  return y;
}

}  // namespace

Mat duration_encoder_forward(const KokoroConfig& c, const Weights& w, const Mat& d_en,
                             std::span<const float> s) {
  Mat x = append_style(d_en, s);
  for (int64_t l = 0; l < c.n_layer; ++l) {
    Mat y = bilstm(x, w, "predictor.text_encoder.lstms." + std::to_string(2 * l) + ".");
    const std::string ap = "predictor.text_encoder.lstms." + std::to_string(2 * l + 1);
    const std::vector<float> h = linear_vec(s, w.get(ap + ".fc.weight"), w.get(ap + ".fc.bias"));
    const int64_t C = y.cols;
    if (static_cast<int64_t>(h.size()) != 2 * C)
      throw Error(ErrorKind::InvalidFormat, w.source + ": " + ap + ".fc does not match the LSTM width");
    layer_norm_rows(y, nullptr, nullptr, 1e-5f);
    for (int64_t t = 0; t < y.rows; ++t)
      for (int64_t k = 0; k < C; ++k) y.at(t, k) = (1.f + h[k]) * y.at(t, k) + h[C + k];
    x = append_style(y, s);
  }
  return x;
}

void f0n_forward(const Weights& w, const Mat& en, std::span<const float> s, std::vector<float>& F0,
                 std::vector<float>& N, Mat* shared_out) {
  const Mat shared = bilstm(transpose(en), w, "predictor.shared.");
  if (shared_out) *shared_out = shared;
  const Mat x = transpose(shared);
  auto head = [&](const std::string& name) {
    Mat h = x;
    for (int b = 0; b < 3; ++b) {
      const std::string p = "predictor." + name + "." + std::to_string(b);
      h = adain_res_blk1d(h, s, w, p, w.has(p + ".pool.weight"));
    }
    h = conv1d(h, w.get("predictor." + name + "_proj.weight"), w.find("predictor." + name + "_proj.bias"), 1,
               0, 1);
    return h.v;
  };
  F0 = head("F0");
  N = head("N");
}

}  // namespace xnai::models::kokoro
