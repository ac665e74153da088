// Kernel tests for every type at every SIMD level this CPU has: hand-built blocks decode to
// the values the format defines, quantize→dequantize stays within the type's error bound,
// activation quantizers write ggml's x86 bytes (and the same bytes at every level), and
// every vec_dot agrees with the portable path and with a float64 dot of the decoded values.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "compute/cpu/quant.h"
#include "compute/quant_test_support.h"
#include "core/error.h"
#include "core/fp16.h"
#include "core/quant_blocks.h"

namespace xnai {
namespace {

using cpu::SimdLevel;
using test::available_levels;
using test::gaussian;

std::string level_name(SimdLevel l) { return cpu::simd_level_name(l); }

std::vector<float> dequantize(DType t, const std::vector<uint8_t>& q, int64_t n, SimdLevel level) {
  std::vector<float> out(n);
  cpu::kernels(t, level).to_float(q.data(), out.data(), n);
  return out;
}

std::vector<uint8_t> quantize_activation(DType t, const std::vector<float>& x, SimdLevel level) {
  std::vector<uint8_t> q(row_size(t, static_cast<int64_t>(x.size())));
  cpu::kernels(t, level).from_float(x.data(), q.data(), static_cast<int64_t>(x.size()));
  return q;
}

std::vector<uint8_t> quantize_weight_row(DType t, const std::vector<float>& x) {
  std::vector<uint8_t> q(row_size(t, static_cast<int64_t>(x.size())));
  cpu::quantize_weights(t, x.data(), q.data(), 1, static_cast<int64_t>(x.size()));
  return q;
}

// ---------------------------------------------------------------------------------------
// Hand-built blocks decode as the format defines (docs/quant-formats.md).

TEST(QuantLayout, LegacyBlocksDecodeAsSpecified) {
  for (SimdLevel level : available_levels()) {
    SCOPED_TRACE(level_name(level));
    {
      BlockQ4_0 b{};
      b.d = f32_to_fp16(0.5f);
      b.qs[0] = 0x1F;   // value 0 = 15, value 16 = 1
      b.qs[15] = 0x80;  // value 15 = 0, value 31 = 8
      float y[32];
      cpu::kernels(DType::Q4_0, level).to_float(&b, y, 32);
      EXPECT_EQ(y[0], 3.5f);
      EXPECT_EQ(y[16], -3.5f);
      EXPECT_EQ(y[15], -4.0f);
      EXPECT_EQ(y[31], 0.0f);
      EXPECT_EQ(y[1], -4.0f);
    }
    {
      BlockQ4_1 b{};
      b.d = f32_to_fp16(2.0f);
      b.m = f32_to_fp16(-1.0f);
      b.qs[3] = 0xA5;  // value 3 = 5, value 19 = 10
      float y[32];
      cpu::kernels(DType::Q4_1, level).to_float(&b, y, 32);
      EXPECT_EQ(y[3], 9.0f);
      EXPECT_EQ(y[19], 19.0f);
      EXPECT_EQ(y[0], -1.0f);
    }
    {
      BlockQ5_0 b{};
      b.d = f32_to_fp16(1.0f);
      b.qs[2] = 0x3C;                              // value 2 low = 12, value 18 low = 3
      const uint32_t qh = (1u << 2) | (1u << 18);  // fifth bits of values 2 and 18
      std::memcpy(b.qh, &qh, 4);
      float y[32];
      cpu::kernels(DType::Q5_0, level).to_float(&b, y, 32);
      EXPECT_EQ(y[2], 28.0f - 16.0f);
      EXPECT_EQ(y[18], 19.0f - 16.0f);
      EXPECT_EQ(y[0], -16.0f);
    }
    {
      BlockQ5_1 b{};
      b.d = f32_to_fp16(0.25f);
      b.m = f32_to_fp16(1.0f);
      b.qs[0] = 0xF1;
      const uint32_t qh = 1u << 16;  // fifth bit of value 16
      std::memcpy(b.qh, &qh, 4);
      float y[32];
      cpu::kernels(DType::Q5_1, level).to_float(&b, y, 32);
      EXPECT_EQ(y[0], 1.25f);
      EXPECT_EQ(y[16], 1.0f + 31 * 0.25f);
    }
    {
      BlockQ8_0 b{};
      b.d = f32_to_fp16(0.125f);
      b.qs[0] = -128;
      b.qs[31] = 127;
      float y[32];
      cpu::kernels(DType::Q8_0, level).to_float(&b, y, 32);
      EXPECT_EQ(y[0], -16.0f);
      EXPECT_EQ(y[31], 15.875f);
    }
  }
}

TEST(QuantLayout, KQuantBlocksDecodeAsSpecified) {
  for (SimdLevel level : available_levels()) {
    SCOPED_TRACE(level_name(level));
    float y[256];
    {
      BlockQ2_K b{};
      b.d = f32_to_fp16(1.0f);
      b.dmin = f32_to_fp16(0.5f);
      b.scales[0] = 0x23;  // sub-block 0: scale 3, min 2
      b.scales[2] = 0x01;  // sub-block 2 (values 32..47): scale 1, min 0
      b.qs[0] = 0x0B;      // value 0 = 3 (bits 0-1), value 32 = 2 (bits 2-3)
      cpu::kernels(DType::Q2_K, level).to_float(&b, y, 256);
      EXPECT_EQ(y[0], 3 * 3 - 1.0f);
      EXPECT_EQ(y[32], 2.0f);
      EXPECT_EQ(y[1], -1.0f);
    }
    {
      BlockQ3_K b{};
      b.d = f32_to_fp16(1.0f);
      // scale 0 = 34 (low nibble 2 in byte 0, top bits 2 in byte 8 bits 0-1) -> 34 - 32 = 2.
      b.scales[0] = 0x02;
      b.scales[8] = 0x02;
      b.qs[0] = 0x03;     // value 0 low bits = 3
      b.hmask[0] = 0x01;  // value 0 high bit set -> q = 3; value 32 (bit 1) clear -> q - 4
      cpu::kernels(DType::Q3_K, level).to_float(&b, y, 256);
      EXPECT_EQ(y[0], 2.0f * 3.0f);
      EXPECT_EQ(y[1], 2.0f * -4.0f);
      // scale 2 (values 32..47) = 0 + 0 -> -32; q = 0 - 4.
      EXPECT_EQ(y[32], -32.0f * -4.0f);
    }
    {
      BlockQ4_K b{};
      b.d = f32_to_fp16(1.0f);
      b.dmin = f32_to_fp16(2.0f);
      b.scales[0] = 3;      // sub-block 0 scale
      b.scales[4] = 1;      // sub-block 0 min
      b.scales[8] = 0x25;   // sub-block 4: scale low 5, min low 2
      b.scales[0] |= 0x40;  // sub-block 4 scale top bits = 1 -> 16 + 5 = 21
      b.qs[0] = 0x97;       // value 0 = 7, value 32 = 9
      b.qs[64] = 0x02;      // value 128 (sub-block 4) = 2
      cpu::kernels(DType::Q4_K, level).to_float(&b, y, 256);
      EXPECT_EQ(y[0], 3 * 7 - 2.0f);
      EXPECT_EQ(y[32], 0.0f);  // sub-block 1 scale 0, min 0
      EXPECT_EQ(y[128], 21 * 2 - 2.0f * 2);
    }
    {
      BlockQ5_K b{};
      b.d = f32_to_fp16(0.5f);
      b.dmin = f32_to_fp16(1.0f);
      b.scales[1] = 4;  // sub-block 1 scale (values 32..63)
      b.scales[5] = 3;  // sub-block 1 min
      b.qs[0] = 0x70;   // value 32 low = 7
      b.qh[0] = 0x02;   // value 32 fifth bit (bit 1 of qh[0])
      cpu::kernels(DType::Q5_K, level).to_float(&b, y, 256);
      EXPECT_EQ(y[32], 0.5f * 4 * 23 - 3.0f);
      EXPECT_EQ(y[33], -3.0f);
    }
    {
      BlockQ6_K b{};
      b.d = f32_to_fp16(1.0f);
      b.scales[0] = 3;
      b.scales[6] = -2;  // sub-block 6 = values 96..111
      b.ql[0] = 0x85;    // value 0 low = 5, value 64 low = 8
      b.qh[0] = 0x82;    // value 0 high = 2, value 96 high = 2
      b.ql[32] = 0x40;   // value 96 low = 4
      cpu::kernels(DType::Q6_K, level).to_float(&b, y, 256);
      EXPECT_EQ(y[0], 3.0f * (37 - 32));
      EXPECT_EQ(y[96], -2.0f * (36 - 32));
    }
  }
}

TEST(QuantLayout, UnsupportedTypesThrowNamingTheType) {
  try {
    cpu::kernels(DType::IQ2_XXS);
    FAIL() << "expected Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Unsupported);
    EXPECT_NE(std::string(e.what()).find("iq2_xxs"), std::string::npos) << e.what();
  }
  std::vector<float> x(48, 1.0f);
  std::vector<uint8_t> out(1024);
  EXPECT_THROW(cpu::quantize_weights(DType::Q4_0, x.data(), out.data(), 1, 48), Error);
  EXPECT_THROW(cpu::quantize_weights(DType::IQ4_NL, x.data(), out.data(), 1, 32), Error);
  EXPECT_EQ(cpu::kernels(DType::Q8_K).vec_dot, nullptr);
  EXPECT_EQ(cpu::kernels(DType::Q4_K).vec_dot_type, DType::Q8_K);
  EXPECT_EQ(cpu::kernels(DType::Q4_1).vec_dot_type, DType::Q8_1);
  EXPECT_EQ(cpu::kernels(DType::Q5_0).vec_dot_type, DType::Q8_0);
  EXPECT_EQ(cpu::kernels(DType::F16).vec_dot_type, DType::F16);
}

TEST(QuantLayout, SetSimdLevelClampsToDetected) {
  test::ScopedSimdLevel scope(SimdLevel::Avx512);
  EXPECT_LE(static_cast<int>(cpu::simd_level()), static_cast<int>(cpu::detected_simd_level()));
}

// ---------------------------------------------------------------------------------------
// Activation quantizers: ggml's x86 rounding, same bytes at every level.

TEST(ActivationQuant, Q8_0RoundsHalfToEvenLikeGgmlX86) {
  // amax 127 makes the scale exactly 1, so every x.5 is a tie.
  std::vector<float> x(32, 0.0f);
  x[0] = 127.0f;
  x[1] = 2.5f;
  x[2] = 3.5f;
  x[3] = -2.5f;
  x[4] = -3.5f;
  x[5] = 0.5f;
  x[6] = 1.5f;
  x[7] = -126.5f;
  for (SimdLevel level : available_levels()) {
    SCOPED_TRACE(level_name(level));
    const auto q = quantize_activation(DType::Q8_0, x, level);
    BlockQ8_0 b;
    std::memcpy(&b, q.data(), sizeof b);
    EXPECT_EQ(b.d, 0x3C00);  // fp16 1.0
    const int want[8] = {127, 2, 4, -2, -4, 0, 2, -126};
    for (int i = 0; i < 8; ++i) EXPECT_EQ(b.qs[i], want[i]) << "value " << i;
    const auto q1 = quantize_activation(DType::Q8_1, x, level);
    BlockQ8_1 b1;
    std::memcpy(&b1, q1.data(), sizeof b1);
    EXPECT_EQ(b1.d, 0x3C00);
    for (int i = 0; i < 8; ++i) EXPECT_EQ(b1.qs[i], want[i]) << "value " << i;
    EXPECT_EQ(fp16_to_f32(b1.s), 127.0f + 2 + 4 - 2 - 4 + 0 + 2 - 126);
  }
  // The weight quantizer (llama-quantize's quantize_row_q8_0_ref) rounds half away from zero.
  const auto w = quantize_weight_row(DType::Q8_0, x);
  BlockQ8_0 b;
  std::memcpy(&b, w.data(), sizeof b);
  const int want_ref[8] = {127, 3, 4, -3, -4, 1, 2, -127};
  for (int i = 0; i < 8; ++i) EXPECT_EQ(b.qs[i], want_ref[i]) << "value " << i;
}

TEST(ActivationQuant, Q8_KScalesBySignedMaxAndSumsGroups) {
  std::vector<float> x(512, 0.0f);
  // Block 0: signed max -127 -> iscale 1, d 1.
  x[0] = -127.0f;
  x[1] = 2.5f;
  x[2] = 3.5f;
  x[17] = 126.5f;
  // Block 1: signed max +127 -> iscale -1, d -1; block values negate.
  x[256] = 127.0f;
  x[257] = -2.5f;
  x[258] = 10.0f;
  for (SimdLevel level : available_levels()) {
    SCOPED_TRACE(level_name(level));
    const auto q = quantize_activation(DType::Q8_K, x, level);
    BlockQ8_K b[2];
    std::memcpy(b, q.data(), sizeof b);
    EXPECT_EQ(b[0].d, 1.0f);
    EXPECT_EQ(b[0].qs[0], -127);
    EXPECT_EQ(b[0].qs[1], 2);
    EXPECT_EQ(b[0].qs[2], 4);
    EXPECT_EQ(b[0].qs[17], 126);
    EXPECT_EQ(b[0].bsums[0], -127 + 2 + 4);
    EXPECT_EQ(b[0].bsums[1], 126);
    EXPECT_EQ(b[1].d, -1.0f);
    EXPECT_EQ(b[1].qs[0], -127);
    EXPECT_EQ(b[1].qs[1], 2);
    EXPECT_EQ(b[1].qs[2], -10);
    EXPECT_EQ(b[1].bsums[0], -127 + 2 - 10);
  }
  // An all-zero block has d = 0 and zero quants.
  std::vector<float> z(256, 0.0f);
  const auto qz = quantize_activation(DType::Q8_K, z, SimdLevel::Portable);
  BlockQ8_K bz;
  std::memcpy(&bz, qz.data(), sizeof bz);
  EXPECT_EQ(bz.d, 0.0f);
  EXPECT_TRUE(std::all_of(bz.qs, bz.qs + 256, [](int8_t v) { return v == 0; }));
}

TEST(ActivationQuant, EveryLevelWritesThePortableBytes) {
  const DType kActs[] = {DType::Q8_0, DType::Q8_1, DType::Q8_K, DType::F16, DType::BF16, DType::F32};
  for (int64_t n : {256, 512, 256 * 7, 4096 + 256}) {
    auto x = gaussian(static_cast<size_t>(n), 77 + static_cast<uint32_t>(n), 3.0f);
    // Some exact ties, zero blocks and a huge outlier.
    for (int i = 0; i < 32; ++i) x[32 + i] = 0.0f;
    for (int i = 0; i < 256 && i < n; i += 5) x[i] = std::round(x[i] * 2.0f) / 2.0f;
    x[n - 1] = 1e4f;
    for (DType t : kActs) {
      SCOPED_TRACE(dtype_name(t));
      const auto want = quantize_activation(t, x, SimdLevel::Portable);
      for (SimdLevel level : available_levels()) {
        SCOPED_TRACE(level_name(level));
        EXPECT_EQ(quantize_activation(t, x, level), want);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// Round trips: ggml's own acceptance metric (test-quantize-fns: sqrt(Σ diff²) / n on
// 0.1 + 2 cos(i)) and, for the 32-value types, the per-value bound the format guarantees.

float ggml_total_error(const std::vector<float>& a, const std::vector<float>& b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += (static_cast<double>(a[i]) - b[i]) * (a[i] - b[i]);
  return static_cast<float>(std::sqrt(sum) / static_cast<double>(a.size()));
}

TEST(QuantRoundTrip, WithinGgmlTotalErrorBounds) {
  const int64_t n = 32 * 128;
  std::vector<float> x(n);
  for (int64_t i = 0; i < n; ++i) x[i] = 0.1f + 2.0f * std::cos(static_cast<float>(i));
  for (DType t : test::weight_types()) {
    SCOPED_TRACE(dtype_name(t));
    const float bound = t == DType::Q2_K ? 0.0075f : t == DType::Q3_K ? 0.0040f : 0.002f;
    const auto q = quantize_weight_row(t, x);
    for (SimdLevel level : available_levels()) {
      SCOPED_TRACE(level_name(level));
      const auto y = dequantize(t, q, n, level);
      EXPECT_LT(ggml_total_error(x, y), bound);
    }
  }
}

TEST(QuantRoundTrip, LegacyTypesWithinPerValueBound) {
  const int64_t n = 32 * 37;
  const auto x = gaussian(n, 5);
  for (DType t : {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0}) {
    SCOPED_TRACE(dtype_name(t));
    const auto q = quantize_weight_row(t, x);
    const auto y = dequantize(t, q, n, SimdLevel::Portable);
    for (int64_t b = 0; b < n / 32; ++b) {
      float amax = 0, mn = x[b * 32], mx = x[b * 32];
      for (int j = 0; j < 32; ++j) {
        amax = std::max(amax, std::fabs(x[b * 32 + j]));
        mn = std::min(mn, x[b * 32 + j]);
        mx = std::max(mx, x[b * 32 + j]);
      }
      // Step of the grid; the symmetric types clamp one end, so allow a whole step there;
      // fp16 scales add at most 2^-11 relative per stored number.
      float bound = 0;
      switch (t) {
        case DType::Q4_0:
          bound = amax / 8 * (1 + 16.0f / 2048);
          break;
        case DType::Q5_0:
          bound = amax / 16 * (1 + 32.0f / 2048);
          break;
        case DType::Q8_0:
          bound = amax / 127 * (0.5f + 128.0f / 2048);
          break;
        case DType::Q4_1:
          bound = (mx - mn) / 15 * (0.5f + 16.0f / 2048) + std::fabs(mn) / 2048;
          break;
        case DType::Q5_1:
          bound = (mx - mn) / 31 * (0.5f + 32.0f / 2048) + std::fabs(mn) / 2048;
          break;
        default:
          break;
      }
      for (int j = 0; j < 32; ++j)
        ASSERT_LE(std::fabs(x[b * 32 + j] - y[b * 32 + j]), bound * 1.0001f)
            << "block " << b << " value " << j;
    }
  }
}

TEST(QuantRoundTrip, KQuantRelativeRmseOnGaussianData) {
  // Relative RMS error bounds for N(0,1) data, a little above what these quantizers reach
  // (0.294 / 0.149 / 0.072 / 0.036 / 0.018 for this data); a broken layout or scale gives ~1.
  const int64_t n = 256 * 16;
  const auto x = gaussian(n, 11);
  const std::pair<DType, double> cases[] = {{DType::Q2_K, 0.32},
                                            {DType::Q3_K, 0.16},
                                            {DType::Q4_K, 0.08},
                                            {DType::Q5_K, 0.04},
                                            {DType::Q6_K, 0.02}};
  for (const auto& [t, bound] : cases) {
    SCOPED_TRACE(dtype_name(t));
    const auto q = quantize_weight_row(t, x);
    const auto y = dequantize(t, q, n, SimdLevel::Portable);
    double se = 0, ss = 0;
    for (int64_t i = 0; i < n; ++i) se += (x[i] - y[i]) * (x[i] - y[i]), ss += x[i] * x[i];
    EXPECT_LT(std::sqrt(se / ss), bound);
  }
}

TEST(QuantRoundTrip, EveryLevelDequantizesLikePortable) {
  for (DType t : test::weight_types()) {
    SCOPED_TRACE(dtype_name(t));
    const int64_t n = 256 * 5;
    const auto q = quantize_weight_row(t, gaussian(n, 21));
    const auto want = dequantize(t, q, n, SimdLevel::Portable);
    for (SimdLevel level : available_levels()) {
      SCOPED_TRACE(level_name(level));
      const auto y = dequantize(t, q, n, level);
      for (int64_t i = 0; i < n; ++i) ASSERT_NEAR(y[i], want[i], 1e-6f * std::fabs(want[i]) + 1e-30f) << i;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Dot products.

struct DotCase {
  double result;
  double reference;  // float64 dot of the decoded values
  double magnitude;  // Σ |w_i a_i|, the scale of rounding errors
  double extra = 0;  // further allowed difference from `reference`
};

DotCase run_dot(DType t, int64_t n, uint32_t seed, SimdLevel level) {
  const auto& k = cpu::kernels(t, level);
  auto wf = gaussian(n, seed);
  auto af = gaussian(n, seed + 1000, 2.0f);
  if (n >= 512) {  // a zero block and a zero activation block
    for (int i = 0; i < 256; ++i) wf[256 + i] = 0.0f;
    for (int i = 0; i < 32; ++i) af[i] = 0.0f;
  }
  const auto w = quantize_weight_row(t, wf);
  const auto a = quantize_activation(k.vec_dot_type, af, level);
  float result = NAN;
  k.vec_dot(n, &result, w.data(), a.data());
  const auto wd = dequantize(t, w, n, SimdLevel::Portable);
  const auto ad = dequantize(k.vec_dot_type, a, n, SimdLevel::Portable);
  DotCase c{result, 0.0, 0.0};
  for (int64_t i = 0; i < n; ++i) {
    c.reference += static_cast<double>(wd[i]) * ad[i];
    c.magnitude += std::fabs(static_cast<double>(wd[i]) * ad[i]);
  }
  // Q8_1 carries s = fp16(d·Σq) with the unrounded d: ggml's dot uses it for the min term,
  // so it differs from the decoded dot by up to ~2^-10 of Σ_b |m_b s_b|.
  if (k.vec_dot_type == DType::Q8_1) {
    const auto* ab = reinterpret_cast<const BlockQ8_1*>(a.data());
    for (int64_t b = 0; b < n / 32; ++b) {
      uint16_t m16;
      std::memcpy(&m16, w.data() + b * row_size(t, 32) + 2, 2);  // Q4_1 / Q5_1: d, then m
      c.extra += 1.5 / 1024 * std::fabs(fp16_to_f32(m16) * fp16_to_f32(ab[b].s));
    }
  }
  return c;
}

TEST(VecDot, EveryTypeAndLevelMatchesFloat64AndPortable) {
  for (DType t : test::weight_types()) {
    const int64_t block = info(t).block_size == 1 ? 32 : info(t).block_size;
    for (int64_t blocks : {int64_t{1}, int64_t{2}, int64_t{3}, int64_t{7}, int64_t{37}, int64_t{69}}) {
      const int64_t n = blocks * block + (info(t).block_size == 1 ? 5 : 0);
      for (uint32_t seed : {1u, 2u}) {
        const DotCase want = run_dot(t, n, seed, SimdLevel::Portable);
        for (SimdLevel level : available_levels()) {
          SCOPED_TRACE(std::string(dtype_name(t)) + " n=" + std::to_string(n) + " " + level_name(level));
          const DotCase got = run_dot(t, n, seed, level);
          EXPECT_NEAR(got.result, got.reference, 2e-5 * got.magnitude + got.extra + 1e-6);
          if (info(t).block_size > 1)  // quantized: every level sums in ggml's f32 order (ggml_order.h)
            EXPECT_EQ(got.result, want.result);
          else
            EXPECT_NEAR(got.result, want.result, 1e-5 * want.magnitude + 1e-6);
        }
      }
    }
  }
}

TEST(VecDot, QuantizedDotTracksTheFloatDot) {
  // ggml's test-quantize-fns acceptance: |quantized dot − float dot| / n below 0.02
  // (0.04 for Q2_K) on its cosine test data.
  const int64_t n = 32 * 128;
  std::vector<float> x(n), y(n);
  for (int64_t i = 0; i < n; ++i) {
    x[i] = 0.1f + 2.0f * std::cos(static_cast<float>(i));
    y[i] = 0.1f + 2.0f * std::cos(static_cast<float>(i) + 1.0f);
  }
  double exact = 0;
  for (int64_t i = 0; i < n; ++i) exact += static_cast<double>(x[i]) * y[i];
  for (DType t : test::weight_types()) {
    for (SimdLevel level : available_levels()) {
      SCOPED_TRACE(std::string(dtype_name(t)) + " " + level_name(level));
      const auto& k = cpu::kernels(t, level);
      const auto w = quantize_weight_row(t, x);
      const auto a = quantize_activation(k.vec_dot_type, y, level);
      float r = NAN;
      k.vec_dot(n, &r, w.data(), a.data());
      EXPECT_LT(std::fabs(r - exact) / n, t == DType::Q2_K ? 0.04 : 0.02);
    }
  }
}

}  // namespace
}  // namespace xnai
