// Sampler tests. Expected values come from the definitions the sampler implements (llama.cpp's
// penalty rule, nucleus / min-p cut-offs, softmax with temperature), worked out by hand on small
// distributions; statistical checks allow 5 standard deviations of the binomial count.
#include "runtime/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"

namespace xnai::runtime {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

SamplingParams greedy_params() {
  SamplingParams p;
  p.temperature = 0.0f;
  return p;
}

// Plain softmax sampling at temperature 1 (no truncation), the base for single-feature tests.
SamplingParams plain_params() {
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  return p;
}

std::vector<float> log_probs(const std::vector<double>& probs) {
  std::vector<float> l;
  for (double p : probs) l.push_back(p > 0 ? static_cast<float>(std::log(p)) : kNegInf);
  return l;
}

std::vector<float> random_logits(size_t n, uint32_t seed, float scale = 3.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> l(n);
  for (auto& x : l) x = dist(rng);
  return l;
}

// Draws one token from a fresh sampler for each seed 0..n-1 and counts the tokens.
std::vector<int> histogram_over_seeds(SamplingParams p, const std::vector<float>& logits, int n) {
  std::vector<int> counts(logits.size(), 0);
  for (int s = 0; s < n; ++s) {
    p.seed = static_cast<uint64_t>(s);
    Sampler sampler(p, static_cast<int32_t>(logits.size()));
    ++counts[static_cast<size_t>(sampler.sample(logits.data()))];
  }
  return counts;
}

// Checks the counts against the expected probabilities: tokens with probability 0 must never be
// drawn, the others within 5 binomial standard deviations.
void expect_distribution(const std::vector<int>& counts, const std::vector<double>& expected, int n) {
  ASSERT_EQ(counts.size(), expected.size());
  for (size_t i = 0; i < counts.size(); ++i) {
    if (expected[i] == 0.0) {
      EXPECT_EQ(counts[i], 0) << "token " << i << " should have been excluded";
      continue;
    }
    const double mean = n * expected[i];
    const double sd = std::sqrt(n * expected[i] * (1.0 - expected[i]));
    EXPECT_NEAR(counts[i], mean, 5.0 * sd + 1.0) << "token " << i << " (p=" << expected[i] << ")";
  }
}

std::vector<double> normalised(std::vector<double> w) {
  double s = 0.0;
  for (double x : w) s += x;
  for (double& x : w) x /= s;
  return w;
}

constexpr int kDraws = 10000;

TEST(Sampler, GreedyPicksArgmaxLowestIdOnTies) {
  std::vector<float> logits = {0.5f, 3.0f, -1.0f, 3.0f, 2.9f};
  Sampler s(greedy_params(), 5);
  EXPECT_EQ(s.sample(logits.data()), 1);
  logits[3] = 3.5f;
  EXPECT_EQ(s.sample(logits.data()), 3);
  std::vector<float> all_equal(7, 1.25f);
  Sampler s7(greedy_params(), 7);
  EXPECT_EQ(s7.sample(all_equal.data()), 0);
}

TEST(Sampler, TopK1IsGreedy) {
  SamplingParams p;
  p.temperature = 1.5f;
  p.top_k = 1;
  for (uint32_t i = 0; i < 50; ++i) {
    auto logits = random_logits(1000, i);
    logits[999 - i] = logits[i * 7] = 100.0f;  // ties resolve to the lower id
    const auto want = static_cast<int32_t>(std::min<uint32_t>(999 - i, i * 7));
    p.seed = i;
    Sampler s(p, 1000);
    Sampler g(greedy_params(), 1000);
    EXPECT_EQ(s.sample(logits.data()), want);
    EXPECT_EQ(g.sample(logits.data()), want);
  }
}

TEST(Sampler, PlainSoftmaxMatchesProbabilities) {
  const std::vector<double> probs = {0.45, 0.3, 0.15, 0.07, 0.03};
  expect_distribution(histogram_over_seeds(plain_params(), log_probs(probs), kDraws), probs, kDraws);
}

TEST(Sampler, TopPKeepsSmallestNucleus) {
  // Cumulative 0.5, 0.75, 0.90: top_p = 0.8 keeps the first three, renormalised. The last three
  // tokens have (almost) no mass but make the vocabulary larger than top_k in the second run.
  const std::vector<double> probs = {0.5, 0.25, 0.15, 0.07, 0.03, 0.0, 0.0, 0.0};
  const auto logits = log_probs(probs);
  const auto expected = normalised({0.5, 0.25, 0.15, 0, 0, 0, 0, 0});
  SamplingParams p = plain_params();
  p.top_p = 0.8f;
  expect_distribution(histogram_over_seeds(p, logits, kDraws), expected, kDraws);  // unsorted path
  p.top_k = 6;
  expect_distribution(histogram_over_seeds(p, logits, kDraws), expected, kDraws);  // after top-k
}

TEST(Sampler, TopPOnAWideFlatVocabularyKeepsExactlyTheNucleus) {
  // Many candidates of similar weight: the nucleus has thousands of tokens. The reference cut is
  // computed here in double precision on a full sort.
  const size_t n = 20000;
  const auto logits = random_logits(n, 7, 1.0f);
  std::vector<int32_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = static_cast<int32_t>(i);
  std::sort(order.begin(), order.end(),
            [&](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); });
  const double max = logits[order[0]];
  double total = 0.0;
  for (float l : logits) total += std::exp(l - max);
  const double top_p = 0.6f;  // the float the sampler gets
  std::vector<bool> kept(n, false);
  double cum = 0.0;
  size_t nucleus = 0;
  while (cum < top_p * total) {
    cum += std::exp(logits[order[nucleus]] - max);
    kept[order[nucleus++]] = true;
  }
  // The boundary must not be within float rounding of the target, or the check means nothing.
  ASSERT_GT((cum - top_p * total) / total, 1e-5);
  ASSERT_GT((top_p * total - (cum - std::exp(logits[order[nucleus - 1]] - max))) / total, 1e-5);
  ASSERT_GT(nucleus, 1000u);

  SamplingParams p = plain_params();
  p.top_p = static_cast<float>(top_p);
  for (int s = 0; s < 2000; ++s) {
    p.seed = static_cast<uint64_t>(s);
    Sampler sampler(p, static_cast<int32_t>(n));
    const int32_t t = sampler.sample(logits.data());
    ASSERT_TRUE(kept[static_cast<size_t>(t)]) << "token " << t << " is outside the nucleus of " << nucleus;
  }
}

TEST(Sampler, TopPIsMeasuredOnTheTopKSet) {
  // After top_k = 3 the mass is 0.3/0.75, 0.25/0.75, 0.2/0.75 = 0.4, 0.333, 0.267, so top_p = 0.7
  // stops at the second token (over the full distribution it would need the third).
  const std::vector<double> probs = {0.3, 0.25, 0.2, 0.15, 0.1};
  SamplingParams p = plain_params();
  p.top_k = 3;
  p.top_p = 0.7f;
  expect_distribution(histogram_over_seeds(p, log_probs(probs), kDraws), normalised({0.3, 0.25, 0, 0, 0}),
                      kDraws);
}

TEST(Sampler, MinPDropsTokensBelowFractionOfMax) {
  // min_p = 0.2 of p_max = 0.4 keeps tokens with p >= 0.08: the first three.
  const std::vector<double> probs = {0.4, 0.3, 0.2, 0.06, 0.04};
  const auto expected = normalised({0.4, 0.3, 0.2, 0, 0});
  SamplingParams p = plain_params();
  p.min_p = 0.2f;
  expect_distribution(histogram_over_seeds(p, log_probs(probs), kDraws), expected, kDraws);
  p.top_k = 4;  // sorted path
  expect_distribution(histogram_over_seeds(p, log_probs(probs), kDraws), expected, kDraws);
}

TEST(Sampler, TopPAndMinPTogetherKeepTheShorterPrefix) {
  const std::vector<double> probs = {0.4, 0.3, 0.2, 0.06, 0.04};
  SamplingParams p = plain_params();
  p.min_p = 0.2f;   // alone: first three
  p.top_p = 0.65f;  // alone: first two (0.4, 0.7)
  expect_distribution(histogram_over_seeds(p, log_probs(probs), kDraws), normalised({0.4, 0.3, 0, 0, 0}),
                      kDraws);
}

TEST(Sampler, TemperatureScalesLogits) {
  const std::vector<float> logits = {1.0f, 0.0f, -1.0f};
  SamplingParams p = plain_params();
  for (float t : {0.5f, 1.0f, 2.0f}) {
    p.temperature = t;
    const auto expected = normalised({std::exp(1.0 / t), std::exp(0.0), std::exp(-1.0 / t)});
    expect_distribution(histogram_over_seeds(p, logits, kDraws), expected, kDraws);
  }
}

TEST(Sampler, TemperatureIsAppliedAfterTruncation) {
  // min_p = 0.2 of 0.5 drops the 0.05 token; a high temperature must not bring it back.
  const std::vector<double> probs = {0.5, 0.3, 0.15, 0.05};
  SamplingParams p = plain_params();
  p.min_p = 0.2f;
  p.temperature = 10.0f;
  const auto logits = log_probs(probs);
  const double t = 10.0;
  const auto expected = normalised({std::pow(0.5, 1 / t), std::pow(0.3, 1 / t), std::pow(0.15, 1 / t), 0.0});
  expect_distribution(histogram_over_seeds(p, logits, kDraws), expected, kDraws);
}

// Greedy choice between token 0 (logit l0, penalised) and token 1 (logit l1, never accepted).
int32_t greedy_after(SamplingParams p, float l0, float l1, int times_accepted) {
  p.temperature = 0.0f;
  Sampler s(p, 2);
  for (int i = 0; i < times_accepted; ++i) s.accept(0);
  const std::vector<float> logits = {l0, l1};
  return s.sample(logits.data());
}

TEST(Sampler, RepeatPenaltyDividesPositiveAndMultipliesNegativeLogits) {
  SamplingParams p;
  p.repeat_penalty = 1.1f;
  // 2.0 / 1.1 = 1.818
  EXPECT_EQ(greedy_after(p, 2.0f, 1.85f, 1), 1);
  EXPECT_EQ(greedy_after(p, 2.0f, 1.78f, 1), 0);
  // -1.0 * 1.1 = -1.1
  EXPECT_EQ(greedy_after(p, -1.0f, -1.05f, 1), 1);
  EXPECT_EQ(greedy_after(p, -1.0f, -1.15f, 1), 0);
  // Applied once however often the token occurred.
  EXPECT_EQ(greedy_after(p, 2.0f, 1.78f, 5), 0);
  // Not accepted: no penalty.
  EXPECT_EQ(greedy_after(p, 2.0f, 1.85f, 0), 0);
}

TEST(Sampler, PresencePenaltySubtractsOnce) {
  SamplingParams p;
  p.presence_penalty = 0.5f;  // 2.0 - 0.5 = 1.5, for any count > 0
  EXPECT_EQ(greedy_after(p, 2.0f, 1.45f, 1), 0);
  EXPECT_EQ(greedy_after(p, 2.0f, 1.55f, 1), 1);
  EXPECT_EQ(greedy_after(p, 2.0f, 1.45f, 4), 0);
}

TEST(Sampler, FrequencyPenaltySubtractsPerOccurrence) {
  SamplingParams p;
  p.frequency_penalty = 0.2f;                    // 2.0 - count * 0.2
  EXPECT_EQ(greedy_after(p, 2.0f, 1.5f, 2), 0);  // 1.6
  EXPECT_EQ(greedy_after(p, 2.0f, 1.5f, 3), 1);  // 1.4
}

TEST(Sampler, PenaltiesCombineRepeatFirstThenSubtract) {
  SamplingParams p;
  p.repeat_penalty = 2.0f;
  p.frequency_penalty = 0.1f;
  p.presence_penalty = 0.3f;
  // 2.0 / 2 - 2 * 0.1 - 0.3 = 0.5 (subtracting first would give 0.75).
  EXPECT_EQ(greedy_after(p, 2.0f, 0.55f, 2), 1);
  EXPECT_EQ(greedy_after(p, 2.0f, 0.45f, 2), 0);
}

TEST(Sampler, PenaltyWindowForgetsOldTokens) {
  SamplingParams p = greedy_params();
  p.repeat_penalty = 2.0f;
  p.repeat_last_n = 2;
  Sampler s(p, 3);
  const std::vector<float> logits = {2.0f, 1.5f, -5.0f};
  s.accept(0);
  EXPECT_EQ(s.sample(logits.data()), 1);  // 0 penalised to 1.0
  s.accept(2);
  EXPECT_EQ(s.sample(logits.data()), 1);  // window {0, 2}
  s.accept(2);
  EXPECT_EQ(s.sample(logits.data()), 0);  // window {2, 2}: 0 left it
  s.reset();
  s.accept(0);
  EXPECT_EQ(s.sample(logits.data()), 1);

  p.repeat_last_n = 0;  // off
  Sampler off(p, 3);
  off.accept(0);
  EXPECT_EQ(off.sample(logits.data()), 0);

  p.repeat_last_n = -1;  // whole history
  Sampler all(p, 3);
  all.accept(0);
  for (int i = 0; i < 100; ++i) all.accept(2);
  EXPECT_EQ(all.sample(logits.data()), 1);
}

TEST(Sampler, LogitBiasShiftsAndBans) {
  SamplingParams p = greedy_params();
  p.logit_bias = {{2, 1.5f}};
  Sampler s(p, 3);
  const std::vector<float> logits = {2.0f, 1.0f, 1.0f};
  EXPECT_EQ(s.sample(logits.data()), 2);  // 1.0 + 1.5 > 2.0

  SamplingParams q = plain_params();
  q.logit_bias = {{0, kNegInf}};
  const auto counts = histogram_over_seeds(q, {5.0f, 0.0f, 0.0f}, 2000);
  EXPECT_EQ(counts[0], 0);
  EXPECT_EQ(counts[1] + counts[2], 2000);
}

TEST(Sampler, EverythingBannedOrNanStillReturnsAToken) {
  SamplingParams p = plain_params();
  p.logit_bias = {{0, kNegInf}, {1, kNegInf}};
  Sampler s(p, 2);
  const std::vector<float> logits = {1.0f, 2.0f};
  EXPECT_EQ(s.sample(logits.data()), 0);

  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> with_nan = {nan, -3.0f, nan};
  Sampler t(plain_params(), 3);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(t.sample(with_nan.data()), 1);
}

TEST(Sampler, SameSeedSameTokens) {
  const int32_t n = 32000;
  SamplingParams p;
  p.seed = 1234;
  p.repeat_penalty = 1.1f;
  p.top_k = 0;
  p.temperature = 1.2f;
  Sampler a(p, n), b(p, n);
  std::vector<int32_t> first;
  for (uint32_t step = 0; step < 40; ++step) {
    const auto logits = random_logits(n, step, 1.0f);
    const int32_t ta = a.sample(logits.data());
    EXPECT_EQ(b.sample(logits.data()), ta) << "step " << step;
    a.accept(ta);
    b.accept(ta);
    first.push_back(ta);
  }
  a.reset();
  for (uint32_t step = 0; step < 40; ++step) {
    const auto logits = random_logits(n, step, 1.0f);
    const int32_t t = a.sample(logits.data());
    ASSERT_EQ(t, first[step]) << "reset should replay, step " << step;
    a.accept(t);
  }
  p.seed = 4321;
  Sampler c(p, n);
  int differ = 0;
  for (uint32_t step = 0; step < 40; ++step) {
    const auto logits = random_logits(n, step, 1.0f);
    const int32_t t = c.sample(logits.data());
    differ += t != first[step];
    c.accept(t);
  }
  EXPECT_GT(differ, 10);
}

TEST(Sampler, SeedReportsTheSeedInUse) {
  SamplingParams p;
  p.seed = 0x1234567890ULL;
  EXPECT_EQ(Sampler(p, 10).seed(), 0x1234567890ULL);
  p.seed = kRandomSeed;
  Sampler r1(p, 10), r2(p, 10);
  EXPECT_NE(r1.seed(), kRandomSeed);
  EXPECT_NE(r1.seed(), r2.seed());
  // The reported seed reproduces the stream.
  SamplingParams q = plain_params();
  q.seed = kRandomSeed;
  Sampler random(q, 1000);
  q.seed = random.seed();
  Sampler replay(q, 1000);
  for (uint32_t i = 0; i < 20; ++i) {
    const auto logits = random_logits(1000, i, 0.5f);
    EXPECT_EQ(random.sample(logits.data()), replay.sample(logits.data()));
  }
  // All 64 bits of the seed matter.
  q.seed = 7;
  Sampler low(q, 1000);
  q.seed = 7 | (1ULL << 40);
  Sampler high(q, 1000);
  int differ = 0;
  for (uint32_t i = 0; i < 20; ++i) {
    const auto logits = random_logits(1000, i, 0.5f);
    differ += low.sample(logits.data()) != high.sample(logits.data());
  }
  EXPECT_GT(differ, 5);
}

void expect_invalid(const SamplingParams& p, const std::string& name, int32_t n_vocab = 10) {
  try {
    Sampler s(p, n_vocab);
    ADD_FAILURE() << "accepted an invalid " << name;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
  }
}

TEST(Sampler, RejectsOutOfRangeParameters) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  SamplingParams p;
  p.top_p = -0.1f;
  expect_invalid(p, "top_p");
  p.top_p = 1.5f;
  expect_invalid(p, "top_p");
  p = {};
  p.min_p = -0.01f;
  expect_invalid(p, "min_p");
  p = {};
  p.min_p = nan;
  expect_invalid(p, "min_p");
  p = {};
  p.temperature = nan;
  expect_invalid(p, "temperature");
  p = {};
  p.repeat_penalty = 0.0f;
  expect_invalid(p, "repeat_penalty");
  p = {};
  p.repeat_last_n = -2;
  expect_invalid(p, "repeat_last_n");
  p = {};
  p.presence_penalty = std::numeric_limits<float>::infinity();
  expect_invalid(p, "presence_penalty");
  p = {};
  p.frequency_penalty = nan;
  expect_invalid(p, "frequency_penalty");
  p = {};
  p.logit_bias = {{10, 1.0f}};
  expect_invalid(p, "logit_bias");
  p = {};
  p.logit_bias = {{3, nan}};
  expect_invalid(p, "logit_bias");
  expect_invalid(SamplingParams{}, "n_vocab", 0);

  Sampler s(SamplingParams{}, 10);
  EXPECT_THROW(s.accept(10), Error);
  EXPECT_THROW(s.accept(-1), Error);
}

}  // namespace
}  // namespace xnai::runtime
