// Harmonic source of the generator (spec §2.11): SineGen with its float32 interpolation
// and cumsum behaviour reproduced, the noise switch, and the tanh-merged l_linear.
#include <cmath>

#include "core/error.h"
#include "models/kokoro/kokoro_internal.h"
#include "models/kokoro/parallel.h"

namespace xnai::models::kokoro {
namespace {

constexpr int kHarmonics = 9;
constexpr float kSineAmp = 0.1f, kNoiseStd = 0.003f, kVoicedThreshold = 10.f;

uint64_t splitmix(uint64_t seed, uint64_t k) {
  uint64_t z = seed + k + 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// The conformance data's Gaussian: Box-Muller on two counter-based uniforms per element.
float splitmix_normal(uint64_t seed, uint64_t i) {
  const double u0 = static_cast<double>(splitmix(seed, 2 * i) >> 11) * 0x1p-53;
  const double u1 = static_cast<double>(splitmix(seed, 2 * i + 1) >> 11) * 0x1p-53;
  return static_cast<float>(std::sqrt(-2.0 * std::log1p(-u0)) * std::cos(2.0 * M_PI * u1));
}

// Production noise (NoiseMode::Normal), which only has to be Gaussian: float Box-Muller
// with both outputs used, pair j from two counter-based uniforms, so sample t's 9 values
// are those of pairs 5t .. 5t + 4 (the tenth is dropped). About a third of the cost of the
// double-precision draw above, which held the source at two thirds of its time.
void fast_normals(uint64_t seed, int64_t t, float* out) {
  constexpr int kPairs = (kHarmonics + 1) / 2;
  for (int q = 0; q < kPairs; ++q) {
    const uint64_t j = static_cast<uint64_t>(t) * kPairs + q;
    // 24-bit uniforms: u0 in (0, 1] keeps the logarithm finite.
    const float u0 = static_cast<float>((splitmix(seed, 2 * j) >> 40) + 1) * 0x1p-24f;
    const float u1 = static_cast<float>(splitmix(seed, 2 * j + 1) >> 40) * 0x1p-24f;
    const float r = std::sqrt(-2.f * std::log(u0));
    const float a = 2.f * static_cast<float>(M_PI) * u1;
    out[2 * q] = r * std::cos(a);
    if (2 * q + 1 < kHarmonics) out[2 * q + 1] = r * std::sin(a);
  }
}

}  // namespace

SourceSignals source_forward(const KokoroConfig& c, const Weights& w, std::span<const float> f0_curve,
                             NoiseMode noise, uint64_t seed) {
  int64_t up = c.hop;
  for (int64_t r : c.upsample_rates) up *= r;  // 300 samples per F0 value
  const int64_t n = static_cast<int64_t>(f0_curve.size()), L = n * up;
  const float sr = static_cast<float>(KokoroModel::kSampleRate);
  // Steps 1-5: the downsampled rad values are those of each F0 frame; cumsum runs in double
  // and rounds each partial sum to float32 (PyTorch CPU).
  std::vector<float> P(static_cast<size_t>(n * kHarmonics));
  for (int h = 0; h < kHarmonics; ++h) {
    double acc = 0;
    for (int64_t j = 0; j < n; ++j) {
      const float fn = f0_curve[j] * static_cast<float>(h + 1);
      float rad = fn / sr;
      rad = rad - std::floor(rad);
      acc += rad;
      const float cs = static_cast<float>(acc);
      const float phase = cs * 2.f * static_cast<float>(M_PI);
      P[j * kHarmonics + h] = phase * static_cast<float>(up);
    }
  }
  SourceSignals out;
  out.sine_waves = Mat(L, kHarmonics);
  out.uv.resize(L);
  out.har_source.resize(L);
  const Param& lw = w.get("decoder.generator.m_source.l_linear.weight");
  const Param& lb = w.get("decoder.generator.m_source.l_linear.bias");
  // Every sample is computed on its own (the noise is counter-based: element i of the
  // stream is a function of the seed and i), so the samples are split over the pool and the
  // result does not depend on the thread count. Normal mode draws its seed at random.
  // Step 6: linear upsampling with align_corners=False in float32, as upsample_linear1d does.
  const float rwidth = static_cast<float>(1.0 / static_cast<double>(up));
  parallel_for(L, 60.0 * kHarmonics * double(L), [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      float src = rwidth * (static_cast<float>(t) + 0.5f) - 0.5f;
      if (src < 0.f) src = 0.f;
      const int64_t i0 = static_cast<int64_t>(src);
      const int64_t i1 = i0 + (i0 < n - 1 ? 1 : 0);
      const float l1 = src - static_cast<float>(i0), l0 = 1.f - l1;
      const float f0 = f0_curve[t / up];
      const float uv = f0 > kVoicedThreshold ? 1.f : 0.f;
      const float amp = uv * kNoiseStd + (1.f - uv) * static_cast<float>(kSineAmp / 3.0);
      out.uv[t] = uv;
      float* e = out.sine_waves.row(t);
      float nz[kHarmonics + 1] = {};
      if (noise == NoiseMode::Normal) fast_normals(seed, t, nz);
      if (noise == NoiseMode::Splitmix)
        for (int h = 0; h < kHarmonics; ++h)
          nz[h] = splitmix_normal(seed, static_cast<uint64_t>(t * kHarmonics + h));
      float merged = 0.f;
      for (int h = 0; h < kHarmonics; ++h) {
        const float phase = l0 * P[i0 * kHarmonics + h] + l1 * P[i1 * kHarmonics + h];
        const float sine = std::sin(phase) * kSineAmp;
        e[h] = sine * uv + amp * nz[h];
        merged += e[h] * lw.data[h];
      }
      out.har_source[t] = std::tanh(merged + lb.data[0]);
    }
  });
  return out;
}

}  // namespace xnai::models::kokoro
