// The generator's SIMD fast paths (models/kokoro/kokoro_simd.h) against the plain loops at
// every SIMD level this CPU has: the vector sine against std::sin, AdaIN+Snake against the
// scalar formula, the direct convolution against conv1d_plain on awkward shapes (time
// tails, dilations 1/3/5, kernels 1/3/5/7/11, Cout not a multiple of the tile), with and
// without accumulation, and the fused AdaINResBlock1 against the plain one.
#include "models/kokoro/kokoro_simd.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "compute/cpu/quant.h"
#include "core/thread_pool.h"
#include "kokoro_test_weights.h"
#include "models/kokoro/kokoro_internal.h"
#include "models/kokoro/parallel.h"

namespace xnai::models::kokoro {
namespace {

using test::LevelGuard;
using test::random_mat;
using test::random_param;

TEST(KokoroSimd, SinIsWithinAFewUlpOfStdSin) {
  std::mt19937_64 rng(1);
  std::vector<float> x;
  for (float v : {0.f, -0.f, 1e-30f, 1.5707964f, 3.1415927f, -3.1415927f, 6.2831855f, 100.f, 1000.5f, 8191.f,
                  32767.f, 40000.f, -123456.f, 1e9f})
    x.push_back(v);
  std::uniform_real_distribution<float> small(-10.f, 10.f), big(-30000.f, 30000.f);
  for (int i = 0; i < 20000; ++i) x.push_back(i % 2 ? small(rng) : big(rng));
  for (cpu::SimdLevel level : test::simd_levels(true)) {
    LevelGuard g(level);
    for (size_t n : {x.size(), size_t{1}, size_t{7}, size_t{17}, size_t{33}}) {  // tails
      std::vector<float> y(n);
      simd::sin(x.data(), y.data(), static_cast<int64_t>(n));
      double worst = 0;
      for (size_t i = 0; i < n; ++i) {
        const double ref = std::sin(double(x[i]));
        // ulp of the result's binade, at least that of 2^-24 near zero
        const double ulp = std::ldexp(1.0, std::max(std::ilogb(std::max(std::fabs(ref), 1e-30)), -24) - 23);
        worst = std::max(worst, std::fabs(y[i] - ref) / ulp);
      }
      EXPECT_LE(worst, 4.0) << cpu::simd_level_name(level) << " n=" << n;
      if (n == x.size()) std::printf("  sin %-8s worst %.2f ulp\n", cpu::simd_level_name(level), worst);
    }
  }
}

// ALBERT's gelu_new against the formula in double: within 4e-7 of |x| + 1e-7 everywhere
// (the tanh is near ±1 or the factor x near 0 where the e^x form loses digits).
TEST(KokoroSimd, GeluTanhMatchesTheFormula) {
  std::mt19937_64 rng(4);
  std::vector<float> x{0.f,   -0.f, 1e-8f, -1e-8f, 1e-3f, -1e-3f, 0.5f,
                       -0.5f, 3.f,  -3.f,  8.9f,   -11.f, 40.f,   -40.f};
  std::uniform_real_distribution<float> u(-12.f, 12.f), v(-0.1f, 0.1f);
  for (int i = 0; i < 20000; ++i) x.push_back(i % 2 ? u(rng) : v(rng));
  for (cpu::SimdLevel level : test::simd_levels(true)) {
    LevelGuard g(level);
    for (size_t n : {x.size(), size_t{1}, size_t{7}, size_t{17}}) {  // tails
      std::vector<float> y(n);
      simd::gelu_tanh(x.data(), y.data(), static_cast<int64_t>(n));
      double worst = 0;
      for (size_t i = 0; i < n; ++i) {
        const double xi = x[i];
        const double ref = 0.5 * xi * (1.0 + std::tanh(0.7978845608028654 * (xi + 0.044715 * xi * xi * xi)));
        ASSERT_TRUE(std::isfinite(y[i])) << x[i];
        worst = std::max(worst, std::fabs(y[i] - ref) / (4e-7 * std::fabs(xi) + 1e-7));
      }
      EXPECT_LE(worst, 1.0) << cpu::simd_level_name(level) << " n=" << n;
    }
  }
}

TEST(KokoroSimd, AffineSnakeMatchesTheFormula) {
  std::mt19937_64 rng(2);
  const Mat x = random_mat(1, 101, rng);
  for (cpu::SimdLevel level : test::simd_levels(true)) {
    LevelGuard g(level);
    for (float alpha : {0.3f, 1.f, 4.7f}) {
      std::vector<float> y(101);
      simd::affine_snake(x.v.data(), y.data(), 101, 0.1f, 2.5f, -0.3f, alpha);
      for (int i = 0; i < 101; ++i) {
        const double v = (double(x.v[i]) - 0.1) * 2.5 - 0.3;
        const double s = std::sin(alpha * v);
        EXPECT_NEAR(y[i], v + s * s / alpha, 2e-6 * (1 + std::fabs(v)))
            << cpu::simd_level_name(level) << " " << i;
      }
    }
  }
}

TEST(KokoroSimd, DirectConvMatchesPlainOnAwkwardShapes) {
  std::mt19937_64 rng(3);
  ThreadPool pool(2);
  int checked = 0;
  for (cpu::SimdLevel level : test::simd_levels(true)) {
    LevelGuard g(level);
    if (!simd::has_conv_direct()) continue;
    for (int64_t cin : {1, 5, 16, 37})
      for (int64_t cout : {1, 7, 13, 25})
        for (int K : {1, 3, 5, 7, 11})
          for (int d : {1, 3, 5})
            for (int64_t L : {1, 9, 31, 33, 100}) {
              if (K == 1 && d > 1) continue;
              const int pad = d * (K - 1) / 2;
              const Param w = random_param({cout, cin, K}, rng, 1.f / std::sqrt(float(cin * K)));
              const Param b = random_param({cout}, rng);
              const Mat x = random_mat(cin, L, rng);
              const Mat ref = conv1d_plain(x, w, &b, 1, pad, d);
              simd::PaddedInput p = simd::padded_input(cin, L, pad, K, d);
              for (int64_t i = 0; i < cin; ++i) std::copy(x.row(i), x.row(i) + L, p.row(i) + p.pad);
              Mat y(cout, ref.cols), acc = random_mat(cout, ref.cols, rng);
              const Mat acc0 = acc;
              simd::conv1d_direct(p, w, &b, pad, d, y, false);
              {
                PoolScope scope(&pool);  // the time split must not change a bit
                simd::conv1d_direct(p, w, &b, pad, d, acc, true);
              }
              // The panel form (input columns produced per block of tiles, never padded
              // whole) gives the same bits, serial and split over the pool.
              Mat yf(cout, ref.cols);
              {
                PoolScope scope(&pool);
                simd::conv1d_direct(
                    cin, L,
                    [&](int64_t c0, int64_t c1, float* dst, int64_t ld) {
                      for (int64_t i = 0; i < cin; ++i) std::copy(x.row(i) + c0, x.row(i) + c1, dst + i * ld);
                    },
                    w, &b, pad, d, yf, false);
              }
              ASSERT_EQ(yf.v, y.v) << "panel form, " << cpu::simd_level_name(level) << " cin " << cin << " K "
                                   << K << " d " << d << " L " << L;
              for (size_t q = 0; q < y.v.size(); ++q) {
                ASSERT_NEAR(y.v[q], ref.v[q], 1e-5f * (1 + std::fabs(ref.v[q])))
                    << cpu::simd_level_name(level) << " cin " << cin << " cout " << cout << " K " << K
                    << " d " << d << " L " << L << " at " << q;
                ASSERT_EQ(acc.v[q], acc0.v[q] + y.v[q]) << "accumulate, at " << q;
              }
              ++checked;
            }
    // A padding smaller than "same" (and one larger) through conv1d's dispatch.
    const Param w = random_param({20, 24, 5}, rng, 0.1f);
    const Mat x = random_mat(24, 70, rng);
    for (int pad : {0, 1, 4}) {
      const Mat ref = conv1d_plain(x, w, nullptr, 1, pad, 2);
      const Mat y = conv1d(x, w, nullptr, 1, pad, 2);
      ASSERT_EQ(y.cols, ref.cols);
      for (size_t q = 0; q < y.v.size(); ++q) {
        ASSERT_NEAR(y.v[q], ref.v[q], 1e-5f * (1 + std::fabs(ref.v[q])));
      }
    }
  }
  if (cpu::detected_simd_level() >= cpu::SimdLevel::Avx2) {
    EXPECT_GT(checked, 0);
  }
}

// Weights packed once at load (pack_in_place) give the same bits as packing per call, on
// the direct and the FFT path, and stay usable where the layout does not fit: inputs too
// short for the direct conv, another SIMD level, the portable loops.
TEST(KokoroSimd, WeightsPackedInPlaceGiveTheSameBits) {
  std::mt19937_64 rng(5);
  ThreadPool pool(2);
  int checked = 0;
  for (cpu::SimdLevel level : test::simd_levels(false)) {
    LevelGuard g(level);
    struct Shape {
      int64_t cout, cin;
      int K, d;
      int64_t L;
    };
    // 128 x 128, K = 11 at d = 5 over 2000 steps takes the FFT path; the others the direct.
    for (const Shape sh : {Shape{13, 20, 3, 1, 50}, Shape{25, 37, 5, 3, 3}, Shape{128, 128, 11, 5, 2000},
                           Shape{40, 64, 1, 1, 17}}) {
      const Param raw = random_param({sh.cout, sh.cin, sh.K}, rng, 1.f / std::sqrt(float(sh.cin * sh.K)));
      const Param b = random_param({sh.cout}, rng);
      Param packed = raw;
      simd::pack_in_place(packed);
      ASSERT_GT(packed.packed_mr, 0);
      ASSERT_EQ(unpacked(packed).data, raw.data) << "unpacking restores the original";
      const Mat x = random_mat(sh.cin, sh.L, rng);
      const int pad = sh.d * (sh.K - 1) / 2;
      PoolScope scope(&pool);
      ASSERT_EQ(conv1d(x, packed, &b, 1, pad, sh.d).v, conv1d(x, raw, &b, 1, pad, sh.d).v)
          << cpu::simd_level_name(level) << " cout " << sh.cout << " K " << sh.K << " L " << sh.L;
      // Packed for this level, then run at every other one (and the portable loops).
      for (cpu::SimdLevel other : test::simd_levels(true)) {
        LevelGuard g2(other);
        const Mat ref = conv1d(x, raw, &b, 1, pad, sh.d);
        ASSERT_EQ(conv1d(x, packed, &b, 1, pad, sh.d).v, ref.v)
            << "packed at " << cpu::simd_level_name(level) << ", run at " << cpu::simd_level_name(other);
      }
      ++checked;
    }
  }
  if (cpu::detected_simd_level() >= cpu::SimdLevel::Avx2) {
    EXPECT_GT(checked, 0);
  }
}

TEST(KokoroSimd, FusedResBlockMatchesPlain) {
  std::mt19937_64 rng(4);
  const int64_t C = 24, S = 16, L = 75;
  for (int kernel : {3, 7}) {
    const test::ResBlockCase c = test::random_resblock_case(C, S, L, kernel, rng);
    const Mat& ref = c.ref;
    for (cpu::SimdLevel level : test::simd_levels(true)) {
      LevelGuard g(level);
      const Mat y = adain_res_block1(c.x, c.s, c.w, c.prefix, kernel, {1, 3, 5});
      ASSERT_EQ(y.v.size(), ref.v.size());
      for (size_t q = 0; q < y.v.size(); ++q) {
        ASSERT_NEAR(y.v[q], ref.v[q], 1e-4f * (1 + std::fabs(ref.v[q])))
            << cpu::simd_level_name(level) << " kernel " << kernel << " at " << q;
      }
    }
  }
}

}  // namespace
}  // namespace xnai::models::kokoro
