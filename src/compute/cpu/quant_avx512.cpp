// AVX-512 VNNI vec_dot of the main types (Q4_0, Q8_0, Q4_K, Q5_K, Q6_K) and F16, on the
// standard block layouts. Two 32-value blocks share one 512-bit register: vpermt2w gathers
// the quants of both weight and activation blocks, vpermw their fp16 scales; loads past the
// end of a row are masked. The weights' offset (−8, or +128 for the s8→u8 flip of Q8_0) is
// removed with a second vpdpbusd against the activation, so block sums stay exact integers.
#include <immintrin.h>

#include <algorithm>

#include "compute/cpu/kernel_table.h"
#include "compute/cpu/kquant_scales.h"
#include "compute/cpu/simd_avx512.h"
#include "core/quant_blocks.h"

namespace xnai::cpu::detail {
namespace {

// Loads `bytes` (<= 128) bytes at p as two registers, zero beyond.
inline void load2(const uint8_t* p, int64_t bytes, __m512i& z0, __m512i& z1) {
  z0 = _mm512_maskz_loadu_epi8(byte_mask(bytes), p);
  z1 = _mm512_maskz_loadu_epi8(byte_mask(bytes - 64), p + 64);
}

// Word indices into (z0, z1) of two Q8_0 blocks (34 bytes each): quants, then scales.
alignas(64) constexpr int16_t kQ8Qs[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                           18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33};
alignas(64) constexpr int16_t kQ8D[32] = {0, 0, 0, 0, 0, 0, 0, 0, 17, 17, 17, 17, 17, 17, 17, 17};
// The same two Q8_0 blocks arranged as [b0 0-15, b1 0-15, b0 16-31, b1 16-31] to meet Q4_0's nibbles,
// and their scales for that order (4 lanes per 16 values).
alignas(64) constexpr int16_t kQ8QsQ4[32] = {1, 2,  3,  4,  5,  6,  7,  8,  18, 19, 20, 21, 22, 23, 24, 25,
                                             9, 10, 11, 12, 13, 14, 15, 16, 26, 27, 28, 29, 30, 31, 32, 33};
alignas(64) constexpr int16_t kQ8DQ4[32] = {0, 0, 0, 0, 17, 17, 17, 17, 0, 0, 0, 0, 17, 17, 17, 17};
// Two Q4_0 blocks (18 bytes each): quants [b0, b1] and scales in the order above.
alignas(64) constexpr int16_t kQ4Qs[32] = {1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17};
alignas(64) constexpr int16_t kQ4D[32] = {0, 0, 0, 0, 9, 9, 9, 9, 0, 0, 0, 0, 9, 9, 9, 9};

void q8_0_vec_dot(int64_t n, float* result, const void* w, const void* a) {
  const auto* x = static_cast<const uint8_t*>(w);
  const auto* y = static_cast<const uint8_t*>(a);
  const int64_t bytes = n / 32 * 34;
  const __m512i qi = _mm512_load_si512(kQ8Qs), di = _mm512_load_si512(kQ8D);
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  auto step = [&](int64_t off) {
    __m512i x0, x1, y0, y1;
    load2(x + off, std::min<int64_t>(68, bytes - off), x0, x1);
    load2(y + off, std::min<int64_t>(68, bytes - off), y0, y1);
    const __m512i qx = _mm512_xor_si512(_mm512_permutex2var_epi16(x0, qi, x1), flip);  // w + 128
    const __m512i qy = _mm512_permutex2var_epi16(y0, qi, y1);
    const __m512i t = _mm512_sub_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), qx, qy),
                                       _mm512_dpbusd_epi32(_mm512_setzero_si512(), flip, qy));
    const __m512 s = _mm512_mul_ps(halves_to_ps(_mm512_permutexvar_epi16(di, x0)),
                                   halves_to_ps(_mm512_permutexvar_epi16(di, y0)));
    return _mm512_mul_ps(to_ps(t), s);
  };
  int64_t off = 0;
  for (; off + 136 <= bytes; off += 136) {
    acc0 = _mm512_add_ps(acc0, step(off));
    acc1 = _mm512_add_ps(acc1, step(off + 68));
  }
  for (; off < bytes; off += 68) acc0 = _mm512_add_ps(acc0, step(off));
  *result = reduce_add(_mm512_add_ps(acc0, acc1));
}

void q4_0_vec_dot(int64_t n, float* result, const void* w, const void* a) {
  const auto* x = static_cast<const uint8_t*>(w);
  const auto* y = static_cast<const uint8_t*>(a);
  const int64_t nb = n / 32;
  const __m512i xq = _mm512_load_si512(kQ4Qs), xd = _mm512_load_si512(kQ4D);
  const __m512i yq = _mm512_load_si512(kQ8QsQ4), yd = _mm512_load_si512(kQ8DQ4);
  const __m512i m4 = _mm512_set1_epi8(0x0F), eight = _mm512_set1_epi8(8);
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  auto step = [&](int64_t b) {  // blocks b, b+1 (b+1 may be past the end: zero)
    const int64_t left = nb - b;
    const __m512i xw = _mm512_maskz_loadu_epi8(byte_mask(std::min<int64_t>(2, left) * 18), x + b * 18);
    __m512i y0, y1;
    load2(y + b * 34, std::min<int64_t>(2, left) * 34, y0, y1);
    const __m256i q = _mm512_castsi512_si256(_mm512_permutexvar_epi16(xq, xw));  // [qs b0, qs b1]
    const __m512i u =
        _mm512_and_si512(_mm512_inserti64x4(_mm512_castsi256_si512(q), _mm256_srli_epi16(q, 4), 1), m4);
    const __m512i qy = _mm512_permutex2var_epi16(y0, yq, y1);
    const __m512i t = _mm512_sub_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), u, qy),
                                       _mm512_dpbusd_epi32(_mm512_setzero_si512(), eight, qy));
    const __m512 s = _mm512_mul_ps(halves_to_ps(_mm512_permutexvar_epi16(xd, xw)),
                                   halves_to_ps(_mm512_permutexvar_epi16(yd, y0)));
    return _mm512_mul_ps(to_ps(t), s);
  };
  int64_t b = 0;
  for (; b + 4 <= nb; b += 4) {
    acc0 = _mm512_add_ps(acc0, step(b));
    acc1 = _mm512_add_ps(acc1, step(b + 2));
  }
  for (; b < nb; b += 2) acc0 = _mm512_add_ps(acc0, step(b));
  *result = reduce_add(_mm512_add_ps(acc0, acc1));
}

// ---- K-quants against plain Q8_K ----

// Scales and mins of a Q4_K / Q5_K header at b as bytes [sc0..7, m0..7].
inline __m128i k4_scales(const uint8_t* b) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b));
  const __m128i lo = _mm_and_si128(_mm_srlv_epi32(_mm_shuffle_epi32(v, 0xED), _mm_setr_epi32(0, 0, 0, 4)),
                                   _mm_setr_epi32(0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f));
  const __m128i hi = _mm_and_si128(_mm_srli_epi32(_mm_shuffle_epi32(v, 0x84), 2),
                                   _mm_setr_epi32(0, 0x30303030, 0, 0x30303030));
  return _mm_or_si128(lo, hi);
}

alignas(64) constexpr int16_t kK4ScaleIdx[4][32] = {
    {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2},
    {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3},
    {4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6},
    {5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7}};
alignas(64) constexpr int16_t kK6ScaleIdx[4][32] = {
    {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3},
    {4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7},
    {8,  8,  8,  8,  8,  8,  8,  8,  9,  9,  9,  9,  9,  9,  9,  9,
     10, 10, 10, 10, 10, 10, 10, 10, 11, 11, 11, 11, 11, 11, 11, 11},
    {12, 12, 12, 12, 12, 12, 12, 12, 13, 13, 13, 13, 13, 13, 13, 13,
     14, 14, 14, 14, 14, 14, 14, 14, 15, 15, 15, 15, 15, 15, 15, 15}};

// Activation values [lo 32 | hi 32] of two 32-value runs of a Q8_K block.
inline __m512i two_runs(const int8_t* qs, int first, int second) {
  return _mm512_inserti64x4(
      _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + first))),
      _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + second)), 1);
}

template <bool kFive>
void k4_vec_dot(int64_t n, float* result, const void* w, const void* a) {
  constexpr size_t kBlock = kFive ? sizeof(BlockQ5_K) : sizeof(BlockQ4_K);
  constexpr size_t kQs = kFive ? 48 : 16;
  const auto* x = static_cast<const uint8_t*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m512i m4 = _mm512_set1_epi8(0x0F), m10 = _mm512_set1_epi8(0x10);
  const __m512i sh_lo0 = _mm512_set_epi64(2, 2, 2, 2, 0, 0, 0, 0),
                sh_hi0 = _mm512_set_epi64(3, 3, 3, 3, 1, 1, 1, 1);
  const __m512i sh_lo1 = _mm512_set_epi64(6, 6, 6, 6, 4, 4, 4, 4),
                sh_hi1 = _mm512_set_epi64(7, 7, 7, 7, 5, 5, 5, 5);
  __m512 acc = _mm512_setzero_ps();
  __m128 accm = _mm_setzero_ps();
  for (int64_t i = 0; i < n / 256; ++i) {
    const uint8_t* b = x + i * kBlock;
    const __m128i sm = k4_scales(b);
    const __m512i sc = _mm512_broadcast_i32x4(_mm_cvtepu8_epi16(sm));
    const __m512i z0 = _mm512_loadu_si512(b + kQs), z1 = _mm512_loadu_si512(b + kQs + 64);
    __m512i u[4] = {_mm512_and_si512(z0, m4), _mm512_and_si512(_mm512_srli_epi16(z0, 4), m4),
                    _mm512_and_si512(z1, m4), _mm512_and_si512(_mm512_srli_epi16(z1, 4), m4)};
    if constexpr (kFive) {
      const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 16)));
      const __m512i sh[4] = {sh_lo0, sh_hi0, sh_lo1, sh_hi1};
      for (int k = 0; k < 4; ++k)  // 0xF8 = A | (B & C): the fifth bit into bit 4
        u[k] = _mm512_ternarylogic_epi32(u[k], _mm512_slli_epi16(_mm512_srlv_epi64(qh, sh[k]), 4), m10, 0xF8);
    }
    static constexpr int kRuns[4][2] = {{0, 64}, {32, 96}, {128, 192}, {160, 224}};
    __m512i isum = _mm512_setzero_si512();
    for (int k = 0; k < 4; ++k)
      isum =
          _mm512_dpwssd_epi32(isum, _mm512_maddubs_epi16(u[k], two_runs(y[i].qs, kRuns[k][0], kRuns[k][1])),
                              _mm512_permutexvar_epi16(_mm512_load_si512(kK4ScaleIdx[k]), sc));
    const float d = y[i].d * half_to_float(load_u16(b)), dmin = y[i].d * half_to_float(load_u16(b + 2));
    acc = _mm512_fmadd_ps(to_ps(isum), _mm512_set1_ps(d), acc);
    const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].bsums));
    const __m128i pairs = _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
    const __m128i mins = _mm_madd_epi16(_mm_cvtepu8_epi16(_mm_unpackhi_epi64(sm, sm)), pairs);
    accm = _mm_fmadd_ps(_mm_cvtepi32_ps(mins), _mm_set1_ps(dmin), accm);
  }
  accm = _mm_add_ps(accm, _mm_movehl_ps(accm, accm));
  accm = _mm_add_ss(accm, _mm_movehdup_ps(accm));
  *result = reduce_add(acc) - _mm_cvtss_f32(accm);
}

void q6_K_vec_dot(int64_t n, float* result, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ6_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m512i m4 = _mm512_set1_epi8(0x0F), m30 = _mm512_set1_epi8(0x30);
  const __m512i sh_lo = _mm512_set_epi64(2, 2, 2, 2, 0, 0, 0, 0),
                sh_hi = _mm512_set_epi64(6, 6, 6, 6, 4, 4, 4, 4);
  __m512 acc = _mm512_setzero_ps();
  for (int64_t i = 0; i < n / 256; ++i) {
    const __m256i sc8 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x[i].scales)));
    const __m512i sc = _mm512_castsi256_si512(sc8);
    // Values are u − 32: Σ sc·u·a − 32·Σ sc·bsum.
    const __m256i corr =
        _mm256_madd_epi16(sc8, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].bsums)));
    __m512i isum =
        _mm512_zextsi256_si512(_mm256_slli_epi32(_mm256_sub_epi32(_mm256_setzero_si256(), corr), 5));
    const __m512i qh = _mm512_loadu_si512(x[i].qh);
    for (int h = 0; h < 2; ++h) {
      const __m512i z = _mm512_loadu_si512(x[i].ql + 64 * h);
      const __m512i hd = h == 0 ? _mm512_shuffle_i64x2(qh, qh, 0x44) : _mm512_shuffle_i64x2(qh, qh, 0xEE);
      const __m512i lo = _mm512_ternarylogic_epi32(
          _mm512_and_si512(z, m4), _mm512_slli_epi16(_mm512_srlv_epi64(hd, sh_lo), 4), m30, 0xF8);
      const __m512i hi =
          _mm512_ternarylogic_epi32(_mm512_and_si512(_mm512_srli_epi16(z, 4), m4),
                                    _mm512_slli_epi16(_mm512_srlv_epi64(hd, sh_hi), 4), m30, 0xF8);
      isum = _mm512_dpwssd_epi32(isum, _mm512_maddubs_epi16(lo, _mm512_loadu_si512(y[i].qs + 128 * h)),
                                 _mm512_permutexvar_epi16(_mm512_load_si512(kK6ScaleIdx[2 * h]), sc));
      isum = _mm512_dpwssd_epi32(isum, _mm512_maddubs_epi16(hi, _mm512_loadu_si512(y[i].qs + 128 * h + 64)),
                                 _mm512_permutexvar_epi16(_mm512_load_si512(kK6ScaleIdx[2 * h + 1]), sc));
    }
    acc = _mm512_fmadd_ps(to_ps(isum), _mm512_set1_ps(y[i].d * half_to_float(x[i].d)), acc);
  }
  *result = reduce_add(acc);
}

void f16_vec_dot(int64_t n, float* result, const void* w, const void* a) {
  const uint16_t* x = static_cast<const uint16_t*>(w);
  const uint16_t* y = static_cast<const uint16_t*>(a);
  auto ld = [](const uint16_t* p) {
    return halves_to_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  };
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  int64_t i = 0;
  for (; i + 64 <= n; i += 64)
    for (int k = 0; k < 4; ++k) acc[k] = _mm512_fmadd_ps(ld(x + i + 16 * k), ld(y + i + 16 * k), acc[k]);
  for (; i + 16 <= n; i += 16) acc[0] = _mm512_fmadd_ps(ld(x + i), ld(y + i), acc[0]);
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m512 xv = halves_to_ps(_mm256_maskz_loadu_epi16(m, x + i));
    const __m512 yv = halves_to_ps(_mm256_maskz_loadu_epi16(m, y + i));
    acc[1] = _mm512_fmadd_ps(xv, yv, acc[1]);
  }
  *result = reduce_add(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])));
}

}  // namespace

void add_avx512(KernelTable& t) {
  t.at(DType::F16).vec_dot = f16_vec_dot;
  t.at(DType::Q4_0).vec_dot = q4_0_vec_dot;
  t.at(DType::Q8_0).vec_dot = q8_0_vec_dot;
  t.at(DType::Q4_K).vec_dot = k4_vec_dot<false>;
  t.at(DType::Q5_K).vec_dot = k4_vec_dot<true>;
  t.at(DType::Q6_K).vec_dot = q6_K_vec_dot;
}

}  // namespace xnai::cpu::detail
