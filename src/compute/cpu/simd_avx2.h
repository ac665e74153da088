// Private to compute/cpu: small AVX2 helpers shared by the *_avx2.cpp and *_avx512.cpp files.
// Include only from files compiled with AVX2/FMA/F16C.
#pragma once
#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace xnai::cpu::detail {

inline float hsum_ps(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline int hsum_epi32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return _mm_cvtsi128_si32(s);
}

inline float half_to_float(uint16_t h) { return _cvtsh_ss(h); }

inline uint16_t load_u16(const void* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

// 16 packed bytes -> 32 bytes: the low nibbles (values 0-15) then the high nibbles (16-31).
inline __m256i unpack_nibbles(const uint8_t* qs) {
  const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m256i both = _mm256_set_m128i(_mm_srli_epi16(q, 4), q);
  return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
}

// Byte j of the result is 0xFF where bit j of `bits` is set, else 0.
inline __m256i expand_bits(uint32_t bits) {
  const __m256i shuf =
      _mm256_setr_epi64x(0x0000000000000000, 0x0101010101010101, 0x0202020202020202, 0x0303030303030303);
  __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(bits)), shuf);
  const __m256i bit = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ULL));
  return _mm256_cmpeq_epi8(_mm256_and_si256(v, bit), bit);
}

// The 16 Q3_K sub-block scales (6 bits, still biased by 32) from its 12 packed bytes, as
// q3_K_unpack_scales: low nibbles from bytes 0-7 (low, then high halves), top 2 bits from
// bytes 8-11 at bit 2·(j / 4). Reads the 2 bytes before `packed` (in a Q3_K block those are
// the last quants), never past the block's end.
inline __m128i q3_K_scales(const uint8_t* packed) {
  const __m128i v = _mm_srli_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(packed - 2)), 2);
  const __m128i m4 = _mm_set1_epi8(0x0F);
  const __m128i low = _mm_unpacklo_epi64(_mm_and_si128(v, m4), _mm_and_si128(_mm_srli_epi16(v, 4), m4));
  const __m128i h =
      _mm_shuffle_epi8(v, _mm_setr_epi8(8, 9, 10, 11, 8, 9, 10, 11, 8, 9, 10, 11, 8, 9, 10, 11));
  const __m128i top = _mm_and_si128(_mm_srlv_epi32(h, _mm_setr_epi32(0, 2, 4, 6)), _mm_set1_epi8(3));
  return _mm_or_si128(low, _mm_slli_epi16(top, 4));
}

// u8 × s8 byte products summed in groups of four into eight int32 lanes. Pair sums must fit
// int16 (maddubs saturates), which holds for every caller: |u| <= 63 or |s| <= 127 with u <= 128.
inline __m256i dot_u8s8(__m256i u, __m256i s) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

// s8 × s8 the same way, via |x| and the sign of x moved onto y.
inline __m256i dot_s8s8(__m256i x, __m256i y) { return dot_u8s8(_mm256_abs_epi8(x), _mm256_sign_epi8(y, x)); }

}  // namespace xnai::cpu::detail
