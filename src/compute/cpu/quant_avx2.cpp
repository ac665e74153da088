// AVX2/FMA/F16C kernels: activation quantizers (byte-identical to the portable ones), the
// F16/BF16 conversions, dequantization of the hot types and every vec_dot. The quantized
// dots are ggml's AVX2 algorithms (exact int32 lane sums, then its f32 order: see
// ggml_order.h), so they equal the portable ones bit for bit. u8×s8 pairs never saturate
// for these value ranges.
#include <immintrin.h>

#include <cstring>

#include "compute/cpu/kernel_table.h"
#include "compute/cpu/kquant_scales.h"
#include "compute/cpu/simd_avx2.h"
#include "core/fp16.h"
#include "core/quant_blocks.h"

namespace xnai::cpu::detail {
namespace {

// ---- activation quantizers ----

inline float amax_32(const float* x, __m256 v[4]) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  for (int j = 0; j < 4; ++j) v[j] = _mm256_loadu_ps(x + 8 * j);
  __m256 m = _mm256_max_ps(_mm256_andnot_ps(sign, v[0]), _mm256_andnot_ps(sign, v[1]));
  m = _mm256_max_ps(m, _mm256_max_ps(_mm256_andnot_ps(sign, v[2]), _mm256_andnot_ps(sign, v[3])));
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Rounds v[0..3]·id half to even (MXCSR default) and packs to 32 int8 in order.
inline __m256i round_pack_32(const __m256 v[4], __m256 id, __m256i q32[4]) {
  for (int j = 0; j < 4; ++j) q32[j] = _mm256_cvtps_epi32(_mm256_mul_ps(v[j], id));
  const __m256i a = _mm256_packs_epi32(q32[0], q32[1]);
  const __m256i b = _mm256_packs_epi32(q32[2], q32[3]);
  return _mm256_permutevar8x32_epi32(_mm256_packs_epi16(a, b), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

void q8_0_from_float(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ8_0*>(dst);
  for (int64_t i = 0; i < n / kQK32; ++i, x += kQK32) {
    __m256 v[4];
    __m256i q32[4];
    const float amax = amax_32(x, v);
    y[i].d = _cvtss_sh(amax / 127.0f, _MM_FROUND_TO_NEAREST_INT);
    const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[i].qs), round_pack_32(v, _mm256_set1_ps(id), q32));
  }
}

void q8_1_from_float(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ8_1*>(dst);
  for (int64_t i = 0; i < n / kQK32; ++i, x += kQK32) {
    __m256 v[4];
    __m256i q32[4];
    const float amax = amax_32(x, v);
    const float d = amax / 127.0f;
    y[i].d = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
    const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[i].qs), round_pack_32(v, _mm256_set1_ps(id), q32));
    const int sum =
        hsum_epi32(_mm256_add_epi32(_mm256_add_epi32(q32[0], q32[1]), _mm256_add_epi32(q32[2], q32[3])));
    y[i].s = _cvtss_sh(d * static_cast<float>(sum), _MM_FROUND_TO_NEAREST_INT);
  }
}

void q8_K_from_float(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ8_K*>(dst);
  const __m256 sign = _mm256_set1_ps(-0.0f);
  for (int64_t i = 0; i < n / kQKK; ++i, x += kQKK) {
    __m256 m = _mm256_setzero_ps();
    for (int j = 0; j < kQKK; j += 8) m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + j)));
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    const float amax = _mm_cvtss_f32(s);
    if (amax == 0.0f) {
      std::memset(&y[i], 0, sizeof(BlockQ8_K));
      continue;
    }
    // The reference keeps the first value of largest magnitude (its sign sets the scale's).
    const __m256 am = _mm256_set1_ps(amax);
    float max = 0.0f;
    for (int j = 0; j < kQKK; j += 8) {
      const int mask =
          _mm256_movemask_ps(_mm256_cmp_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + j)), am, _CMP_EQ_OQ));
      if (mask != 0) {
        max = x[j + __builtin_ctz(static_cast<unsigned>(mask))];
        break;
      }
    }
    const float iscale = -127.0f / max;
    const __m256 is = _mm256_set1_ps(iscale);
    const __m256i c127 = _mm256_set1_epi32(127);
    for (int j = 0; j < kQKK; j += 32) {
      __m256i q[4];
      for (int k = 0; k < 4; ++k)
        q[k] = _mm256_min_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + j + 8 * k), is)), c127);
      const __m256i a = _mm256_packs_epi32(q[0], q[1]);
      const __m256i b = _mm256_packs_epi32(q[2], q[3]);
      const __m256i p =
          _mm256_permutevar8x32_epi32(_mm256_packs_epi16(a, b), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[i].qs + j), p);
      // Sums of values j..j+15 and j+16..j+31.
      const __m256i g = _mm256_hadd_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3]));
      const __m256i g2 = _mm256_hadd_epi32(g, g);
      const __m128i t = _mm_add_epi32(_mm256_castsi256_si128(g2), _mm256_extracti128_si256(g2, 1));
      y[i].bsums[j / 16] = static_cast<int16_t>(_mm_cvtsi128_si32(t));
      y[i].bsums[j / 16 + 1] = static_cast<int16_t>(_mm_extract_epi32(t, 1));
    }
    y[i].d = 1.0f / iscale;
  }
}

// ---- float types ----

void f16_to_float(const void* src, float* dst, int64_t n) {
  const uint16_t* h = static_cast<const uint16_t*>(src);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i))));
  for (; i < n; ++i) dst[i] = fp16_to_f32(h[i]);
}

void f16_from_float(const float* src, void* dst, int64_t n) {
  uint16_t* h = static_cast<uint16_t*>(dst);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(
        reinterpret_cast<__m128i*>(h + i),
        _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  for (; i < n; ++i) h[i] = f32_to_fp16(src[i]);
}

inline __m256 load_bf16(const uint16_t* p) {
  const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
}

void bf16_to_float(const void* src, float* dst, int64_t n) {
  const uint16_t* h = static_cast<const uint16_t*>(src);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, load_bf16(h + i));
  for (; i < n; ++i) dst[i] = bf16_to_f32(h[i]);
}

// Round to nearest even with NaNs made quiet, as core/fp16.h's f32_to_bf16.
inline __m256i bf16_round(__m256 v) {
  const __m256i u = _mm256_castps_si256(v);
  const __m256i abs = _mm256_and_si256(u, _mm256_set1_epi32(0x7fffffff));
  const __m256i nan = _mm256_cmpgt_epi32(abs, _mm256_set1_epi32(0x7f800000));
  const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
  const __m256i rounded =
      _mm256_srli_epi32(_mm256_add_epi32(u, _mm256_add_epi32(lsb, _mm256_set1_epi32(0x7fff))), 16);
  const __m256i quiet = _mm256_or_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(64));
  return _mm256_blendv_epi8(rounded, quiet, nan);
}

void bf16_from_float(const float* src, void* dst, int64_t n) {
  uint16_t* h = static_cast<uint16_t*>(dst);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i a = bf16_round(_mm256_loadu_ps(src + i));
    const __m256i b = bf16_round(_mm256_loadu_ps(src + i + 8));
    const __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi32(a, b), 0xD8);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(h + i), p);
  }
  for (; i < n; ++i) h[i] = f32_to_bf16(src[i]);
}

void f32_vec_dot(int64_t n, float* result, const void* w, const void* a) {
  const float* x = static_cast<const float*>(w);
  const float* y = static_cast<const float*>(a);
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  int64_t i = 0;
  for (; i + 32 <= n; i += 32)
    for (int k = 0; k < 4; ++k)
      acc[k] = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8 * k), _mm256_loadu_ps(y + i + 8 * k), acc[k]);
  for (; i + 8 <= n; i += 8) acc[0] = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), acc[0]);
  float sum = hsum_ps(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
  for (; i < n; ++i) sum += x[i] * y[i];
  *result = sum;
}

void f16_vec_dot(int64_t n, float* result, const void* w, const void* a) {
  const uint16_t* x = static_cast<const uint16_t*>(w);
  const uint16_t* y = static_cast<const uint16_t*>(a);
  auto ld = [](const uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  };
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  int64_t i = 0;
  for (; i + 32 <= n; i += 32)
    for (int k = 0; k < 4; ++k) acc[k] = _mm256_fmadd_ps(ld(x + i + 8 * k), ld(y + i + 8 * k), acc[k]);
  for (; i + 8 <= n; i += 8) acc[0] = _mm256_fmadd_ps(ld(x + i), ld(y + i), acc[0]);
  float sum = hsum_ps(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
  for (; i < n; ++i) sum += fp16_to_f32(x[i]) * fp16_to_f32(y[i]);
  *result = sum;
}

void bf16_vec_dot(int64_t n, float* result, const void* w, const void* a) {
  const uint16_t* x = static_cast<const uint16_t*>(w);
  const uint16_t* y = static_cast<const uint16_t*>(a);
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  int64_t i = 0;
  for (; i + 32 <= n; i += 32)
    for (int k = 0; k < 4; ++k)
      acc[k] = _mm256_fmadd_ps(load_bf16(x + i + 8 * k), load_bf16(y + i + 8 * k), acc[k]);
  for (; i + 8 <= n; i += 8) acc[0] = _mm256_fmadd_ps(load_bf16(x + i), load_bf16(y + i), acc[0]);
  float sum = hsum_ps(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
  for (; i < n; ++i) sum += bf16_to_f32(x[i]) * bf16_to_f32(y[i]);
  *result = sum;
}

// ---- legacy types ----

void q4_0_to_float(const void* src, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ4_0*>(src);
  const __m256i eight = _mm256_set1_epi8(8);
  for (int64_t i = 0; i < n / kQK32; ++i, y += kQK32) {
    const __m256 d = _mm256_set1_ps(half_to_float(x[i].d));
    const __m256i q = _mm256_sub_epi8(unpack_nibbles(x[i].qs), eight);
    const __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
    _mm256_storeu_ps(y, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo)), d));
    _mm256_storeu_ps(y + 8,
                     _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8))), d));
    _mm256_storeu_ps(y + 16, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi)), d));
    _mm256_storeu_ps(y + 24,
                     _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8))), d));
  }
}

void q8_0_to_float(const void* src, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ8_0*>(src);
  for (int64_t i = 0; i < n / kQK32; ++i, y += kQK32) {
    const __m256 d = _mm256_set1_ps(half_to_float(x[i].d));
    for (int k = 0; k < 4; ++k) {
      const __m128i q = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(x[i].qs + 8 * k));
      _mm256_storeu_ps(y + 8 * k, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q)), d));
    }
  }
}

inline __m256i load32(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// The legacy dots follow ggml's AVX2 code: one 8-lane accumulator, acc = fma(d, S, acc) per
// block with S the lane sums of 4 byte products, then hsum8 (ggml_order.h).
inline float hsum8(__m256 acc) { return hsum_ps(acc); }  // ((4+0)+(6+2)) + ((5+1)+(7+3)), as ggml

// Lane sums of a signed 32-byte block pair: exact in int32, as float.
inline __m256 lanes_s8(__m256i q, __m256i a) { return _mm256_cvtepi32_ps(dot_s8s8(q, a)); }
inline __m256 lanes_u8(__m256i u, __m256i a) { return _mm256_cvtepi32_ps(dot_u8s8(u, a)); }

inline __m256 block_scale(uint16_t dw, uint16_t da) {
  return _mm256_set1_ps(half_to_float(dw) * half_to_float(da));
}

void q4_0_vec_dot(int64_t n, float* result, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  const __m256i eight = _mm256_set1_epi8(8);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQK32; ++i) {
    const __m256i q = _mm256_sub_epi8(unpack_nibbles(x[i].qs), eight);
    acc = _mm256_fmadd_ps(block_scale(x[i].d, y[i].d), lanes_s8(q, load32(y[i].qs)), acc);
  }
  *result = hsum8(acc);
}

void q8_0_vec_dot(int64_t n, float* result, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ8_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQK32; ++i)
    acc = _mm256_fmadd_ps(block_scale(x[i].d, y[i].d), lanes_s8(load32(x[i].qs), load32(y[i].qs)), acc);
  *result = hsum8(acc);
}

inline uint32_t load_u32(const void* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

void q5_0_vec_dot(int64_t n, float* result, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQK32; ++i) {
    // q − 16 as a signed byte: set the top nibble where the fifth bit is clear.
    const __m256i hi =
        _mm256_andnot_si256(expand_bits(load_u32(x[i].qh)), _mm256_set1_epi8(static_cast<char>(0xF0)));
    const __m256i q = _mm256_or_si256(unpack_nibbles(x[i].qs), hi);
    acc = _mm256_fmadd_ps(block_scale(x[i].d, y[i].d), lanes_s8(q, load32(y[i].qs)), acc);
  }
  *result = hsum8(acc);
}

// Q4_1 / Q5_1: plus Σ m·s in one fused scalar chain (ggml's `summs += m * s`, contracted).
inline float fma_ss(float a, float b, float c) {
  return _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(a), _mm_set_ss(b), _mm_set_ss(c)));
}

void q4_1_vec_dot(int64_t n, float* result, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_1*>(w);
  const auto* y = static_cast<const BlockQ8_1*>(a);
  __m256 acc = _mm256_setzero_ps();
  float summs = 0.0f;
  for (int64_t i = 0; i < n / kQK32; ++i) {
    summs = fma_ss(half_to_float(x[i].m), half_to_float(y[i].s), summs);
    acc =
        _mm256_fmadd_ps(block_scale(x[i].d, y[i].d), lanes_u8(unpack_nibbles(x[i].qs), load32(y[i].qs)), acc);
  }
  *result = hsum8(acc) + summs;
}

void q5_1_vec_dot(int64_t n, float* result, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_1*>(w);
  const auto* y = static_cast<const BlockQ8_1*>(a);
  __m256 acc = _mm256_setzero_ps();
  float summs = 0.0f;
  for (int64_t i = 0; i < n / kQK32; ++i) {
    summs = fma_ss(half_to_float(x[i].m), half_to_float(y[i].s), summs);
    const __m256i hi = _mm256_and_si256(expand_bits(load_u32(x[i].qh)), _mm256_set1_epi8(0x10));
    const __m256i q = _mm256_or_si256(unpack_nibbles(x[i].qs), hi);
    acc = _mm256_fmadd_ps(block_scale(x[i].d, y[i].d), lanes_u8(q, load32(y[i].qs)), acc);
  }
  *result = hsum8(acc) + summs;
}

// ---- K-quants (ggml's AVX2 order: int32 lane sums per super-block, acc = fma(d, S, acc)) ----

// int16 broadcast of two scales: lanes 0-7 get a (bytes 0-15), lanes 8-15 get b (bytes 16-31).
inline __m256i scale_pair(int a, int b) {
  return _mm256_set_m128i(_mm_set1_epi16(static_cast<short>(b)), _mm_set1_epi16(static_cast<short>(a)));
}

inline __m256i load_bsums(const BlockQ8_K& b) { return load32(b.bsums); }

// Lane sums of (u − offset)·a for 32 unsigned values u, scaled per 16 values: the offset
// is taken off the int16 pair sums (exact, as ggml) before the scales apply.
inline __m256i scaled_lanes(__m256i u, __m256i a, __m256i offset8, __m256i scales16) {
  __m256i p = _mm256_maddubs_epi16(u, a);
  p = _mm256_sub_epi16(p, _mm256_maddubs_epi16(offset8, a));
  return _mm256_madd_epi16(scales16, p);
}

void q2_K_vec_dot(int64_t n, float* result, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ2_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m256i m3 = _mm256_set1_epi8(3);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = y[i].d * half_to_float(x[i].d), dmin = -y[i].d * half_to_float(x[i].dmin);
    const __m128i sc8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[i].scales));
    const __m256i mins = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sc8, 4), _mm_set1_epi8(0x0F)));
    const __m256i prod = _mm256_madd_epi16(mins, load_bsums(y[i]));  // lane l: m_2l·bs_2l + m_2l+1·bs_2l+1
    acc = _mm256_fmadd_ps(_mm256_set1_ps(dmin), _mm256_cvtepi32_ps(prod), acc);
    __m256i sumi = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      const __m256i q = load32(x[i].qs + 32 * h);
      for (int s = 0; s < 4; ++s) {
        const int is = 8 * h + 2 * s;
        const __m256i u = _mm256_and_si256(_mm256_srli_epi16(q, 2 * s), m3);
        const __m256i p = _mm256_maddubs_epi16(u, load32(y[i].qs + 128 * h + 32 * s));
        sumi = _mm256_add_epi32(
            sumi, _mm256_madd_epi16(scale_pair(x[i].scales[is] & 0x0F, x[i].scales[is + 1] & 0x0F), p));
      }
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
  }
  *result = hsum8(acc);
}

void q3_K_vec_dot(int64_t n, float* result, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ3_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m256i m3 = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1), four = _mm256_set1_epi8(4);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = y[i].d * half_to_float(x[i].d);
    const __m256i s16 =
        _mm256_sub_epi16(_mm256_cvtepu8_epi16(q3_K_scales(x[i].scales)), _mm256_set1_epi16(32));
    alignas(32) int16_t sc16[16];
    _mm256_store_si256(reinterpret_cast<__m256i*>(sc16), s16);
    const __m256i hm = load32(x[i].hmask);
    __m256i sumi = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      const __m256i q = load32(x[i].qs + 32 * h);
      for (int s = 0; s < 4; ++s) {
        const int is = 8 * h + 2 * s;
        // u = low2 | hbit·4 in [0, 7]; the value is u − 4.
        const __m256i low = _mm256_and_si256(_mm256_srli_epi16(q, 2 * s), m3);
        const __m256i hb = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hm, 4 * h + s), one), 2);
        sumi =
            _mm256_add_epi32(sumi, scaled_lanes(_mm256_or_si256(low, hb), load32(y[i].qs + 128 * h + 32 * s),
                                                four, scale_pair(sc16[is], sc16[is + 1])));
      }
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
  }
  *result = hsum8(acc);
}

// Q4_K / Q5_K: mins go to a 4-lane accumulator (Q4_K) or one fused scalar chain (Q5_K).
template <bool kFive>
void k4_vec_dot(int64_t n, float* result, const void* w, const void* a) {
  constexpr size_t kBlock = kFive ? sizeof(BlockQ5_K) : sizeof(BlockQ4_K);
  const auto* x = static_cast<const uint8_t*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m256i m4 = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);
  __m256 acc = _mm256_setzero_ps();
  __m128 acc_m = _mm_setzero_ps();
  float summs = 0.0f;
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const uint8_t* b = x + i * kBlock;
    const uint8_t* qs = b + (kFive ? 48 : 16);
    const float d = y[i].d * half_to_float(load_u16(b)), dmin = -y[i].d * half_to_float(load_u16(b + 2));
    uint8_t sm[16];  // scales 0-7, mins 8-15
    k4_unpack_scales(b + 4, sm);
    const __m256i bs = load_bsums(y[i]);
    const __m128i pairs = _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
    const __m128i prod =
        _mm_madd_epi16(_mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sm + 8))), pairs);
    if constexpr (kFive) {
      const int total =
          _mm_cvtsi128_si32(_mm_hadd_epi32(_mm_hadd_epi32(prod, _mm_setzero_si128()), _mm_setzero_si128()));
      summs = fma_ss(dmin, static_cast<float>(total), summs);
    } else {
      acc_m = _mm_fmadd_ps(_mm_set1_ps(dmin), _mm_cvtepi32_ps(prod), acc_m);
    }
    const __m256i hb = kFive ? load32(b + 16) : _mm256_setzero_si256();
    __m256i sumi = _mm256_setzero_si256();
    for (int j = 0; j < 4; ++j) {
      const __m256i q = load32(qs + 32 * j);
      __m256i lo = _mm256_and_si256(q, m4), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
      if constexpr (kFive) {
        lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2 * j), one), 4));
        hi = _mm256_or_si256(hi,
                             _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2 * j + 1), one), 4));
      }
      const __m256i p0 = _mm256_maddubs_epi16(lo, load32(y[i].qs + 64 * j));
      const __m256i p1 = _mm256_maddubs_epi16(hi, load32(y[i].qs + 64 * j + 32));
      sumi =
          _mm256_add_epi32(sumi, _mm256_add_epi32(_mm256_madd_epi16(_mm256_set1_epi16(sm[2 * j]), p0),
                                                  _mm256_madd_epi16(_mm256_set1_epi16(sm[2 * j + 1]), p1)));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
  }
  if constexpr (kFive) {
    *result = hsum8(acc) + summs;
  } else {
    acc_m = _mm_add_ps(acc_m, _mm_movehl_ps(acc_m, acc_m));
    acc_m = _mm_add_ss(acc_m, _mm_movehdup_ps(acc_m));
    *result = hsum8(acc) + _mm_cvtss_f32(acc_m);
  }
}

void q6_K_vec_dot(int64_t n, float* result, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ6_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m256i m4 = _mm256_set1_epi8(0x0F), m3 = _mm256_set1_epi8(3), m32 = _mm256_set1_epi8(32);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = y[i].d * half_to_float(x[i].d);
    __m256i sumi = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      const __m256i ql0 = load32(x[i].ql + 64 * h), ql1 = load32(x[i].ql + 64 * h + 32);
      const __m256i qh = load32(x[i].qh + 32 * h);
      const __m256i u[4] = {
          _mm256_or_si256(_mm256_and_si256(ql0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m3), 4)),
          _mm256_or_si256(_mm256_and_si256(ql1, m4),
                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m3), 4)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4),
                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m3), 4)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m3), 4)),
      };
      for (int k = 0; k < 4; ++k) {
        const int is = 8 * h + 2 * k;
        sumi = _mm256_add_epi32(sumi, scaled_lanes(u[k], load32(y[i].qs + 128 * h + 32 * k), m32,
                                                   scale_pair(x[i].scales[is], x[i].scales[is + 1])));
      }
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
  }
  *result = hsum8(acc);
}

}  // namespace

void add_avx2(KernelTable& t) {
  t.at(DType::F32).vec_dot = f32_vec_dot;
  t.at(DType::F16) = {DType::F16, f16_to_float, f16_from_float, f16_vec_dot};
  t.at(DType::BF16) = {DType::BF16, bf16_to_float, bf16_from_float, bf16_vec_dot};
  t.at(DType::Q8_0).from_float = q8_0_from_float;
  t.at(DType::Q8_0).to_float = q8_0_to_float;
  t.at(DType::Q8_0).vec_dot = q8_0_vec_dot;
  t.at(DType::Q8_1).from_float = q8_1_from_float;
  t.at(DType::Q8_K).from_float = q8_K_from_float;
  t.at(DType::Q4_0).to_float = q4_0_to_float;
  t.at(DType::Q4_0).vec_dot = q4_0_vec_dot;
  t.at(DType::Q4_1).vec_dot = q4_1_vec_dot;
  t.at(DType::Q5_0).vec_dot = q5_0_vec_dot;
  t.at(DType::Q5_1).vec_dot = q5_1_vec_dot;
  t.at(DType::Q2_K).vec_dot = q2_K_vec_dot;
  t.at(DType::Q3_K).vec_dot = q3_K_vec_dot;
  t.at(DType::Q4_K).vec_dot = k4_vec_dot<false>;
  t.at(DType::Q5_K).vec_dot = k4_vec_dot<true>;
  t.at(DType::Q6_K).vec_dot = q6_K_vec_dot;
}

}  // namespace xnai::cpu::detail
