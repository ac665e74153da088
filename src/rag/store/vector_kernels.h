// Inner-product kernels for the vector index, chosen once at run time for the CPU
// (AVX-512, AVX2+FMA, or portable scalar). Vectors are float32, any length.
//
// Contracts: pointers need no particular alignment; n may be any size (tails handled);
// kernels never allocate and are safe to call from any number of threads.
#pragma once
#include <cstddef>

namespace xnai::rag::store {

struct VectorKernels {
  const char* name;  // "avx512", "avx2", "scalar"
  // Σ a[i]·b[i] for i < n.
  float (*dot)(const float* a, const float* b, size_t n);
  // out[r] = dot(q, rows + r·stride) for r < n_rows (stride in floats, >= n).
  void (*dot_rows)(const float* q, const float* rows, size_t n_rows, size_t n, size_t stride, float* out);
};

// The fastest kernels this CPU runs (decided on the first call).
const VectorKernels& vector_kernels();
// The portable reference, for tests.
const VectorKernels& scalar_vector_kernels();

// Kernel sets of the SIMD translation units; each is only called when the CPU has the
// instructions (see vector_kernels()).
const VectorKernels& avx2_vector_kernels();
const VectorKernels& avx512_vector_kernels();

}  // namespace xnai::rag::store
