// AVX2 + FMA inner products (compiled with -mavx2 -mfma; called only on CPUs with them).
#include <immintrin.h>

#include "rag/store/vector_kernels.h"

namespace xnai::rag::store {
namespace {

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

float dot_avx2(const float* a, const float* b, size_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(),
         s3 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
    s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
  }
  for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
  float s = hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

// Two rows at a time share each load of q.
void dot_rows_avx2(const float* q, const float* rows, size_t n_rows, size_t n, size_t stride, float* out) {
  size_t r = 0;
  for (; r + 2 <= n_rows; r += 2) {
    const float* x = rows + r * stride;
    const float* y = x + stride;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), b0 = _mm256_setzero_ps(),
           b1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
      const __m256 q0 = _mm256_loadu_ps(q + i), q1 = _mm256_loadu_ps(q + i + 8);
      a0 = _mm256_fmadd_ps(q0, _mm256_loadu_ps(x + i), a0);
      a1 = _mm256_fmadd_ps(q1, _mm256_loadu_ps(x + i + 8), a1);
      b0 = _mm256_fmadd_ps(q0, _mm256_loadu_ps(y + i), b0);
      b1 = _mm256_fmadd_ps(q1, _mm256_loadu_ps(y + i + 8), b1);
    }
    float sa = hsum(_mm256_add_ps(a0, a1)), sb = hsum(_mm256_add_ps(b0, b1));
    for (; i < n; ++i) {
      sa += q[i] * x[i];
      sb += q[i] * y[i];
    }
    out[r] = sa;
    out[r + 1] = sb;
  }
  for (; r < n_rows; ++r) out[r] = dot_avx2(q, rows + r * stride, n);
}

const VectorKernels kAvx2{"avx2", dot_avx2, dot_rows_avx2};

}  // namespace

const VectorKernels& avx2_vector_kernels() { return kAvx2; }

}  // namespace xnai::rag::store
