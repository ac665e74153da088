// Private to models/kokoro: stride-1 convolutions with kernel 3 by Winograd's F(4,3), for
// the decoder, the F0/N blocks and the generator's kernel-3 resblocks (the direct conv's
// tile kernel already runs near the FMA peak there, so fewer multiplies is what is left).
//
// Four outputs of one phase (dilation d: outputs t, t + d, t + 2d, t + 3d) come from six
// transformed inputs times six transformed weights: 6 multiply-adds per channel pair where
// the direct sum takes 12, i.e. half. The products are six [Cout x Cin] x [Cin x tiles]
// matrix products on the direct conv's tile kernel; the transforms are cheap lane-wise
// passes (kokoro_winograd_kernels.h). The weight transform is redone per call from the
// packed weight (18 multiply-adds per weight, next to 1.5 per weight and output step).
// Float32 throughout: the result differs from the direct sum by rounding only (relative
// error ~1e-6 of the output's scale; the transforms' constants are small integers and
// 1/4, 1/6, 1/12, 1/24).
#pragma once
#include <cstdint>

#include "models/kokoro/conv1d_fft.h"
#include "models/kokoro/kokoro_internal.h"

namespace xnai::models::kokoro {

// True where conv1d_winograd is available and expected to beat the direct conv: kernel 3,
// both channel counts at least 32, at least 32 outputs, and a SIMD level with fast paths.
bool conv1d_winograd_pays(int64_t cin, int64_t cout, int64_t K, int64_t lout);

// y[o, t] (+)= b[o] + Σ_{i,k} W[o, i, k] · x[i, t + k·d − pad] for t < y.cols, x [cin, cols]
// given row by row by `fill` (zero outside), W [Cout, Cin, 3]. accumulate: add to y's
// contents. Results do not depend on the thread count.
void conv1d_winograd(int64_t cin, int64_t cols, const ConvRowFill& fill, const Param& w, const Param* b,
                     int pad, int dilation, Mat& y, bool accumulate);

}  // namespace xnai::models::kokoro
