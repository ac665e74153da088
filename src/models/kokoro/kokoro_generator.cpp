// iSTFTNet generator body (spec §2.10): per stage LeakyReLU(0.1), the noise branch from the
// harmonic spectrogram, transposed-conv upsampling, mean of the AdaIN resblocks; then
// LeakyReLU(0.01) and conv_post. The iSTFT is in kokoro_stft.cpp.
#include "core/error.h"
#include "models/kokoro/kokoro_internal.h"

namespace xnai::models::kokoro {

Mat generator_body(const KokoroConfig& c, const Weights& w, const Mat& x_in, std::span<const float> s,
                   const Mat& har) {
  const std::string g = "decoder.generator.";
  const size_t stages = c.upsample_rates.size();
  const size_t nk = c.resblock_kernels.size();
  Mat x = x_in;
  for (size_t i = 0; i < stages; ++i) {
    leaky_relu(x, 0.1f);
    const std::string is = std::to_string(i);
    Mat xs;
    if (i + 1 < stages) {
      int64_t sf = 1;
      for (size_t r = i + 1; r < stages; ++r) sf *= c.upsample_rates[r];
      xs = conv1d(har, w.get(g + "noise_convs." + is + ".weight"), w.find(g + "noise_convs." + is + ".bias"),
                  static_cast<int>(sf), static_cast<int>((sf + 1) / 2), 1);
      xs = adain_res_block1(xs, s, w, g + "noise_res." + is, 7, {1, 3, 5});
    } else {
      xs = conv1d(har, w.get(g + "noise_convs." + is + ".weight"), w.find(g + "noise_convs." + is + ".bias"),
                  1, 0, 1);
      xs = adain_res_block1(xs, s, w, g + "noise_res." + is, 11, {1, 3, 5});
    }
    const int64_t u = c.upsample_rates[i], k = c.upsample_kernels[i];
    x = conv_transpose1d(x, w.get(g + "ups." + is + ".weight"), w.find(g + "ups." + is + ".bias"),
                         static_cast<int>(u), static_cast<int>((k - u) / 2), 0);
    if (i + 1 == stages) {  // ReflectionPad1d((1, 0))
      Mat p(x.rows, x.cols + 1);
      for (int64_t r = 0; r < x.rows; ++r) {
        p.at(r, 0) = x.at(r, 1);
        std::copy(x.row(r), x.row(r) + x.cols, p.row(r) + 1);
      }
      x = std::move(p);
    }
    if (x.rows != xs.rows || x.cols != xs.cols)
      throw Error(ErrorKind::InvalidArgument, "Kokoro generator: stage " + is + " source branch is [" +
                                                  std::to_string(xs.rows) + "," + std::to_string(xs.cols) +
                                                  "], upsampled input [" + std::to_string(x.rows) + "," +
                                                  std::to_string(x.cols) + "]");
    for (size_t q = 0; q < x.v.size(); ++q) x.v[q] += xs.v[q];
    Mat sum;
    for (size_t j = 0; j < nk; ++j) {
      Mat r = adain_res_block1(x, s, w, g + "resblocks." + std::to_string(i * nk + j),
                               static_cast<int>(c.resblock_kernels[j]), c.resblock_dilations[j]);
      if (j == 0)
        sum = std::move(r);
      else
        for (size_t q = 0; q < sum.v.size(); ++q) sum.v[q] += r.v[q];
    }
    for (float& v : sum.v) v /= static_cast<float>(nk);
    x = std::move(sum);
  }
  leaky_relu(x, 0.01f);
  const Param& pw = w.get(g + "conv_post.weight");
  return conv1d(x, pw, w.find(g + "conv_post.bias"), 1, static_cast<int>(pw.dim(2) / 2), 1);
}

}  // namespace xnai::models::kokoro
