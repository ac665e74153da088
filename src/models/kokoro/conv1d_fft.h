// Private to models/kokoro: stride-1 convolution by overlap-save FFT with channel mixing per
// frequency bin, for the generator's wide, long-kernel convs (AdaINResBlock1 with kernels
// 7 and 11 and dilations up to 5: spans up to 51 taps).
//
// The time axis is cut into blocks of n input samples that overlap by span − 1 (span =
// dilation·(K−1) + 1); each block yields n − span + 1 outputs. Per block: a real FFT of
// every input channel, per bin a complex [Cout × Cin] product (three real products, the
// Gauss trick, run on the direct conv's tile kernel), an inverse FFT per output channel.
// Per output that is about 1.5·n/(n − span + 1) real multiply-adds per channel pair instead
// of K; with the transforms' own cost it pays for K ≥ 7 at 128 channels (measured on Zen 4:
// ~1.7x at K = 7, ~1.8x at K = 11 over the direct conv; a tie at K = 3). Float32 throughout; the result
// differs from the direct sum by rounding only (relative error ~1e-6 of the output's scale).
#pragma once
#include <cstdint>
#include <functional>

#include "models/kokoro/kokoro_internal.h"

namespace xnai::models::kokoro {

// Writes input row `row` at columns c + m·stride, m < count (all inside the input), to
// dst[m]. Called from any pool thread, several at once.
using ConvRowFill = std::function<void(int64_t row, int64_t c, int64_t count, int64_t stride, float* dst)>;

// The FFT size that makes a conv of these shapes cheapest, or 0 where the direct conv
// (kokoro_simd.h) is estimated cheaper or the SIMD level has no fast paths. lout: output
// length. With `polyphase`, a dilated conv may also be planned as d undilated ones over
// every d-th sample (shorter windows: fewer bins and less overlap), and *polyphase says
// whether it was.
int64_t conv1d_fft_size(int64_t cin, int64_t cout, int64_t K, int64_t dilation, int64_t lout,
                        bool* polyphase = nullptr);

// y[o, t] (+)= b[o] + Σ_{i,k} W[o, i, k] · x[i, t + k·d − pad] for t < y.cols, x [cin, cols]
// given by `fill` (zero outside), W [Cout, Cin, K], n a power of two ≥ 2·span (the span is
// K by phases, d·(K − 1) + 1 otherwise; use conv1d_fft_size). accumulate: add to y's
// contents. Results do not depend on the thread count. Needs simd::has_conv_direct().
void conv1d_fft(int64_t cin, int64_t cols, const ConvRowFill& fill, const Param& w, const Param* b, int pad,
                int dilation, int64_t n, Mat& y, bool accumulate, bool polyphase = false);

}  // namespace xnai::models::kokoro
