// Private to compute/cpu: how the per-file kernel implementations are collected into the
// per-level tables that kernels() serves. Each SIMD level starts from the level below and
// overrides the entries it implements, so a missing fast path falls back to a slower one.
#pragma once
#include <array>
#include <cstdint>

#include "compute/cpu/quant.h"

namespace xnai::cpu::detail {

inline constexpr int kTypeSlots = 40;  // > largest ggml type id we know

struct KernelTable {
  std::array<TypeKernels, kTypeSlots> types{};
  std::array<bool, kTypeSlots> present{};

  TypeKernels& at(DType t) {
    present[static_cast<int>(t)] = true;
    return types[static_cast<int>(t)];
  }
};

using QuantizeRowFn = void (*)(const float* src, void* dst, int64_t n);

// Portable reference kernels (quant_float.cpp, quant_legacy.cpp, quant_kquants.cpp).
void add_float_portable(KernelTable& t);
void add_legacy_portable(KernelTable& t);
void add_kquants_portable(KernelTable& t);
// SIMD overrides (quant_avx2.cpp, quant_avx512.cpp); callers check the CPU first.
void add_avx2(KernelTable& t);
void add_avx512(KernelTable& t);

// Q4_0 row · Q8_0 column in the block order of llama.cpp's repacked Q4_0 (ggml_order.h),
// which it uses for every Q4_0 matrix whose row count is a multiple of 8.
float q4_0_dot_blocks(int64_t n, const void* w, const void* a);

// ggml's reference weight quantizers (llama-quantize without an imatrix), or null.
QuantizeRowFn reference_quantizer(DType t);

// Reference quantizers by name, for tests and quantize_weights.
void quantize_row_q4_0_ref(const float* x, void* y, int64_t n);
void quantize_row_q4_1_ref(const float* x, void* y, int64_t n);
void quantize_row_q5_0_ref(const float* x, void* y, int64_t n);
void quantize_row_q5_1_ref(const float* x, void* y, int64_t n);
void quantize_row_q8_0_ref(const float* x, void* y, int64_t n);  // roundf, as llama-quantize
void quantize_row_q2_K_ref(const float* x, void* y, int64_t n);
void quantize_row_q3_K_ref(const float* x, void* y, int64_t n);
void quantize_row_q4_K_ref(const float* x, void* y, int64_t n);
void quantize_row_q5_K_ref(const float* x, void* y, int64_t n);
void quantize_row_q6_K_ref(const float* x, void* y, int64_t n);

}  // namespace xnai::cpu::detail
