// Shared helpers of the quant / matmul tests: the SIMD levels this CPU can run, the types
// under test and deterministic random data.
#pragma once
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "compute/cpu/quant.h"
#include "core/dtype.h"

namespace xnai::test {

inline std::vector<cpu::SimdLevel> available_levels() {
  std::vector<cpu::SimdLevel> out{cpu::SimdLevel::Portable};
  if (cpu::detected_simd_level() >= cpu::SimdLevel::Avx2) out.push_back(cpu::SimdLevel::Avx2);
  if (cpu::detected_simd_level() >= cpu::SimdLevel::Avx512) out.push_back(cpu::SimdLevel::Avx512);
  return out;
}

// Every weight type with kernels.
inline const std::vector<DType>& weight_types() {
  static const std::vector<DType> t = {DType::F32,  DType::F16,  DType::BF16, DType::Q4_0, DType::Q4_1,
                                       DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::Q2_K, DType::Q3_K,
                                       DType::Q4_K, DType::Q5_K, DType::Q6_K};
  return t;
}

inline std::vector<float> gaussian(size_t n, uint32_t seed, float sigma = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// RAII: run a scope at one SIMD level, restoring the previous one.
class ScopedSimdLevel {
 public:
  explicit ScopedSimdLevel(cpu::SimdLevel level) : saved_(cpu::simd_level()) { cpu::set_simd_level(level); }
  ~ScopedSimdLevel() { cpu::set_simd_level(saved_); }
  ScopedSimdLevel(const ScopedSimdLevel&) = delete;
  ScopedSimdLevel& operator=(const ScopedSimdLevel&) = delete;

 private:
  cpu::SimdLevel saved_;
};

}  // namespace xnai::test
