// KokoroModel::synthetic: the Kokoro-82M shapes with random weights build, synthesise
// finite audio of 600 samples per frame, and the forced durations give the asked-for rate.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
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

TEST(KokoroSynthetic, VocabularyTakesEveryCodePointBelowCombiningMarks) {
  const auto model = KokoroModel::synthetic({});
  EXPECT_EQ(model->ids_from_phonemes("abc ɐʊ").size(), 8u);
  EXPECT_EQ(model->ids_from_phonemes("a\u0303").size(), 3u);  // U+0303 is not in it
}

}  // namespace
}  // namespace xnai::models::kokoro
