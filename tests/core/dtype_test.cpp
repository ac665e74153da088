#include "core/dtype.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace {

TEST(DType, BlockGeometryMatchesGgml) {
  using xnai::DType;
  struct Want { DType t; int64_t block; size_t bytes; };
  for (auto w : {Want{DType::F32, 1, 4}, Want{DType::F16, 1, 2}, Want{DType::BF16, 1, 2}, Want{DType::Q4_0, 32, 18},
                 Want{DType::Q4_1, 32, 20}, Want{DType::Q5_0, 32, 22}, Want{DType::Q5_1, 32, 24},
                 Want{DType::Q8_0, 32, 34}, Want{DType::Q2_K, 256, 84}, Want{DType::Q3_K, 256, 110},
                 Want{DType::Q4_K, 256, 144}, Want{DType::Q5_K, 256, 176}, Want{DType::Q6_K, 256, 210},
                 Want{DType::Q8_K, 256, 292}}) {
    EXPECT_EQ(xnai::info(w.t).block_size, w.block) << xnai::dtype_name(w.t);
    EXPECT_EQ(xnai::info(w.t).type_size, w.bytes) << xnai::dtype_name(w.t);
  }
}

TEST(DType, UnknownIdsAndNames) {
  EXPECT_FALSE(xnai::dtype_info(4).has_value());   // Q4_2, removed from ggml
  EXPECT_FALSE(xnai::dtype_info(1000).has_value());
  EXPECT_EQ(xnai::dtype_from_name("Q4_K"), xnai::DType::Q4_K);
  EXPECT_EQ(xnai::dtype_from_name("q8_0"), xnai::DType::Q8_0);
  EXPECT_FALSE(xnai::dtype_from_name("q9_9").has_value());
}

TEST(DType, RowSizeRejectsPartialBlocks) {
  EXPECT_EQ(xnai::row_size(xnai::DType::Q4_0, 64), 36u);
  EXPECT_EQ(xnai::row_size(xnai::DType::F16, 7), 14u);
  EXPECT_THROW(xnai::row_size(xnai::DType::Q4_K, 896), xnai::Error);
}

}  // namespace

#include "core/cpu_features.h"

namespace {

TEST(CpuFeatures, BundlesAreConsistentWithTheirParts) {
  const auto& f = xnai::cpu_features();
  if (f.has_avx512_set()) { EXPECT_TRUE(f.has_avx2_set()); }
  if (f.has_avx2_set()) { EXPECT_TRUE(f.avx2 && f.fma && f.f16c && f.bmi2); }
  // The compiler's own view must agree where it has one (gcc knows all of these).
  EXPECT_EQ(f.avx2, __builtin_cpu_supports("avx2") != 0);
  EXPECT_EQ(f.fma, __builtin_cpu_supports("fma") != 0);
  EXPECT_EQ(f.avx512f, __builtin_cpu_supports("avx512f") != 0);
}

}  // namespace
