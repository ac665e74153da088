// Private to compute/cpu: the inner kernels matmul() is built from, per weight type and
// SIMD level. Each level registers what it implements; matmul falls back to a loop over
// TypeKernels::vec_dot for anything missing.
#pragma once
#include <cstddef>
#include <cstdint>

#include "compute/cpu/quant.h"

namespace xnai::cpu::detail {

// Decode kernel: several rows against a few activation columns, straight from the weights'
// row layout. Activations are first converted into the kernel's own layout (same integers
// and scales as ggml's partner type, arranged for the kernel).
struct GemvKernel {
  size_t (*act_bytes)(int64_t K);  // bytes of one converted activation column
  int64_t act_unit;                // values per independently converted unit
  int64_t max_columns;             // above this many columns the tiled kernel is faster (measured)
  int64_t k_multiple;              // K must be a multiple of this (else the tiles are used)
  // Converts units [u0, u1) of column x (K values; the last unit may be partial and is
  // zero-padded) into their place in out, so threads can split a column.
  void (*pack_act)(const float* x, int64_t K, int64_t u0, int64_t u1, uint8_t* out);
  // y[c * ldy + r] = dot(row r of w, column c of act) for r < nr, c < nc; rows w_stride
  // bytes apart, converted columns act_stride bytes apart.
  void (*run)(int64_t K, const uint8_t* w, size_t w_stride, int64_t nr, const uint8_t* act, size_t act_stride,
              int64_t nc, float* y, int64_t ldy);
};

// Tiled prefill kernel. The weights of `rows` consecutive rows are first repacked into a
// panel (so one vector register holds the same K positions of every row); activations are
// repacked once per call into a per-column layout. A tile then multiplies one panel by up
// to `cols` columns, keeping all partial sums in registers.
struct GemmKernel {
  int rows;  // rows per panel
  int cols;  // columns per tile call
  // Bytes of one packed activation column / weight panel for K values.
  size_t (*act_bytes)(int64_t K);
  size_t (*panel_bytes)(int64_t K);
  // Converts one F32 activation column into the packed layout, with ggml's quantization
  // (the same integers and scales as kernels(wtype).vec_dot_type's from_float).
  void (*pack_act)(const float* x, int64_t K, uint8_t* out);
  // Packs rows [0, nr) (nr <= rows; missing rows are zero) of w (rows w_stride bytes apart).
  void (*pack_panel)(int64_t K, const uint8_t* w, size_t w_stride, int nr, uint8_t* panel);
  // y[c * ldy + r] = dot(panel row r, act column c) for r < nr, c < nc (nc <= cols);
  // activation columns are act_stride (>= act_bytes(K)) bytes apart.
  void (*tile)(int64_t K, const uint8_t* panel, const uint8_t* act, size_t act_stride, int nc, float* y,
               int64_t ldy, int nr);
};

struct MatmulKernels {
  const GemvKernel* gemv = nullptr;
  const GemmKernel* gemm = nullptr;
};

// Kernels for one weight type at one level (each level includes the ones below it).
MatmulKernels matmul_kernels(DType wtype, SimdLevel level);

// Registration by the SIMD files (matmul_avx2.cpp, matmul_avx512.cpp); null when absent.
MatmulKernels matmul_kernels_avx2(DType wtype);
MatmulKernels matmul_kernels_avx512(DType wtype);
// F16 weights' tiles with the activations kept in F32 (matmul_f16_unrounded).
const GemmKernel* f16_unrounded_gemm_avx2();
const GemmKernel* f16_unrounded_gemm_avx512();
const GemvKernel* gemv_kernel_avx2(DType wtype);    // gemv_avx2.cpp (null where none)
const GemvKernel* gemv_kernel_avx512(DType wtype);  // gemv_avx512.cpp (null where none)

}  // namespace xnai::cpu::detail
