// Rotary position embedding with ggml_rope_ext's semantics: linear scaling (freq_scale),
// YaRN (ext_factor, attn_factor, beta_fast/slow, n_ctx_orig) and per-dimension frequency
// factors (llama-3.1 rope_freqs). The angle for pair i is pos·base^(-2i/n_dims), built by
// repeated float multiplication exactly as ggml's rope cache does, so angles at large
// positions round the same way. The rotation fuses its first product into the sum
// (x0·c − x1·s as fma(x0, c, −x1·s)) because ggml's build contracts the same expression so;
// the plain two-product form is one ulp off in ~20% of values, which can flip the F16
// rounding of q or k and so change the attention scores.
#include <algorithm>
#include <cmath>
#include <numbers>

#include "compute/cpu/cpu_ops.h"

namespace xnai::cpu {
namespace {

constexpr int64_t kMaxRopeDims = 1024;

// Dimension where YaRN's ramp crosses n_rot rotations over the original context.
float yarn_corr_dim(int n_dims, int n_ctx_orig, float n_rot, float base) {
  return static_cast<float>(n_dims) *
         std::log(static_cast<float>(n_ctx_orig) / (n_rot * 2.0f * std::numbers::pi_v<float>)) /
         (2.0f * std::log(base));
}

struct YarnDims {
  float low = 0.0f, high = 0.0f;
};

YarnDims yarn_corr_dims(const compute::RopeParams& p) {
  const float start = std::floor(yarn_corr_dim(p.n_dims, p.n_ctx_orig, p.beta_fast, p.freq_base));
  const float end = std::ceil(yarn_corr_dim(p.n_dims, p.n_ctx_orig, p.beta_slow, p.freq_base));
  return {std::max(0.0f, start), std::min(static_cast<float>(p.n_dims - 1), end)};
}

float yarn_ramp(const YarnDims& d, int64_t i0) {
  const float y = (static_cast<float>(i0 / 2) - d.low) / std::max(0.001f, d.high - d.low);
  return 1.0f - std::min(1.0f, std::max(0.0f, y));
}

// cache[i0], cache[i0+1] = cos, sin of pair i0/2 at position `pos`.
void fill_cache(int32_t pos, const compute::RopeParams& p, const YarnDims& corr, const float* freq_factors,
                float* cache) {
  const float theta_scale = std::pow(p.freq_base, -2.0f / static_cast<float>(p.n_dims));
  float theta = static_cast<float>(pos);
  for (int64_t i0 = 0; i0 < p.n_dims; i0 += 2) {
    const float ff = freq_factors ? freq_factors[i0 / 2] : 1.0f;
    const float theta_extrap = theta / ff;
    const float theta_interp = p.freq_scale * theta_extrap;
    float angle = theta_interp;
    float mscale = p.attn_factor;
    if (p.ext_factor != 0.0f) {
      const float ramp_mix = yarn_ramp(corr, i0) * p.ext_factor;
      angle = theta_interp * (1.0f - ramp_mix) + theta_extrap * ramp_mix;
      mscale *= 1.0f + 0.1f * std::log(1.0f / p.freq_scale);
    }
    cache[i0] = std::cos(angle) * mscale;
    cache[i0 + 1] = std::sin(angle) * mscale;
    theta *= theta_scale;
  }
}

}  // namespace

void rope_items(const float* x, const int32_t* pos, const RopeShape& s, const compute::RopeParams& p,
                int64_t begin, int64_t end, float* y) {
  const YarnDims corr = yarn_corr_dims(p);
  const int64_t n_dims = p.n_dims;
  const int64_t half = n_dims / 2;
  float cache[kMaxRopeDims];
  int64_t cached_tok = -1;
  for (int64_t item = begin; item < end; ++item) {
    const int64_t tok = item / s.n_head;
    if (tok != cached_tok) {
      fill_cache(pos[tok], p, corr, s.freq_factors, cache);
      cached_tok = tok;
    }
    const float* src = x + item * s.head_dim;
    float* dst = y + item * s.head_dim;
    if (p.mode == compute::RopeMode::Normal) {
      for (int64_t i0 = 0; i0 < n_dims; i0 += 2) {
        const float c = cache[i0], sn = cache[i0 + 1];
        const float x0 = src[i0], x1 = src[i0 + 1];
        dst[i0] = std::fma(x0, c, -(x1 * sn));
        dst[i0 + 1] = std::fma(x0, sn, x1 * c);
      }
    } else {
      for (int64_t i0 = 0; i0 < n_dims; i0 += 2) {
        const float c = cache[i0], sn = cache[i0 + 1];
        const int64_t ic = i0 / 2;
        const float x0 = src[ic], x1 = src[ic + half];
        dst[ic] = std::fma(x0, c, -(x1 * sn));
        dst[ic + half] = std::fma(x0, sn, x1 * c);
      }
    }
    if (dst != src)
      for (int64_t i = n_dims; i < s.head_dim; ++i) dst[i] = src[i];
  }
}

}  // namespace xnai::cpu
