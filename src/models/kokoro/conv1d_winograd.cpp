// Winograd F(4,3) convolution (conv1d_winograd.h). The output is cut into groups of tiles
// whose transformed inputs fit a budget; per group two parallel phases: the input
// transform (split by input channel) and, split by block of output channels (and by runs
// of tiles when the blocks are few), the weight transform, the six products and the
// output transform. Every element is computed by the same operations whatever the split.
#include "models/kokoro/conv1d_winograd.h"

#include <algorithm>
#include <vector>

#include "core/error.h"
#include "core/thread_pool.h"
#include "models/kokoro/huge_buffer.h"
#include "models/kokoro/kokoro_simd.h"
#include "models/kokoro/parallel.h"

namespace xnai::models::kokoro {
namespace {

// G (the weight transform, 6 x 3) as the rows of dft_bins' coefficient array.
constexpr float kG[6 * 3] = {1.f / 4,  0.f,       0.f,      -1.f / 6, -1.f / 6, -1.f / 6,
                             -1.f / 6, 1.f / 6,   -1.f / 6, 1.f / 24, 1.f / 12, 1.f / 6,
                             1.f / 24, -1.f / 12, 1.f / 6,  0.f,      0.f,      1.f};
// Transformed inputs of a group: 6 planes of [cin][lanes] floats.
constexpr double kGroupBytes = 8.0 * (1 << 20);

// The synthesizing thread's buffer for the transformed inputs, kept between calls.
thread_local HugeBuffer t_inputs;

}  // namespace

bool conv1d_winograd_pays(int64_t cin, int64_t cout, int64_t K, int64_t lout) {
  return K == 3 && cin >= 32 && cout >= 32 && lout >= 32 && simd::level_kernels() != nullptr;
}

void conv1d_winograd(int64_t cin, int64_t cols, const ConvRowFill& fill, const Param& w, const Param* b,
                     int pad, int dilation, Mat& y, bool accumulate) {
  const simd::LevelKernels* kern = simd::level_kernels();
  const int64_t cout = w.dim(0), K = w.dim(2), d = dilation, lout = y.cols;
  if (!kern || K != 3 || w.dim(1) != cin || y.rows != cout || d < 1 || pad < 0)
    throw Error(ErrorKind::Internal, "conv1d_winograd: unsupported level or shapes");
  if (lout == 0) return;
  const int64_t mr = kern->mr, nr = kern->nr, nob = (cout + mr - 1) / mr;
  const float* wp = simd::packed_conv_weights(w, mr);  // [Cout/MR][3][Cin][MR]

  // Tile columns τ (4d outputs each, d lanes); a group holds whole columns.
  const int64_t ntau_all = (lout + 4 * d - 1) / (4 * d);
  const int64_t lanes_budget = std::max<int64_t>(static_cast<int64_t>(kGroupBytes / (24.0 * cin)), nr);
  const int64_t tau_group = std::max<int64_t>(lanes_budget / d, 1);
  const ThreadPool* pool = current_pool();
  const int64_t threads = pool ? pool->size() : 1;

  for (int64_t tau0 = 0; tau0 < ntau_all; tau0 += tau_group) {
    const int64_t ntau = std::min(tau_group, ntau_all - tau0);
    const int64_t nl = d * ntau, nlp = (nl + nr - 1) / nr * nr;  // the tile kernel reads whole tiles
    const int64_t vplane = cin * nlp;
    t_inputs.reserve(static_cast<size_t>(6 * vplane));
    float* v = t_inputs.data();
    const int64_t first = 4 * d * tau0 - pad, width = 4 * d * (ntau + 1);

    // Phase 1: each input row, filled over the group's columns and transformed.
    parallel_for_dynamic(cin, 4, double(cin) * width * 40, [&](int64_t i0, int64_t i1) {
      thread_local std::vector<float> row, z;
      row.resize(static_cast<size_t>(width));
      const int64_t zs = d * (ntau + 1);
      z.resize(static_cast<size_t>(4 * zs));
      const int64_t c0 = std::clamp<int64_t>(first, 0, cols),
                    c1 = std::clamp<int64_t>(first + width, 0, cols);
      for (int64_t i = i0; i < i1; ++i) {
        if (c0 >= c1) {
          std::fill(row.begin(), row.end(), 0.f);
        } else {
          std::fill(row.begin(), row.begin() + (c0 - first), 0.f);
          std::fill(row.begin() + (c1 - first), row.end(), 0.f);
          fill(i, c0, c1 - c0, 1, row.data() + (c0 - first));
        }
        float* vi = v + i * nlp;
        kern->wino_input(row.data(), d, ntau, z.data(), zs, vi, vplane);
        for (int64_t x = 0; x < 6; ++x) std::fill(vi + x * vplane + nl, vi + x * vplane + nlp, 0.f);
      }
    });

    // Phase 2: per block of output channels (and run of tiles): weight transform, the six
    // products, output transform. Few blocks (128 channels: 11) are cut in runs as well so
    // every thread gets several items.
    // A run is a multiple of d tiles, so it starts on a tile column (lane multiple of d).
    const int64_t tiles = nlp / nr;
    const int64_t runs_wanted = std::clamp<int64_t>((8 * threads + nob - 1) / nob, 1, tiles);
    const int64_t run_tiles = ((tiles + runs_wanted - 1) / runs_wanted + d - 1) / d * d;
    const int64_t runs = (tiles + run_tiles - 1) / run_tiles;
    parallel_for_dynamic(nob * runs, 1, 1.5 * double(cin) * cout * 4 * nl, [&](int64_t q0, int64_t q1) {
      thread_local std::vector<float> u, m, ys;
      u.resize(static_cast<size_t>(6 * cin * mr));
      m.resize(static_cast<size_t>(6 * mr * run_tiles * nr));
      for (int64_t q = q0; q < q1; ++q) {
        const int64_t ob = q / runs, run = q % runs;
        const int64_t tb = run * run_tiles, te = std::min(tiles, tb + run_tiles);
        // Lanes [l0, l1) of the group.
        const int64_t l0 = tb * nr, l1 = std::min(nl, te * nr);
        if (l0 >= l1) continue;
        const int64_t mo = std::min(mr, cout - ob * mr);
        float* up[6];
        for (int x = 0; x < 6; ++x) up[x] = u.data() + x * cin * mr;
        kern->dft_bins(wp + ob * 3 * cin * mr, 3, 2, kG, up, cin * mr);
        const int64_t mlp = (te - tb) * nr, mplane = mr * mlp;
        for (int x = 0; x < 6; ++x) {
          simd::ConvDirectArgs a{v + x * vplane + l0,   nlp, cin, 1,       1,    up[x], nullptr,
                                 m.data() + x * mplane, mlp, mo,  l1 - l0, false};
          kern->conv_tiles(a, 0, te - tb);
        }
        ys.resize(static_cast<size_t>(4 * (l1 - l0)));
        const int64_t tau_b = tau0 + l0 / d, ntau_run = (l1 - l0) / d;
        const int64_t t0 = 4 * d * tau_b;
        for (int64_t r = 0; r < mo; ++r) {
          const int64_t o = ob * mr + r;
          kern->wino_output(m.data() + r * mlp, mplane, d, ntau_run, b ? b->data[o] : 0.f, y.row(o) + t0,
                            lout - t0, accumulate, ys.data());
        }
      }
    });
  }
}

}  // namespace xnai::models::kokoro
