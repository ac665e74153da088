// RMSNorm and LayerNorm rows. ggml keeps the normalisation (ggml_rms_norm / ggml_norm)
// and the gain/bias (ggml_mul / ggml_add) as separate float ops; doing them in the same
// order here keeps every rounding step identical.
#include <cmath>

#include "compute/cpu/cpu_ops.h"

namespace xnai::cpu {

void rms_norm_rows(const float* x, const float* w, int64_t n, float eps, int64_t row_begin, int64_t row_end,
                   float* y) {
  for (int64_t r = row_begin; r < row_end; ++r) {
    const float* xr = x + r * n;
    float* yr = y + r * n;
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(xr[i] * xr[i]);
    const float mean = static_cast<float>(sum / static_cast<double>(n));
    const float scale = 1.0f / std::sqrt(mean + eps);
    for (int64_t i = 0; i < n; ++i) yr[i] = (xr[i] * scale) * w[i];
  }
}

void layer_norm_rows(const float* x, const float* w, const float* b, int64_t n, float eps, int64_t row_begin,
                     int64_t row_end, float* y) {
  for (int64_t r = row_begin; r < row_end; ++r) {
    const float* xr = x + r * n;
    float* yr = y + r * n;
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(xr[i]);
    const float mean = static_cast<float>(sum / static_cast<double>(n));
    double sum2 = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      const float v = xr[i] - mean;
      yr[i] = v;
      sum2 += static_cast<double>(v * v);
    }
    const float variance = static_cast<float>(sum2 / static_cast<double>(n));
    const float scale = 1.0f / std::sqrt(variance + eps);
    if (b) {
      for (int64_t i = 0; i < n; ++i) yr[i] = (yr[i] * scale) * w[i] + b[i];
    } else {
      for (int64_t i = 0; i < n; ++i) yr[i] = (yr[i] * scale) * w[i];
    }
  }
}

}  // namespace xnai::cpu
