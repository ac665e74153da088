// Portable kernels of the plain float types F32, F16 and BF16. Conversions round to nearest
// even (as F16C and ggml's scalar code); dot products accumulate in double, the most exact
// reference the fast paths are compared against.
#include <cstring>

#include "compute/cpu/kernel_table.h"
#include "core/fp16.h"

namespace xnai::cpu::detail {
namespace {

void f32_copy_in(const float* src, void* dst, int64_t n) { std::memcpy(dst, src, n * sizeof(float)); }
void f32_copy_out(const void* src, float* dst, int64_t n) { std::memcpy(dst, src, n * sizeof(float)); }

void f32_vec_dot(int64_t n, float* result, const void* w, const void* a) {
  const float* x = static_cast<const float*>(w);
  const float* y = static_cast<const float*>(a);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * y[i];
  *result = static_cast<float>(sum);
}

void f16_to_float(const void* src, float* dst, int64_t n) {
  const uint16_t* h = static_cast<const uint16_t*>(src);
  for (int64_t i = 0; i < n; ++i) dst[i] = fp16_to_f32(h[i]);
}

void f16_from_float(const float* src, void* dst, int64_t n) {
  uint16_t* h = static_cast<uint16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) h[i] = f32_to_fp16(src[i]);
}

void f16_vec_dot(int64_t n, float* result, const void* w, const void* a) {
  const uint16_t* x = static_cast<const uint16_t*>(w);
  const uint16_t* y = static_cast<const uint16_t*>(a);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(fp16_to_f32(x[i])) * fp16_to_f32(y[i]);
  *result = static_cast<float>(sum);
}

void bf16_to_float(const void* src, float* dst, int64_t n) {
  const uint16_t* h = static_cast<const uint16_t*>(src);
  for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(h[i]);
}

void bf16_from_float(const float* src, void* dst, int64_t n) {
  uint16_t* h = static_cast<uint16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) h[i] = f32_to_bf16(src[i]);
}

void bf16_vec_dot(int64_t n, float* result, const void* w, const void* a) {
  const uint16_t* x = static_cast<const uint16_t*>(w);
  const uint16_t* y = static_cast<const uint16_t*>(a);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(bf16_to_f32(x[i])) * bf16_to_f32(y[i]);
  *result = static_cast<float>(sum);
}

}  // namespace

void add_float_portable(KernelTable& t) {
  t.at(DType::F32) = {DType::F32, f32_copy_out, f32_copy_in, f32_vec_dot};
  t.at(DType::F16) = {DType::F16, f16_to_float, f16_from_float, f16_vec_dot};
  t.at(DType::BF16) = {DType::BF16, bf16_to_float, bf16_from_float, bf16_vec_dot};
}

}  // namespace xnai::cpu::detail
