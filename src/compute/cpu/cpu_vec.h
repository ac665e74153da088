// Small vector primitives for the CPU backend's own ops (attention, SwiGLU, cache writes),
// with a portable version and an AVX2/F16C one chosen at run time. The heavy weight matmul
// lives in matmul.h; these serve the per-head loops around it.
//
// Summation orders copy those of ggml's x86 CPU build (AVX-512) where that build's choice
// is visible in the result, so that logits agree with llama.cpp to the last bit as often as
// possible: a one-ulp difference in an activation can flip a later F16 or Q8 rounding.
// - 16-lane order: element i goes to lane i mod 16 (fused multiply-add per lane), and the
//   16 lanes are combined by the tree ((l0+l8)+(l4+l12)) + ((l2+l10)+(l6+l14)) + … that
//   _mm512_reduce_add_ps uses. ggml's F16/F32 GEMM (llamafile's tinyBLAS) sums this way.
// - ggml_vec_dot_f16/f32 (used instead of the GEMM for a single token) keep four such
//   accumulators over steps of 64 elements and add the remainder separately.
// - exp_ggml: e^x by the reduction and polynomial of ggml's AVX-512 softmax/SiLU, rounded
//   once at the end. Accurate to ~1.5 ulp.
//
// All functions are pure, thread-safe, allocation-free, and take unaligned pointers.
// F16 values are IEEE half bit patterns; conversions round to nearest even, as F16C does.
#pragma once
#include <cmath>
#include <cstdint>

namespace xnai::cpu {

// Scalar e^x with exactly the arithmetic of the vector kernels below (see header comment).
inline float exp_ggml(float x) {
  constexpr float kRoundShift = 0x1.8p23f;  // adding it rounds to an integer
  constexpr float kLog2e = 0x1.715476p+0f;
  constexpr float kLn2Hi = 0x1.62e4p-1f;  // ln 2 = kLn2Hi + kLn2Lo
  constexpr float kLn2Lo = 0x1.7f7d1cp-20f;
  constexpr float kC1 = 0x1.ffffecp-1f, kC2 = 0x1.fffdb6p-2f, kC3 = 0x1.555e66p-3f;
  constexpr float kC4 = 0x1.573e2ep-5f, kC5 = 0x1.0e4020p-7f;
  const float n = std::fma(x, kLog2e, kRoundShift) - kRoundShift;  // x / ln2, rounded
  const float r = std::fma(-n, kLn2Lo, std::fma(-n, kLn2Hi, x));   // x - n·ln2
  const float r2 = r * r;
  const float p =
      std::fma(std::fma(std::fma(kC5, r, kC4), r2, std::fma(kC3, r, kC2)), r2, std::fma(kC1, r, 1.0f));
  if (std::isnan(n)) return n;
  if (std::fabs(n) > 192.0f) return n <= 0.0f ? 0.0f : INFINITY;
  return static_cast<float>(std::ldexp(static_cast<double>(p), static_cast<int>(n)));
}

// Which of ggml's two F16/F32 product routines an attention product imitates: tinyBLAS
// (llamafile's GEMM, used when the batch has two or more tokens) or ggml_vec_dot_* (one
// token). See the header comment for the orders.
enum class DotOrder { Gemm, VecDot };

struct VecKernels {
  // ggml_vec_dot_f32: four 16-lane accumulators over steps of 64 combined as
  // (a0 + a2) + (a1 + a3), the lane tree, then the tail added with float FMAs.
  float (*dot_f32)(const float* a, const float* b, int64_t n);
  // Σ f32(a[i]) · b[i] where b holds F16-representable values. Gemm: one 16-lane
  // accumulator and the tree, tail with float FMAs. VecDot (ggml_vec_dot_f16): as dot_f32's
  // vector part, then the tail added in double.
  float (*dot_f16_gemm)(const uint16_t* a, const float* b, int64_t n);
  float (*dot_f16_vecdot)(const uint16_t* a, const float* b, int64_t n);
  void (*to_f16)(const float* x, uint16_t* y, int64_t n);
  void (*round_f16)(float* x, int64_t n);  // x = f32(f16(x)) in place
  // y[i] = exp_ggml(x[i] - max) for i < n (x may be -inf: gives 0). Returns Σ y as ggml's
  // softmax sums it: blocks of 16 (zero-padded) summed in the 16-lane tree in float, the
  // block sums added in double. y may equal x.
  double (*softmax_exp)(float* y, const float* x, float max, int64_t n);
  // out[0..hd) = Σ_j p[j] · rows[j·stride + 0..hd) over j < n; rows with p[j] == 0 are
  // skipped. The sum over j follows `order` as if j ran to n_pad ≥ n with zero weights:
  // Gemm — lane j mod 16; VecDot — lane j mod 64 for j below n_pad rounded down to 64,
  // the rest added on (in double for F16 rows, float for F32 rows). `lanes` holds
  // 64·hd floats of scratch.
  void (*weighted_rows_f16)(float* out, const float* p, const uint16_t* rows, int64_t stride, int64_t n,
                            int64_t n_pad, int64_t hd, DotOrder order, float* lanes);
  void (*weighted_rows_f32)(float* out, const float* p, const float* rows, int64_t stride, int64_t n,
                            int64_t n_pad, int64_t hd, DotOrder order, float* lanes);
  // y[i] = (g[i] / (1 + exp_ggml(-g[i]))) · u[i]: ggml_silu's vector path, then ggml_mul.
  void (*silu_mul)(const float* g, const float* u, float* y, int64_t n);
};

// The best kernels for this CPU (AVX2+FMA+F16C when present, else portable), following
// quant.h's simd_level(): SimdLevel::Portable selects the portable set (tests use it).
// Both sets give bit-identical results.
const VecKernels& vec();
const VecKernels& vec_portable();
// The AVX2 set; call only on a CPU with AVX2, FMA and F16C.
const VecKernels* vec_avx2();

// The 16-lane tree sum of v[0..16), shared by the portable kernels.
inline float tree_sum16(const float* v) {
  float t8[8], t4[4];
  for (int i = 0; i < 8; ++i) t8[i] = v[i + 8] + v[i];
  for (int i = 0; i < 4; ++i) t4[i] = t8[i + 4] + t8[i];
  return (t4[0] + t4[2]) + (t4[1] + t4[3]);
}

// The VecDot remainder of weighted_rows_*: rows [j0, n) added on sequentially, in double
// for F16 rows (ggml_vec_dot_f16) and with float FMAs for F32 rows (ggml_vec_dot_f32 as
// GCC contracts it). Float tails elsewhere use explicit fma too, so that no result depends
// on whether a translation unit was compiled with FMA enabled.
template <class Row, class ToF32>
void add_remainder(float* out, const float* p, const Row* rows, int64_t stride, int64_t j0, int64_t n,
                   int64_t hd, ToF32 to_f32) {
  if (j0 >= n) return;
  for (int64_t d = 0; d < hd; ++d) {
    if constexpr (sizeof(Row) == 2) {
      double s = out[d];
      for (int64_t j = j0; j < n; ++j) s += static_cast<double>(to_f32(rows[j * stride + d]) * p[j]);
      out[d] = static_cast<float>(s);
    } else {
      float s = out[d];
      for (int64_t j = j0; j < n; ++j) s = std::fma(to_f32(rows[j * stride + d]), p[j], s);
      out[d] = s;
    }
  }
}

}  // namespace xnai::cpu
