// Run-time choice of the generator fast paths (kokoro_simd.h) and their portable versions.
#include "models/kokoro/kokoro_simd.h"

#include <algorithm>
#include <cmath>

#include "compute/cpu/quant.h"
#include "core/error.h"
#include "core/thread_pool.h"
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

void gelu_tanh(const float* x, float* y, int64_t n) {
  if (const LevelKernels* k = level_kernels()) return k->gelu_tanh(x, y, n);
  const float k0 = std::sqrt(2.f / static_cast<float>(M_PI));
  for (int64_t i = 0; i < n; ++i)
    y[i] = 0.5f * x[i] * (1.f + std::tanh(k0 * (x[i] + 0.044715f * x[i] * x[i] * x[i])));
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

// Weights as [Cout/MR][K][Cin][MR]: the tile kernel broadcasts MR consecutive floats. Each
// block of MR output channels is written by one thread; only the rows past Cout are zeroed.
void pack_into(const Param& w, int64_t mr, std::vector<float>& pack) {
  if (w.packed_mr) throw Error(ErrorKind::Internal, "pack_into: the weight is packed already");
  const int64_t cout = w.dim(0), cin = w.dim(1), K = w.dim(2);
  const int64_t nob = (cout + mr - 1) / mr, block = K * cin * mr;
  pack.resize(static_cast<size_t>(nob * block));
  // Work in multiply-add units: moving a float costs about as much as 50 of them.
  parallel_for(nob, double(nob) * block * 50, [&](int64_t b0, int64_t b1) {
    for (int64_t ob = b0; ob < b1; ++ob) {
      float* dst = pack.data() + ob * block;
      const int64_t mo = std::min(mr, cout - ob * mr);
      const float* src = w.data.data() + ob * mr * cin * K;
      // Written in order, read from mo rows at once.
      for (int64_t kk = 0; kk < K; ++kk)
        for (int64_t i = 0; i < cin; ++i, dst += mr) {
          for (int64_t r = 0; r < mo; ++r) dst[r] = src[r * cin * K + i * K + kk];
          for (int64_t r = mo; r < mr; ++r) dst[r] = 0.f;
        }
    }
  });
}

void conv1d_direct_packed(int64_t cin, int64_t cols, const PanelFill& fill, const float* wpack, int64_t cout,
                          int64_t K, const Param* b, int pad, int dilation, Mat& y, bool accumulate);

}  // namespace

// Packed at load for this level: used as it is. Otherwise packed into a per-thread buffer
// reused across calls (fresh multi-megabyte buffers cost page faults).
const float* packed_conv_weights(const Param& w, int64_t mr) {
  if (w.packed_mr == mr) return w.data.data();
  thread_local std::vector<float> pack;
  if (w.packed_mr)
    pack_into(unpacked(w), mr, pack);  // packed for another level (the level was switched)
  else
    pack_into(w, mr, pack);
  return pack.data();
}

void pack_in_place(Param& w) {
  const LevelKernels* k = level_kernels();
  if (!k || w.packed_mr || (w.shape.size() != 3 && w.shape.size() != 2)) return;  // 2-D: K = 1
  std::vector<float> pack;
  pack_into(w, k->mr, pack);
  w.data = std::move(pack);
  w.packed_mr = k->mr;
}

namespace {

// How a direct conv's output is cut into work items for the pool: runs of at most 8 time
// tiles (conv_tiles' block, so the input panel stays in L2), and, when those runs are too
// few to keep every thread busy (short inputs: the decoder, ALBERT), ranges of output
// channel blocks as well. Each output element is computed whole by one item, in the same
// order, so the results do not depend on the split.
struct WorkSplit {
  int64_t ntiles = 0, run = 1, runs = 1;     // time: `runs` runs of `run` tiles
  int64_t mr = 1, blocks = 1, per_part = 1;  // channels: parts of `per_part` blocks of mr
  int64_t parts() const { return (blocks + per_part - 1) / per_part; }
  int64_t items() const { return runs * parts(); }
  std::pair<int64_t, int64_t> tiles(int64_t item) const {
    const int64_t r = item / parts();
    return {r * run, std::min(ntiles, (r + 1) * run)};
  }
  // The conv restricted to item's output channels.
  ConvDirectArgs channels(ConvDirectArgs a, int64_t item) const {
    const int64_t o0 = item % parts() * per_part * mr;
    a.wpack += o0 * a.K * a.cin;
    if (a.bias) a.bias += o0;
    a.y += o0 * a.ldy;
    a.cout = std::min(a.cout - o0, per_part * mr);
    return a;
  }
};

WorkSplit split_work(int64_t ntiles, int64_t cout, int64_t mr) {
  constexpr int64_t kRun = 8;
  WorkSplit s;
  s.ntiles = ntiles;
  s.mr = mr;
  s.blocks = (cout + mr - 1) / mr;
  s.runs = std::max<int64_t>((ntiles + kRun - 1) / kRun, 1);
  s.run = (ntiles + s.runs - 1) / s.runs;  // even runs: 9 tiles are 5 + 4, not 8 + 1
  const ThreadPool* pool = current_pool();
  const int64_t want = 4 * (pool ? pool->size() : 1);  // items per thread enough to even out
  const int64_t parts = std::clamp<int64_t>((want + s.runs - 1) / s.runs, 1, s.blocks);
  s.per_part = (s.blocks + parts - 1) / parts;
  return s;
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
  const ConvDirectArgs a{
      xp.v.data() + (xp.pad - pad), xp.ld,      cin,    K,    dilation, packed_conv_weights(w, k->mr),
      b ? b->data.data() : nullptr, y.v.data(), y.cols, cout, lout,     accumulate};
  const WorkSplit split = split_work(ntiles, cout, k->mr);
  parallel_for_dynamic(split.items(), 1, double(cout) * cin * K * lout, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const auto [tb, te] = split.tiles(i);
      k->conv_tiles(split.channels(a, i), tb, te);
    }
  });
}

void conv1d_direct(int64_t cin, int64_t cols, const PanelFill& fill, const Param& w, const Param* b, int pad,
                   int dilation, Mat& y, bool accumulate) {
  const LevelKernels* k = level_kernels();
  if (!k || cin != w.dim(1) || y.rows != w.dim(0) || pad < 0)
    throw Error(ErrorKind::Internal, "conv1d_direct: unsupported level or shapes");
  conv1d_direct_packed(cin, cols, fill, packed_conv_weights(w, k->mr), w.dim(0), w.dim(2), b, pad, dilation,
                       y, accumulate);
}

namespace {

void conv1d_direct_packed(int64_t cin, int64_t cols, const PanelFill& fill, const float* wpack, int64_t cout,
                          int64_t K, const Param* b, int pad, int dilation, Mat& y, bool accumulate) {
  const LevelKernels* k = level_kernels();
  const int64_t lout = y.cols, nr = k->nr;
  const int64_t ntiles = (lout + nr - 1) / nr;
  const int64_t halo = dilation * (K - 1);
  const ConvDirectArgs base{nullptr,    0,      cin,  K,    dilation,  wpack, b ? b->data.data() : nullptr,
                            y.v.data(), y.cols, cout, lout, accumulate};
  auto run_block = [&](int64_t tb, int64_t te, const ConvDirectArgs& part) {
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
    ConvDirectArgs a = part;
    a.x = panel.data();
    a.ldx = ld;
    a.x_t0 = tb * nr;
    k->conv_tiles(a, tb, te);
  };
  const WorkSplit split = split_work(ntiles, cout, k->mr);
  parallel_for_dynamic(split.items(), 1, double(cout) * cin * K * lout, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const auto [tb, te] = split.tiles(i);
      run_block(tb, te, split.channels(base, i));
    }
  });
}

}  // namespace

}  // namespace xnai::models::kokoro::simd

namespace xnai::models::kokoro {

Param unpacked(const Param& w) {
  if (!w.packed_mr) return w;
  const int64_t cout = w.dim(0), cin = w.dim(1), K = w.dim(2), mr = w.packed_mr;
  Param r{w.shape, std::vector<float>(static_cast<size_t>(cout * cin * K)), 0};
  for (int64_t o = 0; o < cout; ++o)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t i = 0; i < cin; ++i)
        r.data[static_cast<size_t>((o * cin + i) * K + k)] =
            w.data[static_cast<size_t>(((o / mr * K + k) * cin + i) * mr + o % mr)];
  return r;
}

}  // namespace xnai::models::kokoro
