// AVX-512F inner products (compiled with AVX-512 flags; called only on CPUs with them).
#include <immintrin.h>

#include "rag/store/vector_kernels.h"

namespace xnai::rag::store {
namespace {

inline __mmask16 tail_mask(size_t left) { return __mmask16((1u << left) - 1u); }

// Horizontal sum. GCC 12's _mm512_reduce_add_ps and _mm512_castps512_ps256 trip
// -Wmaybe-uninitialized inside its own headers; the zero-masking extract does not.
inline float hsum(__m512 v) {
  const __m512d d = _mm512_castps_pd(v);
  const __m256 s8 = _mm256_add_ps(_mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xF, d, 0)),
                                  _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xF, d, 1)));
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

float dot_avx512(const float* a, const float* b, size_t n) {
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(), s2 = _mm512_setzero_ps(),
         s3 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
    s2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32), s2);
    s3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48), s3);
  }
  for (; i + 16 <= n; i += 16) s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
  if (i < n) {
    const __mmask16 m = tail_mask(n - i);
    s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s1);
  }
  return hsum(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

// Four rows at a time share each load of q.
void dot_rows_avx512(const float* q, const float* rows, size_t n_rows, size_t n, size_t stride, float* out) {
  size_t r = 0;
  const size_t n16 = n & ~size_t(15);
  const __mmask16 m = tail_mask(n - n16);
  for (; r + 4 <= n_rows; r += 4) {
    const float* x0 = rows + r * stride;
    const float* x1 = x0 + stride;
    const float* x2 = x1 + stride;
    const float* x3 = x2 + stride;
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(),
           a3 = _mm512_setzero_ps();
    for (size_t i = 0; i < n16; i += 16) {
      const __m512 qv = _mm512_loadu_ps(q + i);
      a0 = _mm512_fmadd_ps(qv, _mm512_loadu_ps(x0 + i), a0);
      a1 = _mm512_fmadd_ps(qv, _mm512_loadu_ps(x1 + i), a1);
      a2 = _mm512_fmadd_ps(qv, _mm512_loadu_ps(x2 + i), a2);
      a3 = _mm512_fmadd_ps(qv, _mm512_loadu_ps(x3 + i), a3);
    }
    if (n16 < n) {
      const __m512 qv = _mm512_maskz_loadu_ps(m, q + n16);
      a0 = _mm512_fmadd_ps(qv, _mm512_maskz_loadu_ps(m, x0 + n16), a0);
      a1 = _mm512_fmadd_ps(qv, _mm512_maskz_loadu_ps(m, x1 + n16), a1);
      a2 = _mm512_fmadd_ps(qv, _mm512_maskz_loadu_ps(m, x2 + n16), a2);
      a3 = _mm512_fmadd_ps(qv, _mm512_maskz_loadu_ps(m, x3 + n16), a3);
    }
    out[r] = hsum(a0);
    out[r + 1] = hsum(a1);
    out[r + 2] = hsum(a2);
    out[r + 3] = hsum(a3);
  }
  for (; r < n_rows; ++r) out[r] = dot_avx512(q, rows + r * stride, n);
}

const VectorKernels kAvx512{"avx512", dot_avx512, dot_rows_avx512};

}  // namespace

const VectorKernels& avx512_vector_kernels() { return kAvx512; }

}  // namespace xnai::rag::store
