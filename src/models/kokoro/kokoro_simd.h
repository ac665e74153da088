// Private to models/kokoro: SIMD fast paths of the iSTFTNet generator, chosen at run time by
// compute/cpu's simd_level() (so XNAI_SIMD and cpu::set_simd_level apply). The portable
// level keeps the plain loops; kokoro_simd_avx2.cpp / kokoro_simd_avx512.cpp hold the rest,
// one template (kokoro_simd_kernels.h) instantiated per instruction set.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "models/kokoro/kokoro_internal.h"

namespace xnai::models::kokoro::simd {

// y[i] = sin(x[i]); a few ulp from std::sin (Cody-Waite reduction by π/2, minimax
// polynomials; |x| > 32768 falls back to std::sin). x and y may be the same.
void sin(const float* x, float* y, int64_t n);

// Per element: v = (x − mean)·scale + shift, y = v + sin(alpha·v)² / alpha (AdaIN's
// normalisation and affine, then Snake). x and y may be the same.
void affine_snake(const float* x, float* y, int64_t n, float mean, float scale, float shift, float alpha);

// y[i] = gelu_new(x[i]) (transformers' tanh approximation), the tanh through a vector
// e^x: within a few 1e-7 of the formula in float. x and y may be the same.
void gelu_tanh(const float* x, float* y, int64_t n);

// A stride-1 convolution input laid out for conv1d_direct: `rows` rows of `ld` floats; input
// column j sits at row(i)[pad + j]; everything else is zero, including the slack at the end
// that full-vector reads of the last output tile touch.
struct PaddedInput {
  int64_t rows = 0, ld = 0, pad = 0;
  std::vector<float> v;
  float* row(int64_t r) { return v.data() + r * ld; }
  const float* row(int64_t r) const { return v.data() + r * ld; }
};
// Zeroed buffer for an input of `cols` columns read by a conv with padding `pad`, kernel K
// and dilation d (output length cols + 2·pad − d·(K−1)).
PaddedInput padded_input(int64_t rows, int64_t cols, int64_t pad, int64_t K, int64_t dilation);
// The same into an existing buffer, reusing its memory (fresh multi-megabyte buffers cost
// more in page faults than the zeroing).
void reset_padded_input(PaddedInput& p, int64_t rows, int64_t cols, int64_t pad, int64_t K, int64_t dilation);

// True when the current SIMD level has conv1d_direct (else callers use the plain/GEMM path).
bool has_conv_direct();
// Writes input columns [c0, c1) of every channel: channel i's column c0 + j goes to
// dst[i·ld + j]. Called for one block of output time steps at a time, from any pool thread
// (several at once); [c0, c1) lies inside the input, and conv1d_direct zeroes the rest.
using PanelFill = std::function<void(int64_t c0, int64_t c1, float* dst, int64_t ld)>;
// conv1d_direct on an input that is never held whole in padded form: `fill` produces the
// columns each block of output tiles reads (its halo of dilation·(K−1) columns included)
// into a small per-thread panel, so the input can be computed on the fly (AdaIN + Snake)
// or copied from a Mat without a padded copy of the whole sequence. Input [cin, cols];
// results are bit-identical to the PaddedInput form.
void conv1d_direct(int64_t cin, int64_t cols, const PanelFill& fill, const Param& w, const Param* b, int pad,
                   int dilation, Mat& y, bool accumulate);
// w in the current level's tile layout (block height mr): its own data when it was packed
// in place for this level, else a per-thread copy valid until the thread's next call.
const float* packed_conv_weights(const Param& w, int64_t mr);
// Replaces a [Cout, Cin, K] weight's data (or a linear's [Out, In] one, as K = 1) by its
// tile layout at the current level, setting packed_mr: packing reads and rewrites the
// whole weight, about the cost of a conv over a few dozen columns, so weights are packed
// once at load. No-op on the portable level or for a weight packed already.
void pack_in_place(Param& w);
// y[o, t] (+)= b[o] + Σ_{i,k} W[o, i, k] · x[i, t + k·d − pad] for t < y.cols, with x in `xp`
// (xp.pad ≥ pad). W [Cout, Cin, K]. accumulate: add to y's contents instead of overwriting.
// Splits the time axis over the installed pool; every element's summation order is fixed,
// so results do not depend on the thread count.
void conv1d_direct(const PaddedInput& xp, const Param& w, const Param* b, int pad, int dilation, Mat& y,
                   bool accumulate);

// --- the FFT convolution's lane-wise kernels (kokoro_fft_kernels.h, used by conv1d_fft.cpp) ---
// Time blocks transformed at once, one per lane: a multiple of every level's conv tile width,
// so the per-bin channel mixing runs on whole conv tiles.
constexpr int kFftLanes = 32;
// Bins of the kernel spectra computed per pass over the taps (LevelKernels::dft_bins).
constexpr int kMaxDftBins = 4;
// A transform size's tables: rev is the bit reversal of [0, n); twr/twi hold e^{-2πi m/n}, m < n/2.
struct FftTables {
  int64_t n = 0;
  const int32_t* rev = nullptr;
  const float* twr = nullptr;
  const float* twi = nullptr;
};

// --- per-level entry points (kokoro_simd_avx2.cpp, kokoro_simd_avx512.cpp) ---
struct ConvDirectArgs {
  const float* x;  // input column of t = x_t0, k = 0
  int64_t ldx, cin, K, dilation;
  const float* wpack;  // [Cout/MR blocks][K][Cin][MR], zero rows past Cout
  const float* bias;   // [Cout] or null
  float* y;
  int64_t ldy, cout, lout;
  bool accumulate;
  int64_t x_t0 = 0;  // the output time step whose first input column x points at
};
struct LevelKernels {
  void (*sin)(const float*, float*, int64_t);
  void (*affine_snake)(const float*, float*, int64_t, float, float, float, float);
  void (*gelu_tanh)(const float*, float*, int64_t);
  int mr, nr;  // conv tile: output channels x time steps
  // Time tiles [tile_begin, tile_end) of the conv.
  void (*conv_tiles)(const ConvDirectArgs&, int64_t tile_begin, int64_t tile_end);
  // See FftKernels in kokoro_fft_kernels.h; ws is scratch of 2·n·kFftLanes floats.
  void (*fft_forward_pair)(const FftTables&, const float* u0, const float* u1, int64_t hop, float* ws,
                           float* ur, float* ui, int64_t fstride);
  void (*fft_inverse_pair)(const FftTables&, const float* yr, const float* yi, int64_t fstride, float* ws,
                           float* out0, float* out1, int64_t valid, int64_t limit, float bias0, float bias1,
                           bool accumulate);
  // nb ≤ kMaxDftBins bins of the kernel spectra: y[m][p] = Σ_k coef[m·K + k]·x[k·n + p], m < 3·nb.
  void (*dft_bins)(const float* x, int64_t K, int nb, const float* coef, float* const* y, int64_t n);
  // nb ≤ kMaxDftBins bins as the Gauss trick's planes from cosine and sine sums (cs [nb][2][K]).
  void (*gauss_bins)(const float* x, int64_t K, int nb, const float* cs, float* const* y, int64_t n);
  // See WinogradKernels in kokoro_winograd_kernels.h.
  void (*wino_input)(const float* src, int64_t d, int64_t ntau, float* z, int64_t zs, float* v,
                     int64_t vplane);
  void (*wino_output)(const float* m, int64_t mplane, int64_t d, int64_t ntau, float bias, float* out,
                      int64_t limit, bool accumulate, float* y);
};
// The level's kernel table, or nullptr on the portable level.
const LevelKernels* level_kernels();
LevelKernels avx2_kernels();
LevelKernels avx512_kernels();

}  // namespace xnai::models::kokoro::simd
