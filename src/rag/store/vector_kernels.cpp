#include "rag/store/vector_kernels.h"

#include "core/cpu_features.h"

namespace xnai::rag::store {
namespace {

float dot_scalar(const float* a, const float* b, size_t n) {
  // Four partial sums: the same association the SIMD kernels use, roughly.
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; ++i) s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

void dot_rows_scalar(const float* q, const float* rows, size_t n_rows, size_t n, size_t stride, float* out) {
  for (size_t r = 0; r < n_rows; ++r) out[r] = dot_scalar(q, rows + r * stride, n);
}

const VectorKernels kScalar{"scalar", dot_scalar, dot_rows_scalar};

}  // namespace

const VectorKernels& scalar_vector_kernels() { return kScalar; }

const VectorKernels& vector_kernels() {
  static const VectorKernels& best = []() -> const VectorKernels& {
    // The *_avx2/_avx512 files are compiled for the whole instruction-set bundle.
    if (cpu_features().has_avx512_set()) return avx512_vector_kernels();
    if (cpu_features().has_avx2_set()) return avx2_vector_kernels();
    return kScalar;
  }();
  return best;
}

}  // namespace xnai::rag::store
