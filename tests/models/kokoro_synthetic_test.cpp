// KokoroModel::synthetic: the Kokoro-82M shapes with random weights build, synthesise
// finite audio of 600 samples per frame, and the forced durations give the asked-for rate.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "models/kokoro/kokoro.h"

namespace xnai::models::kokoro {
namespace {

TEST(KokoroSynthetic, SynthesisesFiniteAudioOfTheForcedLength) {
  SyntheticKokoroOptions o;
  o.seed = 3;
  o.frames_per_token = 3.5;
  o.n_threads = 2;
  const auto model = KokoroModel::synthetic(o);
  const auto ids = model->ids_from_phonemes("hɛlˈoʊ wɜɹld");  // 12 code points, all in the vocab
  ASSERT_EQ(ids.size(), 14u);                                 // + the two boundary pads
  std::vector<float> ref_s(256, 0.05f);
  const KokoroOutput out = model->synthesize(ids, ref_s, 1.0f, NoiseMode::Splitmix, 1, nullptr);
  ASSERT_EQ(out.pred_dur.size(), ids.size());
  const int64_t frames = std::accumulate(out.pred_dur.begin(), out.pred_dur.end(), int64_t{0});
  EXPECT_EQ(frames, std::llround(14 * 3.5));  // rounded cumulative durations telescope
  for (int64_t d : out.pred_dur) EXPECT_TRUE(d == 3 || d == 4) << d;
  ASSERT_EQ(out.audio.size(), static_cast<size_t>(frames * 600));
  double energy = 0;
  for (float v : out.audio) {
    ASSERT_TRUE(std::isfinite(v));
    energy += double(v) * v;
  }
  EXPECT_GT(energy, 0.0);
}

// The production noise of the harmonic source (NoiseMode::Normal) is standard Gaussian:
// on an unvoiced curve every sine value is (0.1 / 3)·z. Its moments and tail masses over
// 9·30000 draws, per harmonic and overall; a seed fixes it (whatever the thread count), and
// another seed gives other noise.
TEST(KokoroSynthetic, ProductionSourceNoiseIsStandardGaussian) {
  SyntheticKokoroOptions o;
  o.n_threads = 2;
  const auto model = KokoroModel::synthetic(o);
  const std::vector<float> f0(100, 0.f);  // 100 frames x 300 samples, all unvoiced
  const SourceSignals a = model->harmonic_source(f0, NoiseMode::Normal, 12345);
  const int H = static_cast<int>(a.sine_waves.cols);
  ASSERT_EQ(H, 9);
  ASSERT_EQ(a.sine_waves.rows, 30000);
  auto check = [](const std::vector<double>& z, const std::string& what) {
    double mean = 0, var = 0, in1 = 0, in2 = 0, kurt = 0;
    for (double v : z) mean += v;
    mean /= double(z.size());
    for (double v : z) {
      var += (v - mean) * (v - mean);
      kurt += std::pow(v - mean, 4);
      in1 += std::fabs(v) < 1.0;
      in2 += std::fabs(v) < 2.0;
    }
    var /= double(z.size());
    kurt /= double(z.size()) * var * var;
    const double n = double(z.size());
    EXPECT_NEAR(mean, 0.0, 5.0 / std::sqrt(n)) << what;
    EXPECT_NEAR(std::sqrt(var), 1.0, 5.0 / std::sqrt(2 * n)) << what;
    EXPECT_NEAR(in1 / n, 0.6827, 5.0 * std::sqrt(0.6827 * 0.3173 / n)) << what;
    EXPECT_NEAR(in2 / n, 0.9545, 5.0 * std::sqrt(0.9545 * 0.0455 / n)) << what;
    EXPECT_NEAR(kurt, 3.0, 0.15) << what;
  };
  std::vector<double> all;
  for (int h = 0; h < H; ++h) {
    std::vector<double> z;
    for (int64_t t = 0; t < a.sine_waves.rows; ++t) {
      const float v = a.sine_waves.at(t, h);
      ASSERT_TRUE(std::isfinite(v));
      z.push_back(v / (0.1 / 3.0));
    }
    check(z, "harmonic " + std::to_string(h));
    all.insert(all.end(), z.begin(), z.end());
  }
  check(all, "all harmonics");
  // Neighbouring draws are uncorrelated (within a sample and across samples).
  double c_h = 0, c_t = 0;
  for (int64_t t = 0; t + 1 < a.sine_waves.rows; ++t) {
    c_h += all[size_t(t)] * all[size_t(a.sine_waves.rows + t)];  // harmonics 0 and 1 at t
    c_t += all[size_t(t)] * all[size_t(t + 1)];                  // harmonic 0 at t and t + 1
  }
  EXPECT_NEAR(c_h / double(a.sine_waves.rows), 0.0, 0.03);
  EXPECT_NEAR(c_t / double(a.sine_waves.rows), 0.0, 0.03);

  SyntheticKokoroOptions o1 = o;
  o1.n_threads = 1;
  const auto serial = KokoroModel::synthetic(o1);
  EXPECT_EQ(serial->harmonic_source(f0, NoiseMode::Normal, 12345).sine_waves.v, a.sine_waves.v);
  EXPECT_NE(model->harmonic_source(f0, NoiseMode::Normal, 54321).sine_waves.v, a.sine_waves.v);
}

TEST(KokoroSynthetic, VocabularyTakesEveryCodePointBelowCombiningMarks) {
  const auto model = KokoroModel::synthetic({});
  EXPECT_EQ(model->ids_from_phonemes("abc ɐʊ").size(), 8u);
  EXPECT_EQ(model->ids_from_phonemes("a\u0303").size(), 3u);  // U+0303 is not in it
}

}  // namespace
}  // namespace xnai::models::kokoro
