#include "speech/resampler.h"

#include <gtest/gtest.h>

#include <cmath>

namespace xnai::speech {
namespace {

// A 1 kHz sine sampled at 22050 Hz, resampled to 24000 Hz, against the same sine computed
// directly at 24000 Hz.
TEST(Resampler, SineMatchesAnalyticSignal) {
  const int n = 22050;
  std::vector<float> in(n);
  for (int i = 0; i < n; ++i) in[i] = static_cast<float>(0.8 * std::sin(2 * M_PI * 1000.0 * i / 22050));
  const auto out = resample(in, 22050, 24000);
  EXPECT_EQ(out.size(), 24000u);  // ceil(22050 · 160/147)
  double max_err = 0;
  for (size_t i = 200; i + 200 < out.size(); ++i)
    max_err = std::max(max_err, std::abs(out[i] - 0.8 * std::sin(2 * M_PI * 1000.0 * i / 24000)));
  EXPECT_LT(max_err, 2e-3);
}

TEST(Resampler, PiecewiseEqualsWhole) {
  std::vector<float> in(5000);
  for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<float>(std::sin(0.05 * i) * std::cos(0.003 * i));
  const auto whole = resample(in, 22050, 24000);
  Resampler r(22050, 24000);
  std::vector<float> pieces;
  for (size_t i = 0; i < in.size(); i += 777) r.process(std::span(in).subspan(i, std::min<size_t>(777, in.size() - i)), pieces);
  r.flush(pieces);
  ASSERT_EQ(pieces.size(), whole.size());
  for (size_t i = 0; i < whole.size(); ++i) ASSERT_NEAR(pieces[i], whole[i], 1e-6) << i;
}

}  // namespace
}  // namespace xnai::speech
