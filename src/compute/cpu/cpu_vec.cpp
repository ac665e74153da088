// Portable versions of cpu_vec.h, written to give the same bits as the AVX2 ones (std::fma
// where those use fused multiply-adds), and the run-time choice between the two.
#include "compute/cpu/cpu_vec.h"
#include "core/cpu_features.h"

#include <algorithm>
#include <cstring>

#include "compute/cpu/quant.h"
#include "core/fp16.h"

namespace xnai::cpu {
namespace {

// ggml_vec_dot's combination of four 16-lane accumulators (lane i of accumulator k at
// v[16k + i]): (a0 + a2) + (a1 + a3), then the lane tree.
float combine64(const float* v) {
  float t[16];
  for (int l = 0; l < 16; ++l) t[l] = (v[l] + v[32 + l]) + (v[16 + l] + v[48 + l]);
  return tree_sum16(t);
}

float dot_f32(const float* a, const float* b, int64_t n) {
  float acc[64] = {};
  const int64_t np = n & ~int64_t{63};
  for (int64_t i = 0; i < np; ++i) acc[i & 63] = std::fma(a[i], b[i], acc[i & 63]);
  float s = combine64(acc);
  for (int64_t i = np; i < n; ++i) s = std::fma(a[i], b[i], s);
  return s;
}

float dot_f16_gemm(const uint16_t* a, const float* b, int64_t n) {
  float acc[16] = {};
  const int64_t n16 = n & ~int64_t{15};
  for (int64_t i = 0; i < n16; ++i) acc[i & 15] = std::fma(fp16_to_f32(a[i]), b[i], acc[i & 15]);
  float s = tree_sum16(acc);
  for (int64_t i = n16; i < n; ++i) s = std::fma(fp16_to_f32(a[i]), b[i], s);
  return s;
}

float dot_f16_vecdot(const uint16_t* a, const float* b, int64_t n) {
  float acc[64] = {};
  const int64_t np = n & ~int64_t{63};
  for (int64_t i = 0; i < np; ++i) acc[i & 63] = std::fma(fp16_to_f32(a[i]), b[i], acc[i & 63]);
  double s = combine64(acc);
  for (int64_t i = np; i < n; ++i) s += static_cast<double>(fp16_to_f32(a[i]) * b[i]);
  return static_cast<float>(s);
}

void to_f16(const float* x, uint16_t* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = f32_to_fp16(x[i]);
}

void round_f16(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = fp16_to_f32(f32_to_fp16(x[i]));
}

double softmax_exp(float* y, const float* x, float max, int64_t n) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; i += 16) {
    float e[16];
    for (int l = 0; l < 16; ++l) e[l] = i + l < n ? exp_ggml(x[i + l] - max) : 0.0f;
    for (int l = 0; l < 16 && i + l < n; ++l) y[i + l] = e[l];
    sum += static_cast<double>(tree_sum16(e));
  }
  return sum;
}

template <class Row, class ToF32>
void weighted_rows(float* out, const float* p, const Row* rows, int64_t stride, int64_t n, int64_t n_pad,
                   int64_t hd, DotOrder order, float* lanes, ToF32 to_f32) {
  const int64_t n_lanes = order == DotOrder::Gemm ? 16 : 64;
  // Rows from `n_vec` on are the VecDot remainder (none for Gemm).
  const int64_t n_vec = order == DotOrder::Gemm ? n : std::min(n, n_pad & ~int64_t{63});
  std::memset(lanes, 0, static_cast<size_t>(n_lanes * hd) * sizeof(float));
  for (int64_t j = 0; j < n_vec; ++j) {
    if (p[j] == 0.0f) continue;
    float* lane = lanes + (j & (n_lanes - 1)) * hd;
    const Row* r = rows + j * stride;
    for (int64_t d = 0; d < hd; ++d) lane[d] = std::fma(p[j], to_f32(r[d]), lane[d]);
  }
  float v[64];
  for (int64_t d = 0; d < hd; ++d) {
    for (int64_t l = 0; l < n_lanes; ++l) v[l] = lanes[l * hd + d];
    out[d] = order == DotOrder::Gemm ? tree_sum16(v) : combine64(v);
  }
  add_remainder(out, p, rows, stride, n_vec, n, hd, to_f32);
}

void weighted_rows_f16(float* out, const float* p, const uint16_t* rows, int64_t stride, int64_t n,
                       int64_t n_pad, int64_t hd, DotOrder order, float* lanes) {
  weighted_rows(out, p, rows, stride, n, n_pad, hd, order, lanes, [](uint16_t h) { return fp16_to_f32(h); });
}

void weighted_rows_f32(float* out, const float* p, const float* rows, int64_t stride, int64_t n,
                       int64_t n_pad, int64_t hd, DotOrder order, float* lanes) {
  weighted_rows(out, p, rows, stride, n, n_pad, hd, order, lanes, [](float f) { return f; });
}

void silu_mul(const float* g, const float* u, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = (g[i] / (1.0f + exp_ggml(-g[i]))) * u[i];
}

constexpr VecKernels kPortable{dot_f32,     dot_f16_gemm,      dot_f16_vecdot,    to_f16,  round_f16,
                               softmax_exp, weighted_rows_f16, weighted_rows_f32, silu_mul};

const VecKernels* detect_avx2() {
  if (cpu_features().has_avx2_set()) return vec_avx2();
  return nullptr;
}

}  // namespace

const VecKernels& vec_portable() { return kPortable; }

const VecKernels& vec() {
  static const VecKernels* const avx2 = detect_avx2();
  return (avx2 && simd_level() != SimdLevel::Portable) ? *avx2 : kPortable;
}

}  // namespace xnai::cpu
