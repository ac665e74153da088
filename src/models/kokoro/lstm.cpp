// Bidirectional single-layer LSTM in PyTorch's layout (gate rows i, f, g, o).
#include <cmath>

#include "models/kokoro/kokoro_internal.h"
#include "models/kokoro/parallel.h"

namespace xnai::models::kokoro {
namespace {

float sigmoid(float v) { return 1.f / (1.f + std::exp(-v)); }

// The recurrence of one direction; z [T, 4H] holds the input contributions of every step.
// Runs on any thread: it uses no pool.
void run_direction(const Mat& z, const Weights& w, const std::string& prefix, const std::string& sfx,
                   bool reverse, Mat& out, int64_t col0) {
  const Param& whh = w.get(prefix + "weight_hh_l0" + sfx);
  const Param& bhh = w.get(prefix + "bias_hh_l0" + sfx);
  const int64_t H = whh.dim(1), T = z.rows;
  std::vector<float> h(H, 0.f), c(H, 0.f), g(4 * H);
  for (int64_t step = 0; step < T; ++step) {
    const int64_t t = reverse ? T - 1 - step : step;
    const float* zt = z.row(t);
    for (int64_t r = 0; r < 4 * H; ++r) {
      const float* wr = whh.data.data() + r * H;
      g[r] = zt[r] + bhh.data[r] + dot16(wr, h.data(), H);
    }
    float* o = out.row(t) + col0;
    for (int64_t k = 0; k < H; ++k) {
      const float ig = sigmoid(g[k]), fg = sigmoid(g[H + k]), gg = std::tanh(g[2 * H + k]),
                  og = sigmoid(g[3 * H + k]);
      c[k] = fg * c[k] + ig * gg;
      h[k] = og * std::tanh(c[k]);
      o[k] = h[k];
    }
  }
}

}  // namespace

Mat bilstm(const Mat& x, const Weights& w, const std::string& prefix) {
  const int64_t H = w.get(prefix + "weight_hh_l0").dim(1);
  Mat out(x.rows, 2 * H);
  const Mat zf = linear(x, w.get(prefix + "weight_ih_l0"), &w.get(prefix + "bias_ih_l0"));
  const Mat zr = linear(x, w.get(prefix + "weight_ih_l0_reverse"), &w.get(prefix + "bias_ih_l0_reverse"));
  // The two recurrences are independent: one per thread when the pool has two.
  parallel_for(2, double(x.rows) * 8 * H * H * 2, [&](int64_t b, int64_t e) {
    for (int64_t dir = b; dir < e; ++dir)
      run_direction(dir ? zr : zf, w, prefix, dir ? "_reverse" : "", dir == 1, out, dir ? H : 0);
  });
  return out;
}

}  // namespace xnai::models::kokoro
