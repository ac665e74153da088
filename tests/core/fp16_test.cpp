// The portable half/bfloat16 conversions must agree bit for bit with the F16C instructions
// (which ggml uses on x86), over every half value and a dense sweep of floats.
#include <gtest/gtest.h>
#include <immintrin.h>

#include <cmath>
#include <random>

#include "core/cpu_features.h"
#include "core/fp16.h"

namespace {

__attribute__((target("f16c"))) uint16_t hw_f32_to_fp16(float f) {
  return static_cast<uint16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT));
}
__attribute__((target("f16c"))) float hw_fp16_to_f32(uint16_t h) { return _cvtsh_ss(h); }

bool have_f16c() { return xnai::cpu_features().f16c; }

TEST(Fp16, EveryHalfDecodesLikeF16C) {
  if (!have_f16c()) GTEST_SKIP() << "CPU has no F16C";
  for (uint32_t h = 0; h < 65536; ++h) {
    const float a = xnai::fp16_to_f32(static_cast<uint16_t>(h));
    const float b = hw_fp16_to_f32(static_cast<uint16_t>(h));
    if (std::isnan(b)) {
      EXPECT_TRUE(std::isnan(a)) << h;
    } else {
      ASSERT_EQ(xnai::f32_to_bits(a), xnai::f32_to_bits(b)) << "half 0x" << std::hex << h;
    }
  }
}

TEST(Fp16, EncodesLikeF16C) {
  if (!have_f16c()) GTEST_SKIP() << "CPU has no F16C";
  // Every float whose low 13 bits sit at the rounding boundaries, over the whole exponent range,
  // plus random bit patterns.
  std::mt19937 rng(42);
  for (uint32_t hi = 0; hi < (1u << 19); ++hi) {
    for (uint32_t lo : {0u, 1u, 0xfffu, 0x1000u, 0x1001u, 0x1fffu}) {
      const uint32_t bits = (hi << 13) | lo;
      const float f = xnai::bits_to_f32(bits);
      if (std::isnan(f)) continue;
      ASSERT_EQ(xnai::f32_to_fp16(f), hw_f32_to_fp16(f)) << "float bits 0x" << std::hex << bits;
    }
  }
  for (int i = 0; i < 1000000; ++i) {
    const float f = xnai::bits_to_f32(rng());
    if (std::isnan(f)) continue;
    ASSERT_EQ(xnai::f32_to_fp16(f), hw_f32_to_fp16(f)) << f;
  }
}

TEST(Bf16, RoundsToNearestEven) {
  EXPECT_EQ(xnai::f32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(xnai::bf16_to_f32(0x3f80), 1.0f);
  // 1 + 2^-8 is exactly half-way between two bf16 values: ties to even (down).
  EXPECT_EQ(xnai::f32_to_bf16(1.0f + 1.0f / 256), 0x3f80);
  // 1 + 3·2^-8 ties up to the even neighbour.
  EXPECT_EQ(xnai::f32_to_bf16(1.0f + 3.0f / 256), 0x3f82);
  EXPECT_TRUE(std::isnan(xnai::bf16_to_f32(xnai::f32_to_bf16(std::nanf("")))));
  EXPECT_EQ(xnai::f32_to_bf16(-INFINITY), 0xff80);
}

}  // namespace
