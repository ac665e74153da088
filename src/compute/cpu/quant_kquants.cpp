// Portable kernels of the K-quants Q2_K … Q6_K and their activation layout Q8_K:
// dequantization (ggml's formulas, same float operation order), the Q8_K quantizer
// (ggml's quantize_row_q8_K_ref, which is also what its x86 build runs) and the dot products
// (exact integer sum per super-block, float across super-blocks).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "compute/cpu/kernel_table.h"
#include "compute/cpu/kquant_scales.h"
#include "compute/cpu/quant_rounding.h"
#include "core/fp16.h"
#include "core/quant_blocks.h"

namespace xnai::cpu::detail {
namespace {

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

// ---- dot products with Q8_K ----

void q2_K_vec_dot(int64_t n, float* result, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ2_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQKK; ++i) {
    int summs = 0;
    for (int j = 0; j < 16; ++j) summs += y[i].bsums[j] * (x[i].scales[j] >> 4);
    int isum = 0, is = 0;
    const uint8_t* q = x[i].qs;
    const int8_t* a8 = y[i].qs;
    for (int half = 0; half < 2; ++half, q += 32) {
      for (int shift = 0; shift < 8; shift += 2) {
        for (int part = 0; part < 2; ++part, a8 += 16) {
          int s = 0;
          for (int l = 0; l < 16; ++l) s += a8[l] * ((q[l + 16 * part] >> shift) & 3);
          isum += (x[i].scales[is++] & 0x0F) * s;
        }
      }
    }
    const float dall = y[i].d * fp16_to_f32(x[i].d);
    const float dmin = y[i].d * fp16_to_f32(x[i].dmin);
    sum += dall * static_cast<float>(isum) - dmin * static_cast<float>(summs);
  }
  *result = sum;
}

void q3_K_vec_dot(int64_t n, float* result, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ3_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQKK; ++i) {
    int8_t sc[16];
    q3_K_unpack_scales(x[i].scales, sc);
    int isum = 0, is = 0;
    const uint8_t* q = x[i].qs;
    const int8_t* a8 = y[i].qs;
    uint8_t m = 1;
    for (int half = 0; half < 2; ++half, q += 32) {
      for (int shift = 0; shift < 8; shift += 2, m <<= 1) {
        for (int part = 0; part < 2; ++part, a8 += 16) {
          int s = 0;
          for (int l = 0; l < 16; ++l) {
            const int k = l + 16 * part;
            s += a8[l] * (((q[k] >> shift) & 3) - ((x[i].hmask[k] & m) ? 0 : 4));
          }
          isum += (sc[is++] - 32) * s;
        }
      }
    }
    sum += (fp16_to_f32(x[i].d) * y[i].d) * static_cast<float>(isum);
  }
  *result = sum;
}

void q4_K_vec_dot(int64_t n, float* result, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQKK; ++i) {
    int isum = 0, summs = 0;
    const uint8_t* q = x[i].qs;
    const int8_t* a8 = y[i].qs;
    for (int j = 0; j < 4; ++j, q += 32, a8 += 64) {
      uint8_t sc0, m0, sc1, m1;
      k4_scale_min(2 * j, x[i].scales, sc0, m0);
      k4_scale_min(2 * j + 1, x[i].scales, sc1, m1);
      int s0 = 0, s1 = 0;
      for (int l = 0; l < 32; ++l) {
        s0 += a8[l] * (q[l] & 0x0F);
        s1 += a8[l + 32] * (q[l] >> 4);
      }
      isum += sc0 * s0 + sc1 * s1;
      summs += m0 * (y[i].bsums[4 * j] + y[i].bsums[4 * j + 1]) +
               m1 * (y[i].bsums[4 * j + 2] + y[i].bsums[4 * j + 3]);
    }
    const float d = y[i].d * fp16_to_f32(x[i].d), dmin = y[i].d * fp16_to_f32(x[i].dmin);
    sum += d * static_cast<float>(isum) - dmin * static_cast<float>(summs);
  }
  *result = sum;
}

void q5_K_vec_dot(int64_t n, float* result, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQKK; ++i) {
    int isum = 0, summs = 0;
    const uint8_t* q = x[i].qs;
    const uint8_t* qh = x[i].qh;
    const int8_t* a8 = y[i].qs;
    for (int j = 0; j < 4; ++j, q += 32, a8 += 64) {
      uint8_t sc0, m0, sc1, m1;
      k4_scale_min(2 * j, x[i].scales, sc0, m0);
      k4_scale_min(2 * j + 1, x[i].scales, sc1, m1);
      int s0 = 0, s1 = 0;
      for (int l = 0; l < 32; ++l) {
        s0 += a8[l] * ((q[l] & 0x0F) | (((qh[l] >> (2 * j)) & 1) << 4));
        s1 += a8[l + 32] * ((q[l] >> 4) | (((qh[l] >> (2 * j + 1)) & 1) << 4));
      }
      isum += sc0 * s0 + sc1 * s1;
      summs += m0 * (y[i].bsums[4 * j] + y[i].bsums[4 * j + 1]) +
               m1 * (y[i].bsums[4 * j + 2] + y[i].bsums[4 * j + 3]);
    }
    const float d = y[i].d * fp16_to_f32(x[i].d), dmin = y[i].d * fp16_to_f32(x[i].dmin);
    sum += d * static_cast<float>(isum) - dmin * static_cast<float>(summs);
  }
  *result = sum;
}

void q6_K_vec_dot(int64_t n, float* result, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ6_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQKK; ++i) {
    int isum = 0;
    const uint8_t* ql = x[i].ql;
    const uint8_t* qh = x[i].qh;
    const int8_t* sc = x[i].scales;
    const int8_t* a8 = y[i].qs;
    for (int half = 0; half < 2; ++half, ql += 64, qh += 32, sc += 8, a8 += 128) {
      int s[8] = {};  // sub-blocks of 16: (l / 16) + 2 * quarter
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        s[is] += q1 * a8[l];
        s[is + 2] += q2 * a8[l + 32];
        s[is + 4] += q3 * a8[l + 64];
        s[is + 6] += q4 * a8[l + 96];
      }
      for (int k = 0; k < 8; ++k) isum += sc[k] * s[k];
    }
    sum += (fp16_to_f32(x[i].d) * y[i].d) * static_cast<float>(isum);
  }
  *result = sum;
}

}  // namespace

void add_kquants_portable(KernelTable& t) {
  t.at(DType::Q2_K) = {DType::Q8_K, q2_K_to_float, quantize_row_q2_K_ref, q2_K_vec_dot};
  t.at(DType::Q3_K) = {DType::Q8_K, q3_K_to_float, quantize_row_q3_K_ref, q3_K_vec_dot};
  t.at(DType::Q4_K) = {DType::Q8_K, q4_K_to_float, quantize_row_q4_K_ref, q4_K_vec_dot};
  t.at(DType::Q5_K) = {DType::Q8_K, q5_K_to_float, quantize_row_q5_K_ref, q5_K_vec_dot};
  t.at(DType::Q6_K) = {DType::Q8_K, q6_K_to_float, quantize_row_q6_K_ref, q6_K_vec_dot};
  t.at(DType::Q8_K) = {DType::Q8_K, q8_K_to_float, q8_K_from_float, nullptr};
}

}  // namespace xnai::cpu::detail
