// Run-time choice of the generator fast paths (kokoro_simd.h) and their portable versions.
#include "models/kokoro/kokoro_simd.h"

#include <algorithm>
#include <cmath>

#include "compute/cpu/quant.h"
#include "core/error.h"
#include "models/kokoro/parallel.h"

namespace xnai::models::kokoro::simd {

const LevelKernels* level_kernels() {
  // Each table is built on first use at its level only: the *_avx512.cpp code must not run
  // on a CPU without it.
  switch (cpu::simd_level()) {
    case cpu::SimdLevel::Avx512: {
      static const LevelKernels k = avx512_kernels();
      return &k;
    }
    case cpu::SimdLevel::Avx2: {
      static const LevelKernels k = avx2_kernels();
      return &k;
    }
    default:
      return nullptr;
  }
}

void sin(const float* x, float* y, int64_t n) {
  if (const LevelKernels* k = level_kernels()) return k->sin(x, y, n);
  for (int64_t i = 0; i < n; ++i) y[i] = std::sin(x[i]);
}

void affine_snake(const float* x, float* y, int64_t n, float mean, float scale, float shift, float alpha) {
  if (const LevelKernels* k = level_kernels()) return k->affine_snake(x, y, n, mean, scale, shift, alpha);
  const float inv = 1.f / alpha;
  for (int64_t i = 0; i < n; ++i) {
    const float v = (x[i] - mean) * scale + shift;
    const float s = std::sin(alpha * v);
    y[i] = v + inv * (s * s);
  }
}

PaddedInput padded_input(int64_t rows, int64_t cols, int64_t pad, int64_t K, int64_t dilation) {
  PaddedInput p;
  reset_padded_input(p, rows, cols, pad, K, dilation);
  return p;
}

void reset_padded_input(PaddedInput& p, int64_t rows, int64_t cols, int64_t pad, int64_t K,
                        int64_t dilation) {
  p.rows = rows;
  p.pad = pad;
  const int64_t lout = std::max<int64_t>(cols + 2 * pad - dilation * (K - 1), 0);
  constexpr int64_t kMaxTile = 64;  // ≥ every level's time tile
  const int64_t need = (lout + kMaxTile - 1) / kMaxTile * kMaxTile + dilation * (K - 1);
  p.ld = (std::max(need, pad + cols + pad) + 15) / 16 * 16;
  p.v.assign(static_cast<size_t>(rows * p.ld), 0.f);
}

bool has_conv_direct() { return level_kernels() != nullptr; }

namespace {

// Weights as [Cout/MR][K][Cin][MR]: the tile kernel broadcasts MR consecutive floats.
const float* pack_weights(const Param& w, int64_t mr) {
  const int64_t cout = w.dim(0), cin = w.dim(1), K = w.dim(2);
  const int64_t nob = (cout + mr - 1) / mr;
  thread_local std::vector<float> pack;
  pack.assign(static_cast<size_t>(nob * K * cin * mr), 0.f);
  for (int64_t o = 0; o < cout; ++o) {
    const int64_t ob = o / mr, r = o % mr;
    for (int64_t i = 0; i < cin; ++i)
      for (int64_t kk = 0; kk < K; ++kk)
        pack[static_cast<size_t>(((ob * K + kk) * cin + i) * mr + r)] =
            w.data[static_cast<size_t>((o * cin + i) * K + kk)];
  }
  return pack.data();
}

}  // namespace

void conv1d_direct(const PaddedInput& xp, const Param& w, const Param* b, int pad, int dilation, Mat& y,
                   bool accumulate) {
  const LevelKernels* k = level_kernels();
  const int64_t cout = w.dim(0), cin = w.dim(1), K = w.dim(2);
  if (!k || cin != xp.rows || pad > xp.pad || y.rows != cout)
    throw Error(ErrorKind::Internal, "conv1d_direct: unsupported level or shapes");
  const int64_t lout = y.cols, nr = k->nr;
  const int64_t ntiles = (lout + nr - 1) / nr;
  if (ntiles * nr + dilation * (K - 1) + (xp.pad - pad) > xp.ld)
    throw Error(ErrorKind::Internal, "conv1d_direct: input buffer too short");
  ConvDirectArgs a{xp.v.data() + (xp.pad - pad), xp.ld,      cin,    K,    dilation, pack_weights(w, k->mr),
                   b ? b->data.data() : nullptr, y.v.data(), y.cols, cout, lout,     accumulate};
  // Chunks of 8 tiles: the blocks conv_tiles walks (input panel in L2), handed out as
  // threads come free.
  parallel_for_dynamic(ntiles, 8, double(cout) * cin * K * lout,
                       [&](int64_t t0, int64_t t1) { k->conv_tiles(a, t0, t1); });
}

void conv1d_direct(int64_t cin, int64_t cols, const PanelFill& fill, const Param& w, const Param* b, int pad,
                   int dilation, Mat& y, bool accumulate) {
  const LevelKernels* k = level_kernels();
  const int64_t cout = w.dim(0), K = w.dim(2);
  if (!k || cin != w.dim(1) || y.rows != cout || pad < 0)
    throw Error(ErrorKind::Internal, "conv1d_direct: unsupported level or shapes");
  const int64_t lout = y.cols, nr = k->nr;
  const int64_t ntiles = (lout + nr - 1) / nr;
  const int64_t halo = dilation * (K - 1);
  constexpr int64_t kBlock = 8;  // tiles per panel: conv_tiles' block, so the panel stays in L2
  const ConvDirectArgs base{
      nullptr,    0,      cin,  K,    dilation,  pack_weights(w, k->mr), b ? b->data.data() : nullptr,
      y.v.data(), y.cols, cout, lout, accumulate};
  auto run_block = [&](int64_t tb, int64_t te) {
    // Panel column j holds input column first + j (zero outside the input); the last
    // tile's full-vector reads end inside its width.
    const int64_t first = tb * nr - pad, width = (te - tb) * nr + halo;
    const int64_t ld = (width + 15) / 16 * 16;
    thread_local std::vector<float> panel;
    if (panel.size() < static_cast<size_t>(cin * ld)) panel.resize(static_cast<size_t>(cin * ld));
    const int64_t c0 = std::clamp<int64_t>(first, 0, cols), c1 = std::clamp<int64_t>(first + width, 0, cols);
    for (int64_t i = 0; i < cin; ++i) {
      float* row = panel.data() + i * ld;
      if (c0 >= c1) {
        std::fill(row, row + width, 0.f);
      } else {
        std::fill(row, row + (c0 - first), 0.f);
        std::fill(row + (c1 - first), row + width, 0.f);
      }
    }
    if (c0 < c1) fill(c0, c1, panel.data() + (c0 - first), ld);
    ConvDirectArgs a = base;
    a.x = panel.data();
    a.ldx = ld;
    a.x_t0 = tb * nr;
    k->conv_tiles(a, tb, te);
  };
  parallel_for_dynamic(ntiles, kBlock, double(cout) * cin * K * lout, [&](int64_t t0, int64_t t1) {
    for (int64_t tb = t0; tb < t1; tb += kBlock) run_block(tb, std::min(t1, tb + kBlock));
  });
}

}  // namespace xnai::models::kokoro::simd
