// Portable kernels of the 32-value block types Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and the
// activation layout Q8_1: dequantization, ggml's reference quantizers, the x86 activation
// quantizers and the block dot products (exact integer lane sums per block, float across
// blocks in ggml's order, see ggml_order.h).
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "compute/cpu/ggml_order.h"
#include "compute/cpu/kernel_table.h"
#include "compute/cpu/quant_rounding.h"
#include "core/fp16.h"
#include "core/quant_blocks.h"

namespace xnai::cpu::detail {
namespace {

// ---- dequantization ----

void q4_0_to_float(const void* src, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ4_0*>(src);
  for (int64_t i = 0; i < n / kQK32; ++i, y += kQK32) {
    const float d = fp16_to_f32(x[i].d);
    for (int j = 0; j < kQK32 / 2; ++j) {
      y[j] = static_cast<float>((x[i].qs[j] & 0x0F) - 8) * d;
      y[j + 16] = static_cast<float>((x[i].qs[j] >> 4) - 8) * d;
    }
  }
}

void q4_1_to_float(const void* src, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ4_1*>(src);
  for (int64_t i = 0; i < n / kQK32; ++i, y += kQK32) {
    const float d = fp16_to_f32(x[i].d), m = fp16_to_f32(x[i].m);
    for (int j = 0; j < kQK32 / 2; ++j) {
      y[j] = static_cast<float>(x[i].qs[j] & 0x0F) * d + m;
      y[j + 16] = static_cast<float>(x[i].qs[j] >> 4) * d + m;
    }
  }
}

inline uint32_t load_qh(const uint8_t* qh) {
  uint32_t v;
  std::memcpy(&v, qh, 4);
  return v;
}

void q5_0_to_float(const void* src, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ5_0*>(src);
  for (int64_t i = 0; i < n / kQK32; ++i, y += kQK32) {
    const float d = fp16_to_f32(x[i].d);
    const uint32_t qh = load_qh(x[i].qh);
    for (int j = 0; j < kQK32 / 2; ++j) {
      const int h0 = ((qh >> j) << 4) & 0x10, h1 = (qh >> (j + 12)) & 0x10;
      y[j] = static_cast<float>(((x[i].qs[j] & 0x0F) | h0) - 16) * d;
      y[j + 16] = static_cast<float>(((x[i].qs[j] >> 4) | h1) - 16) * d;
    }
  }
}

void q5_1_to_float(const void* src, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ5_1*>(src);
  for (int64_t i = 0; i < n / kQK32; ++i, y += kQK32) {
    const float d = fp16_to_f32(x[i].d), m = fp16_to_f32(x[i].m);
    const uint32_t qh = load_qh(x[i].qh);
    for (int j = 0; j < kQK32 / 2; ++j) {
      const int h0 = ((qh >> j) << 4) & 0x10, h1 = (qh >> (j + 12)) & 0x10;
      y[j] = static_cast<float>((x[i].qs[j] & 0x0F) | h0) * d + m;
      y[j + 16] = static_cast<float>((x[i].qs[j] >> 4) | h1) * d + m;
    }
  }
}

void q8_0_to_float(const void* src, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ8_0*>(src);
  for (int64_t i = 0; i < n / kQK32; ++i, y += kQK32) {
    const float d = fp16_to_f32(x[i].d);
    for (int j = 0; j < kQK32; ++j) y[j] = static_cast<float>(x[i].qs[j]) * d;
  }
}

void q8_1_to_float(const void* src, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ8_1*>(src);
  for (int64_t i = 0; i < n / kQK32; ++i, y += kQK32) {
    const float d = fp16_to_f32(x[i].d);
    for (int j = 0; j < kQK32; ++j) y[j] = static_cast<float>(x[i].qs[j]) * d;
  }
}

// ---- activation quantizers (ggml x86 build: scale 127/amax, round half to even) ----

float block_amax(const float* x) {
  float amax = 0.0f;
  for (int j = 0; j < kQK32; ++j) amax = std::max(amax, std::fabs(x[j]));
  return amax;
}

void q8_0_from_float(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ8_0*>(dst);
  for (int64_t i = 0; i < n / kQK32; ++i, x += kQK32) {
    const float amax = block_amax(x);
    y[i].d = f32_to_fp16(amax / 127.0f);
    const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    for (int j = 0; j < kQK32; ++j) y[i].qs[j] = saturate_i8(round_half_even(x[j] * id));
  }
}

void q8_1_from_float(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ8_1*>(dst);
  for (int64_t i = 0; i < n / kQK32; ++i, x += kQK32) {
    const float amax = block_amax(x);
    const float d = amax / 127.0f;
    y[i].d = f32_to_fp16(d);
    const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    int sum = 0;
    for (int j = 0; j < kQK32; ++j) {
      y[i].qs[j] = saturate_i8(round_half_even(x[j] * id));
      sum += y[i].qs[j];
    }
    y[i].s = f32_to_fp16(d * static_cast<float>(sum));
  }
}

// ---- dot products, in ggml's x86 order (compute/cpu/ggml_order.h) ----

// The 32 signed values of one block (offsets applied).
inline void q4_0_values(const BlockQ4_0& b, int8_t q[32]) {
  for (int j = 0; j < 16; ++j) {
    q[j] = static_cast<int8_t>((b.qs[j] & 0x0F) - 8);
    q[j + 16] = static_cast<int8_t>((b.qs[j] >> 4) - 8);
  }
}

inline void q4_1_values(const BlockQ4_1& b, int8_t q[32]) {
  for (int j = 0; j < 16; ++j) {
    q[j] = static_cast<int8_t>(b.qs[j] & 0x0F);
    q[j + 16] = static_cast<int8_t>(b.qs[j] >> 4);
  }
}

template <class Block>
inline void q5_values(const Block& b, int offset, int8_t q[32]) {
  const uint32_t qh = load_qh(b.qh);
  for (int j = 0; j < 16; ++j) {
    const int h0 = ((qh >> j) << 4) & 0x10, h1 = (qh >> (j + 12)) & 0x10;
    q[j] = static_cast<int8_t>(((b.qs[j] & 0x0F) | h0) - offset);
    q[j + 16] = static_cast<int8_t>(((b.qs[j] >> 4) | h1) - offset);
  }
}

constexpr int32_t kUnitScales[2] = {1, 1};

// acc_l = fma(d_w·d_a, S_l, acc_l) per block; hsum8.
template <class Block, void (*Values)(const Block&, int8_t*)>
float lane_dot(int64_t n, const Block* x, const BlockQ8_0* y) {
  Lanes8 acc;
  for (int64_t i = 0; i < n / kQK32; ++i) {
    int8_t q[32];
    Values(x[i], q);
    int32_t s[8] = {};
    add_lane_sums(q, y[i].qs, 1, kUnitScales, s);
    acc.fma(fp16_to_f32(x[i].d) * fp16_to_f32(y[i].d), s);
  }
  return acc.hsum();
}

inline void q5_0_values(const BlockQ5_0& b, int8_t q[32]) { q5_values(b, 16, q); }
inline void q5_1_values(const BlockQ5_1& b, int8_t q[32]) { q5_values(b, 0, q); }
inline void q8_0_values(const BlockQ8_0& b, int8_t q[32]) {
  for (int j = 0; j < 32; ++j) q[j] = b.qs[j];
}

void q4_0_vec_dot(int64_t n, float* result, const void* w, const void* a) {
  *result =
      lane_dot<BlockQ4_0, q4_0_values>(n, static_cast<const BlockQ4_0*>(w), static_cast<const BlockQ8_0*>(a));
}

void q5_0_vec_dot(int64_t n, float* result, const void* w, const void* a) {
  *result =
      lane_dot<BlockQ5_0, q5_0_values>(n, static_cast<const BlockQ5_0*>(w), static_cast<const BlockQ8_0*>(a));
}

void q8_0_vec_dot(int64_t n, float* result, const void* w, const void* a) {
  *result =
      lane_dot<BlockQ8_0, q8_0_values>(n, static_cast<const BlockQ8_0*>(w), static_cast<const BlockQ8_0*>(a));
}

// Q4_1 / Q5_1 add Σ m·s as a separate f32 sum (fused, as GCC contracts ggml's
// `summs += m * s` on FMA targets).
template <class Block, void (*Values)(const Block&, int8_t*)>
float lane_dot_min(int64_t n, const Block* x, const BlockQ8_1* y) {
  Lanes8 acc;
  float summs = 0.0f;
  for (int64_t i = 0; i < n / kQK32; ++i) {
    summs = std::fma(fp16_to_f32(x[i].m), fp16_to_f32(y[i].s), summs);
    int8_t q[32];
    Values(x[i], q);
    int32_t s[8] = {};
    add_lane_sums(q, y[i].qs, 1, kUnitScales, s);
    acc.fma(fp16_to_f32(x[i].d) * fp16_to_f32(y[i].d), s);
  }
  return acc.hsum() + summs;
}

void q4_1_vec_dot(int64_t n, float* result, const void* w, const void* a) {
  *result = lane_dot_min<BlockQ4_1, q4_1_values>(n, static_cast<const BlockQ4_1*>(w),
                                                 static_cast<const BlockQ8_1*>(a));
}

void q5_1_vec_dot(int64_t n, float* result, const void* w, const void* a) {
  *result = lane_dot_min<BlockQ5_1, q5_1_values>(n, static_cast<const BlockQ5_1*>(w),
                                                 static_cast<const BlockQ8_1*>(a));
}

}  // namespace

float q4_0_dot_blocks(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float acc = 0.0f;
  for (int64_t i = 0; i < n / kQK32; ++i) {
    int32_t sum = 0;
    for (int j = 0; j < 16; ++j)
      sum += ((x[i].qs[j] & 0x0F) - 8) * y[i].qs[j] + ((x[i].qs[j] >> 4) - 8) * y[i].qs[j + 16];
    acc = std::fma(static_cast<float>(sum), fp16_to_f32(x[i].d) * fp16_to_f32(y[i].d), acc);
  }
  return acc;
}

// ---- ggml's reference quantizers (same float operations in the same order) ----

void quantize_row_q4_0_ref(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ4_0*>(dst);
  for (int64_t i = 0; i < n / kQK32; ++i, x += kQK32) {
    float amax = 0.0f, max = 0.0f;  // the signed value of largest magnitude (first one wins)
    for (int j = 0; j < kQK32; ++j)
      if (amax < std::fabs(x[j])) amax = std::fabs(x[j]), max = x[j];
    const float d = max / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = f32_to_fp16(d);
    for (int j = 0; j < kQK32 / 2; ++j) {
      const int q0 = std::min(15, static_cast<int>(x[j] * id + 8.5f));
      const int q1 = std::min(15, static_cast<int>(x[j + 16] * id + 8.5f));
      y[i].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

void quantize_row_q4_1_ref(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ4_1*>(dst);
  for (int64_t i = 0; i < n / kQK32; ++i, x += kQK32) {
    float min = FLT_MAX, max = -FLT_MAX;
    for (int j = 0; j < kQK32; ++j) {
      if (x[j] < min) min = x[j];
      if (x[j] > max) max = x[j];
    }
    const float d = (max - min) / 15.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = f32_to_fp16(d);
    y[i].m = f32_to_fp16(min);
    for (int j = 0; j < kQK32 / 2; ++j) {
      const int q0 = std::min(15, static_cast<int>((x[j] - min) * id + 0.5f));
      const int q1 = std::min(15, static_cast<int>((x[j + 16] - min) * id + 0.5f));
      y[i].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

void quantize_row_q5_0_ref(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ5_0*>(dst);
  for (int64_t i = 0; i < n / kQK32; ++i, x += kQK32) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < kQK32; ++j)
      if (amax < std::fabs(x[j])) amax = std::fabs(x[j]), max = x[j];
    const float d = max / -16.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = f32_to_fp16(d);
    uint32_t qh = 0;
    for (int j = 0; j < kQK32 / 2; ++j) {
      const uint32_t q0 = static_cast<uint32_t>(std::min(31, static_cast<int>(x[j] * id + 16.5f)));
      const uint32_t q1 = static_cast<uint32_t>(std::min(31, static_cast<int>(x[j + 16] * id + 16.5f)));
      y[i].qs[j] = static_cast<uint8_t>((q0 & 0x0F) | ((q1 & 0x0F) << 4));
      qh |= ((q0 & 0x10u) >> 4) << j;
      qh |= ((q1 & 0x10u) >> 4) << (j + 16);
    }
    std::memcpy(y[i].qh, &qh, 4);
  }
}

void quantize_row_q5_1_ref(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ5_1*>(dst);
  for (int64_t i = 0; i < n / kQK32; ++i, x += kQK32) {
    float min = FLT_MAX, max = -FLT_MAX;
    for (int j = 0; j < kQK32; ++j) {
      if (x[j] < min) min = x[j];
      if (x[j] > max) max = x[j];
    }
    const float d = (max - min) / 31.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = f32_to_fp16(d);
    y[i].m = f32_to_fp16(min);
    uint32_t qh = 0;
    for (int j = 0; j < kQK32 / 2; ++j) {
      // ggml clamps nothing here: the value is at most 31 + rounding, truncated to a byte.
      const uint32_t q0 = static_cast<uint8_t>(static_cast<int>((x[j] - min) * id + 0.5f));
      const uint32_t q1 = static_cast<uint8_t>(static_cast<int>((x[j + 16] - min) * id + 0.5f));
      y[i].qs[j] = static_cast<uint8_t>((q0 & 0x0F) | ((q1 & 0x0F) << 4));
      qh |= ((q0 & 0x10u) >> 4) << j;
      qh |= ((q1 & 0x10u) >> 4) << (j + 16);
    }
    std::memcpy(y[i].qh, &qh, 4);
  }
}

void quantize_row_q8_0_ref(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ8_0*>(dst);
  for (int64_t i = 0; i < n / kQK32; ++i, x += kQK32) {
    const float amax = block_amax(x);
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = f32_to_fp16(d);
    for (int j = 0; j < kQK32; ++j) y[i].qs[j] = static_cast<int8_t>(std::round(x[j] * id));
  }
}

void add_legacy_portable(KernelTable& t) {
  t.at(DType::Q4_0) = {DType::Q8_0, q4_0_to_float, quantize_row_q4_0_ref, q4_0_vec_dot};
  t.at(DType::Q4_1) = {DType::Q8_1, q4_1_to_float, quantize_row_q4_1_ref, q4_1_vec_dot};
  t.at(DType::Q5_0) = {DType::Q8_0, q5_0_to_float, quantize_row_q5_0_ref, q5_0_vec_dot};
  t.at(DType::Q5_1) = {DType::Q8_1, q5_1_to_float, quantize_row_q5_1_ref, q5_1_vec_dot};
  t.at(DType::Q8_0) = {DType::Q8_0, q8_0_to_float, q8_0_from_float, q8_0_vec_dot};
  t.at(DType::Q8_1) = {DType::Q8_1, q8_1_to_float, q8_1_from_float, nullptr};
}

}  // namespace xnai::cpu::detail
