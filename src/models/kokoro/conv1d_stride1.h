// Private to models/kokoro: the one place that picks how a stride-1, ungrouped conv runs
// on a SIMD level with fast paths: by FFT where its cost model says so (kernels 5 and up),
// by Winograd F(4,3) for kernel 3, else kokoro_simd.h's direct convolution.
#pragma once
#include <cstdint>

#include "models/kokoro/conv1d_fft.h"
#include "models/kokoro/kokoro_internal.h"

namespace xnai::models::kokoro {

// y[o, t] (+)= b[o] + Σ_{i,k} W[o, i, k] · x[i, t + k·d − pad] for t < y.cols, x [cin, cols]
// given row by row by `fill` (zero outside). accumulate: add to y's contents. Needs
// simd::has_conv_direct().
void conv1d_stride1(int64_t cin, int64_t cols, const ConvRowFill& fill, const Param& w, const Param* b,
                    int pad, int dilation, Mat& y, bool accumulate);

}  // namespace xnai::models::kokoro
