// CPU numeric kernels per tensor type: dequantization, quantization and dot products, with a
// portable reference and AVX2 / AVX-512 fast paths chosen at run time.
//
// Numerics follow ggml's x86 CPU build (llama.cpp c392e50) so logits agree with llama.cpp:
// - A weight type is dotted with activations in its partner layout `vec_dot_type`
//   (Q8_0 for Q4_0/Q5_0/Q8_0, Q8_1 for Q4_1/Q5_1, Q8_K for the K-quants, F16/BF16/F32 for
//   themselves). Quantized dots are exact in their integer parts and sum in ggml's f32 order
//   (compute/cpu/ggml_order.h), so every SIMD level returns the same bits as llama.cpp's
//   x86 vec_dot. (F32/F16/BF16 dots sum in their own order.)
// - from_float of an activation layout (Q8_0, Q8_1, Q8_K, F16, BF16) reproduces the bytes
//   ggml's x86 build writes: Q8_0/Q8_1 scale by 127/amax and round half to even (the
//   AVX path, which differs from ggml's scalar quantize_row_q8_0_ref in ties and the last bit
//   of the scale); Q8_K is quantize_row_q8_K_ref. Every SIMD level writes identical bytes.
// - from_float of a weight layout (Q4_0 … Q6_K) is ggml's reference quantizer
//   (quantize_row_*_ref), bit-exact with what llama-quantize writes without an imatrix.
//
// Thread-safety: all functions are reentrant; set_simd_level is meant for tests and benches
// and must not race with kernels() callers that expect a stable level.
#pragma once
#include <cstdint>

#include "core/dtype.h"

namespace xnai::cpu {

enum class SimdLevel { Portable, Avx2, Avx512 };

// Best level this CPU (and OS) supports: Avx512 needs AVX-512 F/BW/VL/DQ + VNNI, Avx2 needs
// AVX2 + FMA + F16C.
SimdLevel detected_simd_level();
// Forces a level (tests run every level); a level above detected_simd_level() is clamped.
void set_simd_level(SimdLevel level);
SimdLevel simd_level();
const char* simd_level_name(SimdLevel level);  // "portable", "avx2", "avx512"

struct TypeKernels {
  // Activation layout paired with this weight type.
  DType vec_dot_type;
  // Dequantizes n values (n a multiple of the block size).
  void (*to_float)(const void* src, float* dst, int64_t n);
  // Quantizes n values into this type's layout (see the header comment for which bytes).
  void (*from_float)(const float* src, void* dst, int64_t n);
  // *result = dot(w, a): w holds n values of this type, a n values in vec_dot_type layout.
  // Null for the activation-only layouts Q8_1 and Q8_K.
  void (*vec_dot)(int64_t n, float* result, const void* w, const void* a);
};

// Kernels of type t at the current simd_level(); throws Error(Unsupported) naming the type
// for types without kernels. Q8_1 and Q8_K have to_float / from_float only.
const TypeKernels& kernels(DType t);
// Same at an explicit level (clamped to detected_simd_level()).
const TypeKernels& kernels(DType t, SimdLevel level);

// Quantizes n_rows rows of n_per_row values (a multiple of the block size) into rows of
// row_size(t, n_per_row) bytes with ggml's reference quantizer (no importance matrix), so the
// bytes equal llama-quantize's for the same input. Supports Q4_0, Q4_1, Q5_0, Q5_1, Q8_0,
// Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, F16, BF16 and F32; throws Error(Unsupported) otherwise and
// Error(InvalidArgument) when n_per_row is not a multiple of the block size.
void quantize_weights(DType t, const float* src, void* dst, int64_t n_rows, int64_t n_per_row);

}  // namespace xnai::cpu
