// Overlap-save FFT convolution (conv1d_fft.h). Blocks are processed kFftLanes at a time (a
// "chunk", one block per vector lane); a group of chunks, one per pool thread, goes through
// three parallel phases: forward transforms (split by channel pair), the per-bin channel
// mixing (split by bin) and inverse transforms (split by output channel pair). Every element
// is computed by the same operations whatever the split, so the thread count changes no bit.
#include "models/kokoro/conv1d_fft.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "core/error.h"
#include "core/thread_pool.h"
#include "models/kokoro/huge_buffer.h"
#include "models/kokoro/kokoro_simd.h"
#include "models/kokoro/parallel.h"

namespace xnai::models::kokoro {
namespace {

constexpr int64_t kLanes = simd::kFftLanes;
// The input spectra of a group of chunks are held at once (each bin's kernel spectrum is
// computed once per group); this bounds them, so a long utterance takes several groups
// instead of raising the peak memory of a synthesis.
constexpr int64_t kMaxTaps = 64;  // bin_spectrum's coefficient array
constexpr double kSlotBudgetBytes = 20.0 * (1 << 20);
// Cost model, in multiply-adds of the direct conv's tile kernel (one vector lane each),
// fitted to timings on Zen 4 (AVX-512) with 128 channels: a radix-2 butterfly per lane, a
// sample moved between time and lane order, a multiply-add of the kernel spectra's DFT
// (redone per group of chunks; four bins per pass over the taps), and the margin the
// FFT estimate must beat the direct one by.
constexpr double kButterflyCost = 20.0;
constexpr double kTransposeCost = 30.0;
constexpr double kSpectraMacCost = 1.0;
constexpr double kFftMargin = 0.9;

struct Tables {
  std::vector<int32_t> rev;
  std::vector<float> twr, twi;    // e^{-2πi m/n}, m < n/2: the transforms
  std::vector<float> cosn, sinn;  // cos, sin of 2π q/n, q < n: the kernel spectra
  simd::FftTables view() const {
    return {static_cast<int64_t>(rev.size()), rev.data(), twr.data(), twi.data()};
  }
};

Tables make_tables(int64_t n) {
  Tables t;
  int bits = 0;
  while ((int64_t{1} << bits) < n) ++bits;
  t.rev.resize(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j) {
    int32_t r = 0;
    for (int b = 0; b < bits; ++b)
      if (j >> b & 1) r |= int32_t{1} << (bits - 1 - b);
    t.rev[static_cast<size_t>(j)] = r;
  }
  t.cosn.resize(static_cast<size_t>(n));
  t.sinn.resize(static_cast<size_t>(n));
  for (int64_t q = 0; q < n; ++q) {
    const double a = 2.0 * std::numbers::pi * static_cast<double>(q) / static_cast<double>(n);
    t.cosn[static_cast<size_t>(q)] = static_cast<float>(std::cos(a));
    t.sinn[static_cast<size_t>(q)] = static_cast<float>(std::sin(a));
  }
  for (int64_t m = 0; m < n / 2; ++m) {
    t.twr.push_back(t.cosn[static_cast<size_t>(m)]);
    t.twi.push_back(-t.sinn[static_cast<size_t>(m)]);
  }
  return t;
}

int64_t span_of(int64_t K, int64_t dilation) { return dilation * (K - 1) + 1; }
int64_t packed_rows(int64_t cout, int64_t mr) { return (cout + mr - 1) / mr * mr; }

// Buffers of the synthesizing thread, kept between calls: fresh multi-megabyte buffers per
// conv cost more in page faults than the work they hold.
// The slots are written and read at strides of a few KiB across megabytes: on 4 KiB pages
// nearly every access of a transform's output missed the TLB.
struct Workspace {
  HugeBuffer slots;  // per chunk of the group: Ur, Ui planes [bins][cmax][kLanes]
};
thread_local Workspace t_work;

// Bins f0 .. f0 + nb − 1 of the kernel spectra G[o,i,f] = Σ_k W[o,i,k]·e^{+2πi f·k·d/n} (the
// transform of the correlation kernel), scaled by 1/(2n) (the forward split leaves a
// factor 2, the inverse one n). Bin b goes to out + 3·P·b as the Gauss trick's three planes
// Gr, −(Gr + Gi), Gi − Gr of P floats in the tile kernel's K = 1 layout [Cout/MR][Cin][MR].
// The taps are the direct conv's packed weight [Cout/MR][K][Cin][MR]: per block of MR output
// channels, K rows of Cin·MR floats. Computed where they are used and never stored whole:
// all bins of a 256-channel conv would take 3·65·256²·4 bytes = 51 MB at n = 128.
void bin_spectra(const float* taps, int64_t K, int64_t P, int64_t block, int dilation, int64_t f0, int nb,
                 const Tables& tab, const simd::LevelKernels& kern, float* out) {
  const int64_t n = static_cast<int64_t>(tab.rev.size());
  const float scale = 1.f / static_cast<float>(2 * n);
  float cs[simd::kMaxDftBins * 2 * kMaxTaps];
  for (int b = 0; b < nb; ++b)
    for (int64_t k = 0; k < K; ++k) {
      const size_t q = static_cast<size_t>(((f0 + b) * k * dilation) % n);
      cs[2 * K * b + k] = tab.cosn[q] * scale;
      cs[2 * K * b + K + k] = tab.sinn[q] * scale;
    }
  float* y[3 * simd::kMaxDftBins];
  for (int64_t o = 0; o < P; o += block) {
    for (int m = 0; m < 3 * nb; ++m) y[m] = out + m * P + o;
    kern.gauss_bins(taps + o * K, K, nb, cs, y, block);
  }
}

// Chunks per group: as many as the slot budget holds, at least one.
int64_t group_size(int64_t cin, int64_t cout, int64_t n, int64_t chunks) {
  const double slot_bytes = 4.0 * 2 * (n / 2 + 1) * ((std::max(cin, cout) + 1) / 2 * 2) * kLanes;
  return std::clamp<int64_t>(static_cast<int64_t>(kSlotBudgetBytes / slot_bytes), 1,
                             std::max<int64_t>(chunks, 1));
}

}  // namespace

int64_t conv1d_fft_size(int64_t cin, int64_t cout, int64_t K, int64_t dilation, int64_t lout,
                        bool* polyphase) {
  const simd::LevelKernels* kern = simd::level_kernels();
  if (polyphase) *polyphase = false;
  // Measured: kernels of 3 lose to the direct conv (and to Winograd) at every length
  // (per-block and per-call costs the model does not capture), so they are not offered.
  // Transforms of 32 pay on short inputs (the first generator stage: fewer bins of kernel
  // spectra, fewer idle lanes).
  if (!kern || lout <= 0 || K < 5 || K > kMaxTaps) return 0;
  const double direct = double(cin) * cout * K * lout;
  double best_cost = direct * kFftMargin;
  int64_t best = 0;
  for (int poly = 0; poly < (polyphase && dilation > 1 ? 2 : 1); ++poly) {
    const int64_t S = poly ? K : span_of(K, dilation);
    for (int64_t n = 32, log2n = 5; n <= 1024; n *= 2, ++log2n) {
      if (n < 2 * S) continue;
      const int64_t V = n - S + 1, bins = n / 2 + 1;
      const int64_t phase_len = (lout + dilation - 1) / dilation;
      const int64_t blocks = poly ? dilation * ((phase_len + V - 1) / V) : (lout + V - 1) / V;
      const int64_t chunks = (blocks + kLanes - 1) / kLanes;
      const int64_t groups =
          (chunks + group_size(cin, cout, n, chunks) - 1) / group_size(cin, cout, n, chunks);
      const double lanes = double(chunks * kLanes);
      const double gemm = 3.0 * bins * cin * cout * lanes;
      // Phases: each lane's window is copied out of its phase's samples, and its outputs
      // scattered back at stride d: about one more transpose per sample.
      const double moves = poly ? 3.0 : 2.0;
      const double fft =
          (cin + cout) / 2.0 * lanes * (n / 2.0 * log2n * kButterflyCost + moves * n * kTransposeCost);
      const double spectra = kSpectraMacCost * 2.0 * bins * K * cin * cout * groups;
      const double cost = gemm + fft + spectra;
      if (cost < best_cost) {
        best_cost = cost;
        best = n;
        if (polyphase) *polyphase = poly != 0;
      }
    }
  }
  return best;
}

void conv1d_fft(int64_t cin, int64_t cols, const ConvRowFill& fill, const Param& w, const Param* b, int pad,
                int dilation, int64_t n, Mat& y, bool accumulate, bool polyphase) {
  const simd::LevelKernels* kern = simd::level_kernels();
  const int64_t cout = w.dim(0), K = w.dim(2), d = dilation;
  const bool poly = polyphase && d > 1;
  const int64_t S = poly ? K : span_of(K, dilation);
  if (!kern || w.dim(1) != cin || y.rows != cout || K > kMaxTaps || n < 16 || (n & (n - 1)) != 0 || n < 2 * S)
    throw Error(ErrorKind::Internal, "conv1d_fft: unsupported level, shapes or transform size");
  const int64_t lout = y.cols;
  if (lout == 0) return;
  const Tables tab = make_tables(n);
  const simd::FftTables tv = tab.view();
  Workspace& ws = t_work;
  const float* taps = simd::packed_conv_weights(w, kern->mr);
  const int64_t P = packed_rows(cout, kern->mr) * cin, block = kern->mr * cin;

  // Block b: plain, outputs [b·V, b·V + V) from input columns b·V − pad + m, m < n (the
  // taps d apart inside the window); by phases (a dilated conv as d undilated ones on
  // every d-th sample), phase p = b / B, sub-block j = b % B: outputs p + d·(j·V + m)
  // from input columns p + d·(j·V + m) − pad.
  const int64_t V = n - S + 1, bins = n / 2 + 1;
  const int64_t B = poly ? ((lout + d - 1) / d + V - 1) / V : 0;
  const int64_t blocks = poly ? d * B : (lout + V - 1) / V, chunks = (blocks + kLanes - 1) / kLanes;
  const int64_t group = group_size(cin, cout, n, chunks);
  const int64_t cmax = (std::max(cin, cout) + 1) / 2 * 2;  // even: channel pairs stay inside
  const int64_t fstride = cmax * kLanes, plane = bins * fstride, slot = 2 * plane;
  ws.slots.reserve(static_cast<size_t>(group * slot));
  // The lanes' windows in one row: overlapping, V apart (plain), or side by side (phases).
  const int64_t hop = poly ? n : V, width = poly ? kLanes * n : (kLanes - 1) * V + n;
  const int64_t in_pairs = (cin + 1) / 2, out_pairs = (cout + 1) / 2;
  const double pair_work = double(kLanes) * n * (cin + cout) * 8;
  // dst[m] = x[row, c + m·stride] for m < count, zero where that column is outside the input.
  auto fill_span = [&](int64_t row, int64_t c, int64_t count, int64_t stride, float* dst) {
    const int64_t m_lo = c >= 0 ? 0 : (-c + stride - 1) / stride;
    const int64_t m_hi = c > cols - 1 ? 0 : std::min(count, (cols - 1 - c) / stride + 1);
    if (m_lo >= m_hi) {
      std::fill(dst, dst + count, 0.f);
      return;
    }
    std::fill(dst, dst + m_lo, 0.f);
    std::fill(dst + m_hi, dst + count, 0.f);
    fill(row, c + m_lo * stride, m_hi - m_lo, stride, dst + m_lo);
  };

  for (int64_t g0 = 0; g0 < chunks; g0 += group) {
    const int64_t ng = std::min(group, chunks - g0);
    parallel_for_dynamic(ng * in_pairs, 1, ng * pair_work, [&](int64_t q0, int64_t q1) {
      thread_local std::vector<float> rows, scratch, seg;
      rows.resize(static_cast<size_t>(2 * width));
      scratch.resize(static_cast<size_t>(2 * n * kLanes));
      seg.resize(static_cast<size_t>((kLanes - 1) * V + n));
      for (int64_t q = q0; q < q1; ++q) {
        const int64_t s = q / in_pairs, i = q % in_pairs * 2;
        const int64_t b0 = (g0 + s) * kLanes;
        for (int64_t r = 0; r < 2 && i + r < cin; ++r) {
          float* row = rows.data() + r * width;
          if (!poly) {
            fill_span(i + r, b0 * V - pad, width, 1, row);
            continue;
          }
          // Runs of lanes of one phase: their samples filled once, then each lane's window
          // copied out.
          for (int64_t l = 0; l < kLanes;) {
            if (b0 + l >= blocks) {
              std::fill(row + l * n, row + width, 0.f);
              break;
            }
            const int64_t p = (b0 + l) / B, j0 = (b0 + l) % B, run = std::min(kLanes - l, B - j0);
            fill_span(i + r, p + d * j0 * V - pad, (run - 1) * V + n, d, seg.data());
            for (int64_t k = 0; k < run; ++k)
              std::copy(seg.data() + k * V, seg.data() + k * V + n, row + (l + k) * n);
            l += run;
          }
        }
        float* base = ws.slots.data() + s * slot + i * kLanes;
        kern->fft_forward_pair(tv, rows.data(), i + 1 < cin ? rows.data() + width : nullptr, hop,
                               scratch.data(), base, base + plane, fstride);
      }
    });
    // Work items: runs of kMaxDftBins bins, whose kernel spectra take one pass over the taps.
    constexpr int64_t kBins = simd::kMaxDftBins;
    parallel_for_dynamic(
        (bins + kBins - 1) / kBins, 1, ng * 3.0 * bins * cin * cout * kLanes, [&](int64_t q0, int64_t q1) {
          thread_local std::vector<float> gs, yr, yi, us;
          gs.resize(static_cast<size_t>(3 * P * kBins));
          us.resize(static_cast<size_t>(cin * kLanes));
          yr.resize(static_cast<size_t>(cout * kLanes));
          yi.resize(static_cast<size_t>(cout * kLanes));
          for (int64_t q = q0; q < q1; ++q) {
            const int64_t fb = q * kBins;
            const int nb = static_cast<int>(std::min(kBins, bins - fb));
            bin_spectra(taps, K, P, block, poly ? 1 : dilation, fb, nb, tab, *kern, gs.data());
            for (int64_t f = fb; f < fb + nb; ++f) {
              const float* g = gs.data() + 3 * P * (f - fb);
              for (int64_t s = 0; s < ng; ++s) {
                const int64_t lanes = std::min(kLanes, blocks - (g0 + s) * kLanes);
                float* ur = ws.slots.data() + s * slot + f * fstride;
                float* ui = ur + plane;
                // Yr = Gr·(Ur + Ui) − (Gr + Gi)·Ui, Yi = Gr·(Ur + Ui) + (Gi − Gr)·Ur. The sum is
                // formed here, in cache, rather than stored as a third plane by the transforms
                // (a third more traffic through memory in the phase that waits on it).
                for (int64_t e = 0; e < cin * kLanes; ++e) us[e] = ur[e] + ui[e];
                simd::ConvDirectArgs a{us.data(), kLanes,    cin,    1,    1,     g,
                                       nullptr,   yr.data(), kLanes, cout, lanes, false};
                const int64_t tiles = (lanes + kern->nr - 1) / kern->nr;
                kern->conv_tiles(a, 0, tiles);
                std::copy(yr.begin(), yr.end(), yi.begin());
                a.accumulate = true;
                a.x = ui;
                a.wpack = g + P;
                kern->conv_tiles(a, 0, tiles);
                a.x = ur;
                a.wpack = g + 2 * P;
                a.y = yi.data();
                kern->conv_tiles(a, 0, tiles);
                std::copy(yr.begin(), yr.end(), ur);
                std::copy(yi.begin(), yi.end(), ui);
              }
            }
          }
        });
    parallel_for_dynamic(ng * out_pairs, 1, ng * pair_work, [&](int64_t q0, int64_t q1) {
      thread_local std::vector<float> scratch, out;
      scratch.resize(static_cast<size_t>(2 * n * kLanes));
      if (poly) out.resize(static_cast<size_t>(2 * kLanes * V));
      for (int64_t q = q0; q < q1; ++q) {
        const int64_t s = q / out_pairs, o = q % out_pairs * 2;
        const float* base = ws.slots.data() + s * slot + o * kLanes;
        const bool two = o + 1 < cout;
        const float b0v = b ? b->data[o] : 0.f, b1v = b && two ? b->data[o + 1] : 0.f;
        if (!poly) {
          const int64_t t0 = (g0 + s) * kLanes * V;
          kern->fft_inverse_pair(tv, base, base + plane, fstride, scratch.data(), y.row(o) + t0,
                                 two ? y.row(o + 1) + t0 : nullptr, V, lout - t0, b0v, b1v, accumulate);
          continue;
        }
        // Lane by lane into a buffer, then each lane's outputs to every d-th column.
        float* o0 = out.data();
        float* o1 = out.data() + kLanes * V;
        kern->fft_inverse_pair(tv, base, base + plane, fstride, scratch.data(), o0, two ? o1 : nullptr, V,
                               kLanes * V, b0v, b1v, false);
        for (int64_t l = 0; l < kLanes && (g0 + s) * kLanes + l < blocks; ++l) {
          const int64_t bl = (g0 + s) * kLanes + l, p = bl / B, j = bl % B;
          const int64_t t_first = p + d * j * V;
          const int64_t m_end = t_first >= lout ? 0 : std::min(V, (lout - 1 - t_first) / d + 1);
          for (int64_t r = 0; r < (two ? 2 : 1); ++r) {
            const float* src = (r ? o1 : o0) + l * V;
            float* yr = y.row(o + r) + t_first;
            if (accumulate)
              for (int64_t m = 0; m < m_end; ++m) yr[m * d] += src[m];
            else
              for (int64_t m = 0; m < m_end; ++m) yr[m * d] = src[m];
          }
        }
      }
    });
  }
}

}  // namespace xnai::models::kokoro
