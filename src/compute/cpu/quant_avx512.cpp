// AVX-512 vec_dot of F16. The quantized vec_dots stay the AVX2 ones at this level: a single
// dot product must follow ggml's 8-lane f32 order (ggml_order.h), which 512-bit registers do
// not speed up; the wide kernels live in the matmul instead (several outputs per register).
#include <immintrin.h>

#include "compute/cpu/kernel_table.h"
#include "compute/cpu/simd_avx512.h"

namespace xnai::cpu::detail {
namespace {

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

void add_avx512(KernelTable& t) { t.at(DType::F16).vec_dot = f16_vec_dot; }

}  // namespace xnai::cpu::detail
