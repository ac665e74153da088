// Private to compute/cpu: the float summation order of ggml's x86 dot products, which every
// kernel here reproduces so results are bit-identical to llama.cpp (its random test models
// amplify a single differently rounded sum into visible logit changes).
//
// For a weight row against one activation column, the quantized kernels compute, per block
// (32 values) or super-block (256 values), eight exact int32 "lane" sums
//     S_l = Σ over the 4-value groups g ≡ l (mod 8):  scale(g) · Σ_{i<4} q[4g+i]·a[4g+i]
// (q with the type's offset applied, scale = the sub-block scale of K-quants, 1 otherwise)
// and keep eight f32 lanes acc_l = fma(d, S_l, acc_l) with d = d_w·d_a of that block, in
// block order. The result is hsum8(acc) (+ type-specific min terms below):
//     hsum8 = ((acc4 + acc0) + (acc6 + acc2)) + ((acc5 + acc1) + (acc7 + acc3))
// This is ggml's AVX2 vec_dot for every type and llamafile's tinyBLAS for Q8_0 / Q4_0 /
// Q5_0 prompts. Exception: Q4_0 tensors with a row count divisible by 8, which llama.cpp
// repacks on AVX2 CPUs (Q4_0_8x8): there each output is one chain acc = fma(I_b, d_w·d_a,
// acc) over the exact block sums I_b ("block order").
#pragma once
#include <cmath>
#include <cstdint>

namespace xnai::cpu::detail {

struct Lanes8 {
  float v[8] = {};

  void fma(float d, const int32_t s[8]) {
    for (int l = 0; l < 8; ++l) v[l] = std::fma(d, static_cast<float>(s[l]), v[l]);
  }
  float hsum() const { return ((v[4] + v[0]) + (v[6] + v[2])) + ((v[5] + v[1]) + (v[7] + v[3])); }
};

// (m0 + m2) + (m1 + m3): ggml's reduction of a 4-lane accumulator.
inline float hsum4(const float m[4]) { return (m[0] + m[2]) + (m[1] + m[3]); }

// The 8 lane sums of one 32-value run pair: q and a hold 32·runs values; sc16[j] is the
// scale of values [16j, 16j+16). s gets Σ over runs (added to what it holds).
inline void add_lane_sums(const int8_t* q, const int8_t* a, int runs, const int32_t* sc16, int32_t s[8]) {
  for (int r = 0; r < runs; ++r)
    for (int l = 0; l < 8; ++l) {
      int32_t dot = 0;
      for (int i = 0; i < 4; ++i) dot += q[32 * r + 4 * l + i] * a[32 * r + 4 * l + i];
      s[l] += sc16[2 * r + l / 4] * dot;
    }
}

}  // namespace xnai::cpu::detail
