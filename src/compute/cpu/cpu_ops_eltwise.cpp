// Element-wise ops: residual/bias add, SwiGLU, GELU.
#include <algorithm>
#include <array>
#include <cmath>

#include "compute/cpu/cpu_ops.h"
#include "compute/cpu/cpu_vec.h"
#include "core/fp16.h"

namespace xnai::cpu {
namespace {

// gelu_tanh of every half value, stored as half: 128 KiB, built on first use.
const std::array<uint16_t, 65536>& gelu_table() {
  static const auto* table = [] {
    auto* t = new std::array<uint16_t, 65536>;
    for (uint32_t i = 0; i < 65536; ++i)
      (*t)[i] = f32_to_fp16(gelu_tanh(fp16_to_f32(static_cast<uint16_t>(i))));
    return t;
  }();
  return *table;
}

}  // namespace

float gelu_tanh(float x) {
  constexpr float kCoefA = 0.044715f;
  constexpr float kSqrt2OverPi = 0.79788456080286535587989211986876f;
  return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * x * (1.0f + kCoefA * x * x)));
}

void add_range(const float* a, const float* b, int64_t b_period, int64_t begin, int64_t end, float* y) {
  if (b_period <= 0) {
    for (int64_t i = begin; i < end; ++i) y[i] = a[i] + b[i];
    return;
  }
  for (int64_t i = begin; i < end; ++i) y[i] = a[i] + b[i % b_period];
}

void silu_mul_range(const float* gate, const float* up, int64_t row_len, int64_t begin, int64_t end,
                    float* y) {
  const VecKernels& vk = vec();
  const int64_t vec_len = row_len / 16 * 16;
  for (int64_t i = begin; i < end;) {
    const int64_t row_end = (i / row_len + 1) * row_len;
    const int64_t vec_end = std::min(end, row_end - row_len + vec_len);
    if (i < vec_end) {
      vk.silu_mul(gate + i, up + i, y + i, vec_end - i);
      i = vec_end;
    }
    for (; i < std::min(end, row_end); ++i) y[i] = (gate[i] / (1.0f + std::exp(-gate[i]))) * up[i];
  }
}

void gelu_range(const float* x, int64_t begin, int64_t end, float* y) {
  const auto& table = gelu_table();
  for (int64_t i = begin; i < end; ++i) {
    const float v = x[i];
    if (v <= -10.0f) {
      y[i] = 0.0f;
    } else if (v >= 10.0f) {
      y[i] = v;
    } else {
      y[i] = fp16_to_f32(table[f32_to_fp16(v)]);
    }
  }
}

}  // namespace xnai::cpu
