// The CPU backend's op kernels on raw float/half arrays (private to compute/cpu). Each
// works on a slice [begin, end) of its rows or items so the backend can hand slices to
// the thread pool. Numerics follow ggml's CPU path (see the comments at each kernel); none
// allocates or throws.
#pragma once
#include <cstdint>

#include "compute/backend.h"

namespace xnai::cpu {

// --- normalisation (rows of n values) ---
// y = x * (1/sqrt(mean(x²) + eps)) * w: squares in float, summed in double, as ggml.
void rms_norm_rows(const float* x, const float* w, int64_t n, float eps, int64_t row_begin, int64_t row_end,
                   float* y);
// y = (x - mean) * (1/sqrt(var + eps)) * w + b; b may be null.
void layer_norm_rows(const float* x, const float* w, const float* b, int64_t n, float eps, int64_t row_begin,
                     int64_t row_end, float* y);

// --- element-wise on [begin, end) ---
void add_range(const float* a, const float* b, int64_t b_period, int64_t begin, int64_t end, float* y);
// Over rows of row_len values, as ggml_silu then ggml_mul: the first multiple of 16 of each
// row takes the vector path (exp_ggml), the rest libm's expf.
void silu_mul_range(const float* gate, const float* up, int64_t row_len, int64_t begin, int64_t end,
                    float* y);
// ggml_gelu with its F16 table: x <= -10 → 0, x >= 10 → x, else gelu_tanh(f16(x)) rounded
// to F16 (the table ggml builds by default, so BERT matches llama.cpp bit for bit).
void gelu_range(const float* x, int64_t begin, int64_t end, float* y);
// The reference formula the table is built from (float math, as ggml_gelu_f32).
float gelu_tanh(float x);

// --- rotary embedding ---
struct RopeShape {
  int64_t head_dim = 0;
  int64_t n_head = 0;
  const float* freq_factors = nullptr;  // [n_dims/2] or null
};
// Rotates items [begin, end) where item = token * n_head + head. `pos` has one position per
// token. n_dims must be even and ≤ min(head_dim, 1024).
void rope_items(const float* x, const int32_t* pos, const RopeShape& s, const compute::RopeParams& p,
                int64_t begin, int64_t end, float* y);

// --- attention (ggml's non-flash path) ---
struct AttentionArgs {
  const float* q = nullptr;  // [head_dim, n_head, n_tok]
  const void* k = nullptr;   // cache rows of kv_row values (F16 or F32)
  const void* v = nullptr;
  bool f16_cache = true;
  int64_t head_dim = 0, n_head = 0, n_head_kv = 0, n_tok = 0;
  int64_t n_kv = 0, pos0 = 0;
  float scale = 1.0f;
  bool causal = true;
  float* out = nullptr;  // [head_dim * n_head, n_tok]
};
// Per-thread scratch for attention_item, in floats.
inline int64_t attention_scratch_floats(int64_t n_kv, int64_t head_dim) { return n_kv + 65 * head_dim; }
// One query row: item = token * n_head + head; `scratch` holds attention_scratch_floats().
void attention_item(const AttentionArgs& a, int64_t item, float* scratch);

}  // namespace xnai::cpu
