// iSTFTNet generator body (spec §2.10): per stage LeakyReLU(0.1), the noise branch from the
// harmonic spectrogram, transposed-conv upsampling, mean of the AdaIN resblocks; then
// LeakyReLU(0.01) and conv_post. The iSTFT is in kokoro_stft.cpp.
#include "core/error.h"
#include "models/kokoro/kokoro_internal.h"
#include "models/kokoro/parallel.h"

namespace xnai::models::kokoro {

// Memory: the last stage's [C, S] activations dominate a long utterance, so at most four
// of them live at once (the stage input x, the running sum of the resblocks, the block
// being computed and its conv intermediate); every other buffer is freed once read.
Mat generator_body(const KokoroConfig& c, const Weights& w, Mat x, std::span<const float> s, Mat har) {
  const std::string g = "decoder.generator.";
  const size_t stages = c.upsample_rates.size();
  const size_t nk = c.resblock_kernels.size();
  Mat scratch;  // the resblocks' conv intermediate, shared by every block of the body
  for (size_t i = 0; i < stages; ++i) {
    leaky_relu(x, 0.1f);
    const std::string is = std::to_string(i);
    const bool last = i + 1 == stages;
    Mat xs;
    if (!last) {
      int64_t sf = 1;
      for (size_t r = i + 1; r < stages; ++r) sf *= c.upsample_rates[r];
      xs = conv1d(har, w.get(g + "noise_convs." + is + ".weight"), w.find(g + "noise_convs." + is + ".bias"),
                  static_cast<int>(sf), static_cast<int>((sf + 1) / 2), 1);
      xs = adain_res_block1(std::move(xs), s, w, g + "noise_res." + is, 7, {1, 3, 5}, &scratch);
    } else {
      xs = conv1d(har, w.get(g + "noise_convs." + is + ".weight"), w.find(g + "noise_convs." + is + ".bias"),
                  1, 0, 1);
      har = Mat();
      xs = adain_res_block1(std::move(xs), s, w, g + "noise_res." + is, 11, {1, 3, 5}, &scratch);
    }
    const int64_t u = c.upsample_rates[i], k = c.upsample_kernels[i];
    Mat up = conv_transpose1d(x, w.get(g + "ups." + is + ".weight"), w.find(g + "ups." + is + ".bias"),
                              static_cast<int>(u), static_cast<int>((k - u) / 2), 0);
    x = Mat();
    // The last stage's ReflectionPad1d((1, 0)): column 0 repeats column 1.
    const int64_t shift = last ? 1 : 0;
    if (up.rows != xs.rows || up.cols + shift != xs.cols || (last && up.cols < 2))
      throw Error(ErrorKind::InvalidArgument, "Kokoro generator: stage " + is + " source branch is [" +
                                                  std::to_string(xs.rows) + "," + std::to_string(xs.cols) +
                                                  "], upsampled input [" + std::to_string(up.rows) + "," +
                                                  std::to_string(up.cols + shift) + "]");
    // x = pad(up) + xs, summed into xs's buffer (a + b == b + a bit for bit).
    parallel_for(xs.rows, 32.0 * double(xs.v.size()), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const float* ur = up.row(r);
        float* xr = xs.row(r);
        if (last) xr[0] = ur[1] + xr[0];
        for (int64_t t = 0; t < up.cols; ++t) xr[t + shift] = ur[t] + xr[t + shift];
      }
    });
    up = Mat();
    x = std::move(xs);
    Mat sum;
    for (size_t j = 0; j < nk; ++j) {
      // The last block may consume x: nothing reads it afterwards.
      Mat r = adain_res_block1(j + 1 == nk ? std::move(x) : x, s, w,
                               g + "resblocks." + std::to_string(i * nk + j),
                               static_cast<int>(c.resblock_kernels[j]), c.resblock_dilations[j], &scratch);
      if (j == 0) {
        sum = std::move(r);
        continue;
      }
      // The mean's division is folded into the last addition: (a + b) / n either way.
      const float* rv = r.v.data();
      const float* base = sum.v.data();
      const bool divide = j + 1 == nk;
      const float n = static_cast<float>(nk);
      for_each_span(sum.v.data(), static_cast<int64_t>(sum.v.size()), [&](float* p, int64_t len) {
        const float* q = rv + (p - base);
        if (divide)
          for (int64_t i = 0; i < len; ++i) p[i] = (p[i] + q[i]) / n;
        else
          for (int64_t i = 0; i < len; ++i) p[i] += q[i];
      });
    }
    x = std::move(sum);
  }
  scratch = Mat();
  leaky_relu(x, 0.01f);
  const Param& pw = w.get(g + "conv_post.weight");
  return conv1d(x, pw, w.find(g + "conv_post.bias"), 1, static_cast<int>(pw.dim(2) / 2), 1);
}

}  // namespace xnai::models::kokoro
