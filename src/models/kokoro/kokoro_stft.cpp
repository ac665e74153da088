// STFT / iSTFT of TorchSTFT (spec §2.12): periodic Hann, center=True with reflect padding,
// one-sided; the inverse divides by the summed squared window. Computed in double: n_fft
// is 20, so a direct DFT (on a precomputed basis) is as cheap as an FFT and exact to rounding.
#include <cmath>

#include "core/error.h"
#include "models/kokoro/kokoro.h"
#include "models/kokoro/parallel.h"

namespace xnai::models::kokoro {
namespace {

std::vector<double> hann(int n) {
  std::vector<double> w(n);
  for (int i = 0; i < n; ++i) w[i] = 0.5 - 0.5 * std::cos(2.0 * M_PI * i / n);
  return w;
}

}  // namespace

Mat stft_mag_phase(std::span<const float> x, int n_fft, int hop) {
  const int64_t L = static_cast<int64_t>(x.size()), pad = n_fft / 2;
  if (L <= pad)
    throw Error(ErrorKind::InvalidArgument,
                "STFT: signal of " + std::to_string(L) + " samples is too short for reflect padding");
  const int bins = n_fft / 2 + 1;
  const int64_t frames = L / hop + 1;
  const std::vector<double> w = hann(n_fft);
  std::vector<double> cs(n_fft * bins), sn(n_fft * bins);
  for (int k = 0; k < bins; ++k)
    for (int n = 0; n < n_fft; ++n) {
      cs[k * n_fft + n] = std::cos(2.0 * M_PI * k * n / n_fft);
      sn[k * n_fft + n] = std::sin(2.0 * M_PI * k * n / n_fft);
    }
  auto sample = [&](int64_t i) -> double {  // padded index -> reflect
    int64_t j = i - pad;
    if (j < 0) j = -j;
    if (j >= L) j = 2 * (L - 1) - j;
    return x[j];
  };
  Mat out(2 * bins, frames);
  parallel_for(frames, double(frames) * n_fft * bins * 8, [&](int64_t m0, int64_t m1) {
    std::vector<double> fr(n_fft);
    for (int64_t m = m0; m < m1; ++m) {
      for (int n = 0; n < n_fft; ++n) fr[n] = w[n] * sample(m * hop + n);
      for (int k = 0; k < bins; ++k) {
        double re = 0, im = 0;
        for (int n = 0; n < n_fft; ++n) {
          re += fr[n] * cs[k * n_fft + n];
          im -= fr[n] * sn[k * n_fft + n];
        }
        // DC and Nyquist bins of a real FFT have an exactly zero imaginary part, so their
        // phase is exactly 0 or +pi (never -pi): the generator reads phases linearly.
        if (k == 0 || 2 * k == n_fft) im = 0.0;
        out.at(k, m) = static_cast<float>(std::sqrt(re * re + im * im));
        out.at(bins + k, m) = static_cast<float>(std::atan2(im, re));
      }
    }
  });
  return out;
}

std::vector<float> istft_from_post(const Mat& post, int n_fft, int hop) {
  const int bins = n_fft / 2 + 1;
  if (post.rows != 2 * bins)
    throw Error(ErrorKind::InvalidArgument,
                "iSTFT: expected " + std::to_string(2 * bins) + " rows, got " + std::to_string(post.rows));
  const int64_t frames = post.cols, pad = n_fft / 2;
  const int64_t total = n_fft + hop * (frames - 1);
  const std::vector<double> w = hann(n_fft);
  // The inverse DFT's basis, once: cos/sin of 2πkn/N for the interior bins.
  std::vector<double> cs(static_cast<size_t>(n_fft * bins)), sn(static_cast<size_t>(n_fft * bins));
  for (int n = 0; n < n_fft; ++n)
    for (int k = 0; k < bins; ++k) {
      const double a = 2.0 * M_PI * k * n / n_fft;
      cs[n * bins + k] = std::cos(a);
      sn[n * bins + k] = std::sin(a);
    }
  // Each frame's windowed inverse DFT is independent: computed in parallel into wy, then
  // overlap-added in frame order (the same sums, in the same order, as frame by frame).
  std::vector<double> wy(static_cast<size_t>(frames * n_fft));
  parallel_for(frames, double(frames) * n_fft * bins * 8, [&](int64_t m0, int64_t m1) {
    std::vector<double> re(bins), im(bins);
    for (int64_t m = m0; m < m1; ++m) {
      for (int k = 0; k < bins; ++k) {
        // Same float32 rounding as the reference: spec = exp(x) and phase = sin(x) are float tensors.
        const float mag = std::exp(post.at(k, m));
        const float ph = std::sin(post.at(bins + k, m));
        re[k] = static_cast<double>(mag) * std::cos(static_cast<double>(ph));
        im[k] = static_cast<double>(mag) * std::sin(static_cast<double>(ph));
      }
      for (int n = 0; n < n_fft; ++n) {
        double acc = re[0] + ((n % 2) ? -re[bins - 1] : re[bins - 1]);
        for (int k = 1; k < bins - 1; ++k) acc += 2.0 * (re[k] * cs[n * bins + k] - im[k] * sn[n * bins + k]);
        wy[m * n_fft + n] = w[n] * (acc / n_fft);
      }
    }
  });
  std::vector<double> num(total, 0.0), den(total, 0.0);
  for (int64_t m = 0; m < frames; ++m)
    for (int n = 0; n < n_fft; ++n) {
      num[m * hop + n] += wy[m * n_fft + n];
      den[m * hop + n] += w[n] * w[n];
    }
  const int64_t L = hop * (frames - 1);
  std::vector<float> out(L);
  for (int64_t t = 0; t < L; ++t) out[t] = static_cast<float>(num[t + pad] / den[t + pad]);
  return out;
}

}  // namespace xnai::models::kokoro
