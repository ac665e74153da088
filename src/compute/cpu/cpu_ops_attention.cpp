// Scaled dot-product attention for one query row, with the roundings and summation orders
// of ggml's non-flash path (KQ = mul_mat(K, Q), soft_max_ext, KQV = mul_mat(V, KQ)):
// - F16 cache: Q is rounded to F16 before Q·K (mul_mat converts src1 to the cache type),
//   and the softmax probabilities are rounded to F16 before they weight V.
// - F32 cache: all F32.
// - Q·K and the V sum use cpu_vec's ggml orders (GEMM for batches, vec_dot for one token); the softmax scales
// in F32, subtracts the
//   max, sums exp_ggml in ggml's blocks and multiplies by the float reciprocal of the sum.
// Keys the causal mask hides are skipped: their weight is exactly 0 in ggml too.
#include <algorithm>
#include <cstring>
#include <limits>

#include "compute/cpu/cpu_ops.h"
#include "compute/cpu/cpu_vec.h"

namespace xnai::cpu {

void attention_item(const AttentionArgs& a, int64_t item, float* scratch) {
  const VecKernels& vk = vec();
  const int64_t t = item / a.n_head;
  const int64_t h = item % a.n_head;
  const int64_t hd = a.head_dim;
  const int64_t kv_row = hd * a.n_head_kv;
  const int64_t kvh = h / (a.n_head / a.n_head_kv);
  const int64_t n_vis = a.causal ? std::min(a.n_kv, a.pos0 + t + 1) : a.n_kv;
  float* out = a.out + t * hd * a.n_head + h * hd;
  if (n_vis <= 0) {
    std::memset(out, 0, static_cast<size_t>(hd) * sizeof(float));
    return;
  }
  // ggml multiplies with its GEMM for a batch of two or more tokens, with vec_dot for one,
  // over the cache length padded to 32 (llama.cpp's KV padding without flash attention).
  const DotOrder order = a.n_tok >= 2 ? DotOrder::Gemm : DotOrder::VecDot;
  const int64_t n_pad = (a.n_kv + 31) / 32 * 32;
  float* scores = scratch;
  float* qbuf = scratch + a.n_kv;
  float* lanes = qbuf + hd;

  const float* q = a.q + item * hd;
  if (a.f16_cache) {
    std::memcpy(qbuf, q, static_cast<size_t>(hd) * sizeof(float));
    vk.round_f16(qbuf, hd);
    const auto* k = static_cast<const uint16_t*>(a.k) + kvh * hd;
    const auto dot = order == DotOrder::Gemm ? vk.dot_f16_gemm : vk.dot_f16_vecdot;
    for (int64_t j = 0; j < n_vis; ++j) scores[j] = dot(k + j * kv_row, qbuf, hd);
  } else {
    const auto* k = static_cast<const float*>(a.k) + kvh * hd;
    for (int64_t j = 0; j < n_vis; ++j) scores[j] = vk.dot_f32(k + j * kv_row, q, hd);
  }

  float max = -std::numeric_limits<float>::infinity();
  for (int64_t j = 0; j < n_vis; ++j) {
    scores[j] *= a.scale;
    max = std::max(max, scores[j]);
  }
  const double sum = vk.softmax_exp(scores, scores, max, n_vis);
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t j = 0; j < n_vis; ++j) scores[j] *= inv;

  if (a.f16_cache) {
    vk.round_f16(scores, n_vis);
    vk.weighted_rows_f16(out, scores, static_cast<const uint16_t*>(a.v) + kvh * hd, kv_row, n_vis, n_pad, hd,
                         order, lanes);
  } else {
    vk.weighted_rows_f32(out, scores, static_cast<const float*>(a.v) + kvh * hd, kv_row, n_vis, n_pad, hd,
                         order, lanes);
  }
}

}  // namespace xnai::cpu
