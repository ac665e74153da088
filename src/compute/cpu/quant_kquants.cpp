// Portable kernels of the K-quants Q2_K … Q6_K and their activation layout Q8_K:
// dequantization (ggml's formulas, same float operation order), the Q8_K quantizer
// (ggml's quantize_row_q8_K_ref, which is also what its x86 build runs) and the dot products
// (exact integer lane sums, float in ggml's x86 order: see ggml_order.h).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "compute/cpu/ggml_order.h"
#include "compute/cpu/kernel_table.h"
#include "compute/cpu/kquant_scales.h"
#include "compute/cpu/quant_rounding.h"
#include "core/fp16.h"
#include "core/quant_blocks.h"

namespace xnai::cpu::detail {
namespace {

inline uint16_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

// ---- dequantization ----

void q2_K_to_float(const void* src, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ2_K*>(src);
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = fp16_to_f32(x[i].d), dmin = fp16_to_f32(x[i].dmin);
    const uint8_t* q = x[i].qs;
    int is = 0;
    for (int half = 0; half < 2; ++half, q += 32) {
      for (int shift = 0; shift < 8; shift += 2) {
        for (int part = 0; part < 2; ++part) {
          const uint8_t sc = x[i].scales[is++];
          const float dl = d * static_cast<float>(sc & 0x0F), ml = dmin * static_cast<float>(sc >> 4);
          for (int l = 0; l < 16; ++l) *y++ = dl * static_cast<float>((q[l + 16 * part] >> shift) & 3) - ml;
        }
      }
    }
  }
}

void q3_K_to_float(const void* src, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ3_K*>(src);
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = fp16_to_f32(x[i].d);
    int8_t sc[16];
    q3_K_unpack_scales(x[i].scales, sc);
    const uint8_t* q = x[i].qs;
    uint8_t m = 1;
    int is = 0;
    for (int half = 0; half < 2; ++half, q += 32) {
      for (int shift = 0; shift < 8; shift += 2, m <<= 1) {
        for (int part = 0; part < 2; ++part) {
          const float dl = d * static_cast<float>(sc[is++] - 32);
          for (int l = 16 * part; l < 16 * part + 16; ++l) {
            const int v = ((q[l] >> shift) & 3) - ((x[i].hmask[l] & m) ? 0 : 4);
            *y++ = dl * static_cast<float>(v);
          }
        }
      }
    }
  }
}

void q4_K_to_float(const void* src, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ4_K*>(src);
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = fp16_to_f32(x[i].d), dmin = fp16_to_f32(x[i].dmin);
    const uint8_t* q = x[i].qs;
    for (int j = 0; j < 4; ++j, q += 32) {
      uint8_t sc, m;
      k4_scale_min(2 * j, x[i].scales, sc, m);
      const float d1 = d * sc, m1 = dmin * m;
      k4_scale_min(2 * j + 1, x[i].scales, sc, m);
      const float d2 = d * sc, m2 = dmin * m;
      for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>(q[l] & 0x0F) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
    }
  }
}

void q5_K_to_float(const void* src, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ5_K*>(src);
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = fp16_to_f32(x[i].d), dmin = fp16_to_f32(x[i].dmin);
    const uint8_t* ql = x[i].qs;
    const uint8_t* qh = x[i].qh;
    uint8_t u1 = 1, u2 = 2;
    for (int j = 0; j < 4; ++j, ql += 32, u1 <<= 2, u2 <<= 2) {
      uint8_t sc, m;
      k4_scale_min(2 * j, x[i].scales, sc, m);
      const float d1 = d * sc, m1 = dmin * m;
      k4_scale_min(2 * j + 1, x[i].scales, sc, m);
      const float d2 = d * sc, m2 = dmin * m;
      for (int l = 0; l < 32; ++l)
        *y++ = d1 * static_cast<float>((ql[l] & 0x0F) + ((qh[l] & u1) ? 16 : 0)) - m1;
      for (int l = 0; l < 32; ++l)
        *y++ = d2 * static_cast<float>((ql[l] >> 4) + ((qh[l] & u2) ? 16 : 0)) - m2;
    }
  }
}

void q6_K_to_float(const void* src, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ6_K*>(src);
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = fp16_to_f32(x[i].d);
    const uint8_t* ql = x[i].ql;
    const uint8_t* qh = x[i].qh;
    const int8_t* sc = x[i].scales;
    for (int half = 0; half < 2; ++half, y += 128, ql += 64, qh += 32, sc += 8) {
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l] = d * static_cast<float>(sc[is]) * static_cast<float>(q1);
        y[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
        y[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
        y[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
      }
    }
  }
}

void q8_K_to_float(const void* src, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ8_K*>(src);
  for (int64_t i = 0; i < n / kQKK; ++i)
    for (int j = 0; j < kQKK; ++j) *y++ = x[i].d * static_cast<float>(x[i].qs[j]);
}

// ggml's quantize_row_q8_K_ref: scale by -127/max where max is the signed value of largest
// magnitude (first one wins), round half to even, clamp at 127 (the -max end can give -128
// only through rounding, which it cannot here).
void q8_K_from_float(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ8_K*>(dst);
  for (int64_t i = 0; i < n / kQKK; ++i, x += kQKK) {
    float max = 0.0f, amax = 0.0f;
    for (int j = 0; j < kQKK; ++j) {
      const float ax = std::fabs(x[j]);
      if (ax > amax) amax = ax, max = x[j];
    }
    if (amax == 0.0f) {
      y[i].d = 0.0f;
      std::memset(y[i].qs, 0, sizeof y[i].qs);
      std::memset(y[i].bsums, 0, sizeof y[i].bsums);  // ggml leaves them stale; zero is their value
      continue;
    }
    const float iscale = -127.0f / max;
    for (int j = 0; j < kQKK; ++j)
      y[i].qs[j] = static_cast<int8_t>(std::min(127, round_half_even(iscale * x[j])));
    for (int j = 0; j < kQKK / 16; ++j) {
      int sum = 0;
      for (int l = 0; l < 16; ++l) sum += y[i].qs[16 * j + l];
      y[i].bsums[j] = static_cast<int16_t>(sum);
    }
    y[i].d = 1.0f / iscale;
  }
}

// ---- dot products with Q8_K, in ggml's x86 order (compute/cpu/ggml_order.h) ----
// Each super-block is decoded to 256 signed values and 16 per-16-value scales, then the
// eight lane sums are formed exactly; d = d_a·d_w and dmin = (−d_a)·dmin_w as ggml writes them.

void q2_K_vec_dot(int64_t n, float* result, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ2_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  Lanes8 acc;
  for (int64_t i = 0; i < n / kQKK; ++i) {
    int8_t q[256];
    int32_t sc[16], mins[8];
    for (int h = 0; h < 2; ++h)
      for (int s = 0; s < 4; ++s)
        for (int l = 0; l < 32; ++l)
          q[128 * h + 32 * s + l] = static_cast<int8_t>((x[i].qs[32 * h + l] >> (2 * s)) & 3);
    for (int j = 0; j < 16; ++j) sc[j] = x[i].scales[j] & 0x0F;
    // Mins: lane l gets m_2l·bsum_2l + m_2l+1·bsum_2l+1, accumulated before the quants.
    for (int l = 0; l < 8; ++l)
      mins[l] = (x[i].scales[2 * l] >> 4) * y[i].bsums[2 * l] +
                (x[i].scales[2 * l + 1] >> 4) * y[i].bsums[2 * l + 1];
    int32_t lanes[8] = {};
    add_lane_sums(q, y[i].qs, 8, sc, lanes);
    const float d = y[i].d * fp16_to_f32(x[i].d), dmin = -y[i].d * fp16_to_f32(x[i].dmin);
    acc.fma(dmin, mins);
    acc.fma(d, lanes);
  }
  *result = acc.hsum();
}

void q3_K_vec_dot(int64_t n, float* result, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ3_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  Lanes8 acc;
  for (int64_t i = 0; i < n / kQKK; ++i) {
    int8_t q[256], sc8[16];
    int32_t sc[16];
    for (int h = 0; h < 2; ++h)
      for (int s = 0; s < 4; ++s)
        for (int l = 0; l < 32; ++l) {
          const int low = (x[i].qs[32 * h + l] >> (2 * s)) & 3;
          const int high = (x[i].hmask[l] >> (4 * h + s)) & 1;
          q[128 * h + 32 * s + l] = static_cast<int8_t>(low - (high ? 0 : 4));
        }
    q3_K_unpack_scales(x[i].scales, sc8);
    for (int j = 0; j < 16; ++j) sc[j] = sc8[j] - 32;
    int32_t lanes[8] = {};
    add_lane_sums(q, y[i].qs, 8, sc, lanes);
    acc.fma(y[i].d * fp16_to_f32(x[i].d), lanes);
  }
  *result = acc.hsum();
}

// Q4_K and Q5_K share the header; kFive adds the fifth bit from qh.
template <bool kFive>
void k4_vec_dot(int64_t n, float* result, const void* w, const void* a) {
  const auto* x = static_cast<const uint8_t*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  constexpr size_t kBlock = kFive ? sizeof(BlockQ5_K) : sizeof(BlockQ4_K);
  Lanes8 acc;
  float acc_m[4] = {};  // Q4_K: four lanes of min terms
  float summs = 0.0f;   // Q5_K: one fused running sum
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const uint8_t* b = x + i * kBlock;
    const uint8_t* qs = b + (kFive ? 48 : 16);
    uint8_t sm[16];
    k4_unpack_scales(b + 4, sm);
    int8_t q[256];
    for (int j = 0; j < 4; ++j)
      for (int l = 0; l < 32; ++l) {
        int lo = qs[32 * j + l] & 0x0F, hi = qs[32 * j + l] >> 4;
        if constexpr (kFive) {
          lo |= ((b[16 + l] >> (2 * j)) & 1) << 4;
          hi |= ((b[16 + l] >> (2 * j + 1)) & 1) << 4;
        }
        q[64 * j + l] = static_cast<int8_t>(lo);
        q[64 * j + 32 + l] = static_cast<int8_t>(hi);
      }
    int32_t sc[16];
    for (int j = 0; j < 16; ++j) sc[j] = sm[j / 2];
    int32_t lanes[8] = {};
    add_lane_sums(q, y[i].qs, 8, sc, lanes);
    const float d = y[i].d * fp16_to_f32(load_u16(b)), dmin = -y[i].d * fp16_to_f32(load_u16(b + 2));
    int32_t prod[4];  // m_2k·P_2k + m_2k+1·P_2k+1 with P_j the bsums of 32 values
    for (int k = 0; k < 4; ++k)
      prod[k] = sm[8 + 2 * k] * (y[i].bsums[4 * k] + y[i].bsums[4 * k + 1]) +
                sm[8 + 2 * k + 1] * (y[i].bsums[4 * k + 2] + y[i].bsums[4 * k + 3]);
    if constexpr (kFive) {
      summs = std::fma(dmin, static_cast<float>(prod[0] + prod[1] + prod[2] + prod[3]), summs);
    } else {
      for (int k = 0; k < 4; ++k) acc_m[k] = std::fma(dmin, static_cast<float>(prod[k]), acc_m[k]);
    }
    acc.fma(d, lanes);
  }
  *result = kFive ? acc.hsum() + summs : acc.hsum() + hsum4(acc_m);
}

void q6_K_vec_dot(int64_t n, float* result, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ6_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  Lanes8 acc;
  for (int64_t i = 0; i < n / kQKK; ++i) {
    int8_t q[256];
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = x[i].ql + 64 * h;
      const uint8_t* qh = x[i].qh + 32 * h;
      for (int l = 0; l < 32; ++l) {
        q[128 * h + l] = static_cast<int8_t>(((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32);
        q[128 * h + 32 + l] = static_cast<int8_t>(((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32);
        q[128 * h + 64 + l] = static_cast<int8_t>(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
        q[128 * h + 96 + l] = static_cast<int8_t>(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
      }
    }
    int32_t sc[16];
    for (int j = 0; j < 16; ++j) sc[j] = x[i].scales[j];
    int32_t lanes[8] = {};
    add_lane_sums(q, y[i].qs, 8, sc, lanes);
    acc.fma(y[i].d * fp16_to_f32(x[i].d), lanes);
  }
  *result = acc.hsum();
}

}  // namespace

void add_kquants_portable(KernelTable& t) {
  t.at(DType::Q2_K) = {DType::Q8_K, q2_K_to_float, quantize_row_q2_K_ref, q2_K_vec_dot};
  t.at(DType::Q3_K) = {DType::Q8_K, q3_K_to_float, quantize_row_q3_K_ref, q3_K_vec_dot};
  t.at(DType::Q4_K) = {DType::Q8_K, q4_K_to_float, quantize_row_q4_K_ref, k4_vec_dot<false>};
  t.at(DType::Q5_K) = {DType::Q8_K, q5_K_to_float, quantize_row_q5_K_ref, k4_vec_dot<true>};
  t.at(DType::Q6_K) = {DType::Q8_K, q6_K_to_float, quantize_row_q6_K_ref, q6_K_vec_dot};
  t.at(DType::Q8_K) = {DType::Q8_K, q8_K_to_float, q8_K_from_float, nullptr};
}

}  // namespace xnai::cpu::detail
