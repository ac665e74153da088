// The weight matrix multiply of the CPU backend: y = W·x for W of any computable type.
//
// Numerics are ggml's: the activations are first converted to kernels(wtype).vec_dot_type
// (Q8_0 / Q8_1 / Q8_K / F16 / BF16 bytes identical to ggml's x86 build), then every output
// of a quantized weight is summed exactly as llama.cpp's x86 CPU backend sums it (its
// vec_dot lane order, or the block order of its repacked Q4_0 for Q4_0 matrices with
// N % 8 == 0; see ggml_order.h): bit-identical at every SIMD level, batch size and thread
// count. Float weights (F32/F16/BF16) are summed in this file's own order.
#pragma once
#include <cstdint>
#include <vector>

#include "core/dtype.h"
#include "core/thread_pool.h"

namespace xnai::cpu {

// y[N, M] = W[K, N] · x[K, M]: W holds N rows of K values of type wtype (row_size(wtype, K)
// bytes each, rows contiguous); x and y are contiguous F32, column j of x is the activation
// vector of token j (K floats) and column j of y its N outputs.
// Activations are converted to kernels(wtype).vec_dot_type once per call, split over the
// pool's threads; rows of W are then split over the threads.
// scratch: caller-owned, grown as needed and reused, so steady state does not allocate.
// Throws Error(Unsupported) for a type without kernels and Error(InvalidArgument) when K is
// not a multiple of the block size; never throws once the work has started.
// Must be called from one thread at a time per pool (ThreadPool::run's rule).
void matmul(ThreadPool& pool, DType wtype, const void* w, int64_t K, int64_t N, const float* x, int64_t M,
            float* y, std::vector<uint8_t>& scratch);

// F16 weights times F32 activations that are NOT rounded to F16 first (embedding models,
// whose reference keeps F32 activations), on the float tiles: f32 accumulation in the
// tiles' order. Returns false, computing nothing, where no SIMD level has those tiles.
bool matmul_f16_unrounded(ThreadPool& pool, const void* w, int64_t K, int64_t N, const float* x, int64_t M,
                          float* y, std::vector<uint8_t>& scratch);

// Q4_0 matrices repacked into 16-row panels (q4_0_r16.h), the layout of the AVX-512 decode
// kernel: the same bytes rearranged so the kernel needs no in-register transposes, and the
// same results as matmul(Q4_0) bit for bit at any column count.
// Supported when the chosen SIMD level is AVX-512 and N % 16 == 0 (K % 32 == 0 as Q4_0 is).
bool q4_0_panels_supported(int64_t K, int64_t N);
// out: N · row_size(Q4_0, K) bytes, not overlapping w. Throws Error(InvalidArgument) for a
// shape the layout cannot hold.
void repack_q4_0_panels(const void* w, int64_t K, int64_t N, void* out);
// matmul() for a repacked weight; throws Error(Unsupported) where !q4_0_panels_supported.
void matmul_q4_0_panels(ThreadPool& pool, const void* panels, int64_t K, int64_t N, const float* x, int64_t M,
                        float* y, std::vector<uint8_t>& scratch);

}  // namespace xnai::cpu
