// Cost of one sample() + accept() over a Qwen-sized vocabulary (151,936 logits) for the
// common settings. Goal: well under 1 ms per token so sampling never shows in decode speed.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "runtime/sampler.h"

namespace {

std::vector<float> random_logits(size_t n) {
  std::mt19937 rng(99);
  std::normal_distribution<float> d(0.0f, 2.5f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

void run(benchmark::State& state, xnai::runtime::SamplingParams p) {
  const auto logits = random_logits(151936);
  p.seed = 1;
  xnai::runtime::Sampler s(p, static_cast<int32_t>(logits.size()));
  for (auto _ : state) {
    const int32_t t = s.sample(logits.data());
    s.accept(t);
    benchmark::DoNotOptimize(t);
  }
}

void BM_SampleDefaults(benchmark::State& state) {
  xnai::runtime::SamplingParams p;
  p.repeat_penalty = 1.1f;
  run(state, p);
}
void BM_SampleGreedy(benchmark::State& state) {
  xnai::runtime::SamplingParams p;
  p.temperature = 0.0f;
  run(state, p);
}
void BM_SampleNoTopK(benchmark::State& state) {
  xnai::runtime::SamplingParams p;
  p.top_k = 0;
  run(state, p);
}
void BM_SampleNucleusOnly(benchmark::State& state) {
  xnai::runtime::SamplingParams p;
  p.top_k = 0;
  p.min_p = 0.0f;
  run(state, p);
}

BENCHMARK(BM_SampleDefaults)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SampleGreedy)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SampleNoTopK)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SampleNucleusOnly)->Unit(benchmark::kMicrosecond);

}  // namespace
