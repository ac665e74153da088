// iSTFTNet decoder front (spec §2.7): F0/N downsampling convs, encode block, decode blocks
// with [x, asr_res, F0, N] concatenated before each block up to the upsampling one.
#include "core/error.h"
#include "models/kokoro/kokoro_internal.h"

namespace xnai::models::kokoro {
namespace {

Mat concat_rows(std::initializer_list<const Mat*> parts) {
  int64_t rows = 0;
  const int64_t cols = (*parts.begin())->cols;
  for (const Mat* m : parts) {
    if (m->cols != cols) throw Error(ErrorKind::Internal, "Kokoro decoder: time lengths differ in a concat");
    rows += m->rows;
  }
  Mat y(rows, cols);
  size_t at = 0;
  for (const Mat* m : parts) {
    std::copy(m->v.begin(), m->v.end(), y.v.begin() + at);
    at += m->v.size();
  }
  return y;
}

}  // namespace

Mat decoder_forward(const Weights& w, const Mat& asr, std::span<const float> F0_curve,
                    std::span<const float> N_curve, std::span<const float> s, Mat* dec_encode) {
  Mat f0c(1, static_cast<int64_t>(F0_curve.size())), nc(1, static_cast<int64_t>(N_curve.size()));
  std::copy(F0_curve.begin(), F0_curve.end(), f0c.v.begin());
  std::copy(N_curve.begin(), N_curve.end(), nc.v.begin());
  const Mat F0 = conv1d(f0c, w.get("decoder.F0_conv.weight"), w.find("decoder.F0_conv.bias"), 2, 1, 1);
  const Mat N = conv1d(nc, w.get("decoder.N_conv.weight"), w.find("decoder.N_conv.bias"), 2, 1, 1);
  if (F0.cols != asr.cols || N.cols != asr.cols)
    throw Error(ErrorKind::InvalidArgument, "Kokoro decoder: F0/N curves of " +
                                                std::to_string(F0_curve.size()) + " values do not match " +
                                                std::to_string(asr.cols) + " frames");
  Mat x = adain_res_blk1d(concat_rows({&asr, &F0, &N}), s, w, "decoder.encode", false);
  if (dec_encode) *dec_encode = x;
  const Mat res = conv1d(asr, w.get("decoder.asr_res.0.weight"), w.find("decoder.asr_res.0.bias"), 1, 0, 1);
  bool concat = true;
  for (int b = 0;; ++b) {
    const std::string p = "decoder.decode." + std::to_string(b);
    if (!w.has(p + ".conv1.weight")) break;
    const bool up = w.has(p + ".pool.weight");
    if (concat) x = concat_rows({&x, &res, &F0, &N});
    x = adain_res_blk1d(x, s, w, p, up);
    if (up) concat = false;
  }
  return x;
}

}  // namespace xnai::models::kokoro
