// Random inputs for the Kokoro layer tests: the SIMD levels to run, parameters, activations and the weights
// of one AdaINResBlock1 (three dilations, AdaIN + Snake before each conv), and a guard that pins the SIMD
// level for a scope.
#pragma once
#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "compute/cpu/quant.h"
#include "models/kokoro/conv1d_fft.h"
#include "models/kokoro/kokoro_internal.h"

namespace xnai::models::kokoro::test {

// max |y − ref| over max |ref|.
inline double relative_error(const Mat& y, const Mat& ref) {
  double scale = 0, err = 0;
  for (size_t q = 0; q < ref.v.size(); ++q) {
    scale = std::max(scale, std::fabs(double(ref.v[q])));
    err = std::max(err, std::fabs(double(y.v[q]) - ref.v[q]));
  }
  return scale > 0 ? err / scale : err;
}

// The rows of x as a conv input (ConvRowFill).
inline ConvRowFill copy_rows(const Mat& x) {
  return [&x](int64_t i, int64_t c, int64_t count, int64_t stride, float* dst) {
    for (int64_t m = 0; m < count; ++m) dst[m] = x.at(i, c + m * stride);
  };
}

// The best of three wall times of f, in seconds (the timing tests print, never assert).
template <class F>
double best_of_3_seconds(F&& f) {
  double best = 1e9;
  for (int r = 0; r < 3; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

struct LevelGuard {
  explicit LevelGuard(cpu::SimdLevel l) { cpu::set_simd_level(l); }
  ~LevelGuard() { cpu::set_simd_level(cpu::detected_simd_level()); }
};

// The SIMD levels this CPU can run, from the lowest: the portable code first when asked,
// then AVX2 and AVX-512 (the levels with the fast conv paths).
inline std::vector<cpu::SimdLevel> simd_levels(bool with_portable) {
  std::vector<cpu::SimdLevel> v;
  if (with_portable) v.push_back(cpu::SimdLevel::Portable);
  if (cpu::detected_simd_level() >= cpu::SimdLevel::Avx2) v.push_back(cpu::SimdLevel::Avx2);
  if (cpu::detected_simd_level() >= cpu::SimdLevel::Avx512) v.push_back(cpu::SimdLevel::Avx512);
  return v;
}

// Values uniform in offset ± a.
inline Param random_param(std::vector<int64_t> shape, std::mt19937_64& rng, float a = 1.f,
                          float offset = 0.f) {
  size_t n = 1;
  for (int64_t d : shape) n *= static_cast<size_t>(d);
  Param p{std::move(shape), std::vector<float>(n)};
  std::uniform_real_distribution<float> u(-a, a);
  for (float& v : p.data) v = offset + u(rng);
  return p;
}

inline Mat random_mat(int64_t r, int64_t c, std::mt19937_64& rng) {
  Mat m(r, c);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (float& v : m.v) v = u(rng);
  return m;
}

// The parameters of block `p` for C channels, style width S and `kernel` taps, scaled so
// activations keep their size (Snake alpha near 1, convs of unit gain).
inline Weights random_resblock_weights(const std::string& p, int64_t C, int64_t S, int kernel,
                                       std::mt19937_64& rng) {
  Weights w;
  w.source = "test";
  for (int j = 0; j < 3; ++j) {
    const std::string js = std::to_string(j);
    for (const char* n : {"1.", "2."}) {
      w.params[p + ".adain" + n + js + ".fc.weight"] = random_param({2 * C, S}, rng, 0.3f);
      w.params[p + ".adain" + n + js + ".fc.bias"] = random_param({2 * C}, rng, 0.3f);
      w.params[p + ".alpha" + n + js] = random_param({1, C, 1}, rng, 0.4f, 1.f);
      w.params[p + ".convs" + n + js + ".weight"] =
          random_param({C, C, kernel}, rng, 1.f / std::sqrt(float(C * kernel)));
      w.params[p + ".convs" + n + js + ".bias"] = random_param({C}, rng, 0.1f);
    }
  }
  return w;
}

// One block "blk" of random weights, a random input [C, L] and style [S], and the plain
// (unfused, unvectorised) block's output for them: the reference for the fast paths.
struct ResBlockCase {
  std::string prefix = "blk";
  Weights w;
  Mat x;
  std::vector<float> s;
  Mat ref;
};
inline ResBlockCase random_resblock_case(int64_t C, int64_t S, int64_t L, int kernel, std::mt19937_64& rng) {
  ResBlockCase c;
  c.w = random_resblock_weights(c.prefix, C, S, kernel, rng);
  c.x = random_mat(C, L, rng);
  c.s.resize(size_t(S));
  for (float& v : c.s) v = std::uniform_real_distribution<float>(-1.f, 1.f)(rng);
  c.ref = adain_res_block1_plain(c.x, c.s, c.w, c.prefix, kernel, {1, 3, 5});
  return c;
}

}  // namespace xnai::models::kokoro::test
