// Private to compute/cpu: AVX-512 helpers shared by the *_avx512.cpp files.
#pragma once
#include <immintrin.h>

// GCC 12's AVX-512 headers build many intrinsics (inserti64x4, shuffle_i64x2, srlv_epi64,
// broadcasts, extracts …) on an intentionally undefined pass-through operand, which
// -W(maybe-)uninitialized reports at every inlined use. The warning is a known header false
// positive (GCC PR 105593), so it is silenced for the files that include this one.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#include <cstdint>

#include <cstring>

#include "compute/cpu/simd_avx2.h"

namespace xnai::cpu::detail {

inline __m512 to_ps(__m512i v) { return _mm512_maskz_cvtepi32_ps(0xFFFF, v); }

// The 4 bytes at p (an activation dword) in every 32-bit lane.
inline __m512i bcast32(const void* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

// 16 fp16 values (the low 256 bits of `words`) to float.
inline __m512 halves_to_ps(__m512i words) {
  return _mm512_maskz_cvtph_ps(0xFFFF, _mm512_castsi512_si256(words));
}
inline __m512 halves_to_ps(__m256i h) { return _mm512_maskz_cvtph_ps(0xFFFF, h); }

inline float reduce_add(__m512 v) {
  const __m256 hi = _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xF, _mm512_castps_pd(v), 1));
  return hsum_ps(_mm256_add_ps(_mm512_castps512_ps256(v), hi));
}

// Mask of the first n bytes of a 64-byte load (n clamped to [0, 64]).
inline __mmask64 byte_mask(int64_t n) {
  return n >= 64 ? ~__mmask64{0} : n <= 0 ? __mmask64{0} : ((__mmask64{1} << n) - 1);
}

}  // namespace xnai::cpu::detail
