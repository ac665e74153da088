// The overlap-save FFT convolution (models/kokoro/conv1d_fft.h) against conv1d_plain on the
// generator's real shapes (128 and 256 channels, kernels 3/7/11, dilations 1/3/5) and on
// awkward ones (odd channel counts, lengths that are no multiple of a block, shorter than
// one, paddings other than "same"), with and without bias, with AdaIN + Snake computed as
// the input is read, and accumulating into the output. Error bound: max |fft − plain| ≤
// 1e-5 · max |plain| (float32 FFTs are accurate to ~1e-6 of the signal's scale).
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "compute/cpu/quant.h"
#include "core/thread_pool.h"
#include "kokoro_test_weights.h"
#include "models/kokoro/conv1d_fft.h"
#include "models/kokoro/kokoro_internal.h"
#include "models/kokoro/kokoro_simd.h"
#include "models/kokoro/parallel.h"

namespace xnai::models::kokoro {
namespace {

using test::copy_rows;
using test::LevelGuard;
using test::random_mat;
using test::random_param;
using test::relative_error;

// max |y − ref| / max |ref|

struct Case {
  int64_t cin, cout;
  int K, d;
  int64_t L;
  int pad;  // -1: "same" (d·(K−1)/2)
  bool bias;
};

// Runs one case at transform size n (0: the cost model's choice), plain or by phases,
// serial and on a pool, and checks both against conv1d_plain.
void check_case(const Case& c, int64_t n, std::mt19937_64& rng, ThreadPool& pool, const char* level,
                bool phases = false) {
  const int pad = c.pad >= 0 ? c.pad : c.d * (c.K - 1) / 2;
  const Param w = random_param({c.cout, c.cin, c.K}, rng, 1.f / std::sqrt(float(c.cin * c.K)));
  const Param b = random_param({c.cout}, rng, 0.5f);
  const Param* bp = c.bias ? &b : nullptr;
  const Mat x = random_mat(c.cin, c.L, rng);
  const Mat ref = conv1d_plain(x, w, bp, 1, pad, c.d);
  const int64_t span = phases ? c.K : c.d * (c.K - 1) + 1;
  if (n == 0) {
    // The cost model's size, or where it keeps the direct conv the smallest one allowed.
    n = conv1d_fft_size(c.cin, c.cout, c.K, c.d, ref.cols);
    while (n < 2 * span) n = n ? 2 * n : 16;
  }
  Mat y(c.cout, ref.cols);
  conv1d_fft(c.cin, c.L, copy_rows(x), w, bp, pad, c.d, n, y, false, phases);
  const double err = relative_error(y, ref);
  EXPECT_LE(err, 1e-5) << level << " cin " << c.cin << " cout " << c.cout << " K " << c.K << " d " << c.d
                       << " L " << c.L << " pad " << pad << " n " << n << (phases ? " by phases" : "");
  // On the pool, accumulating onto random contents: the same bits as serial, added.
  Mat acc = random_mat(c.cout, ref.cols, rng);
  const Mat acc0 = acc;
  {
    PoolScope scope(&pool);
    conv1d_fft(c.cin, c.L, copy_rows(x), w, bp, pad, c.d, n, acc, true, phases);
  }
  for (size_t q = 0; q < y.v.size(); ++q)
    ASSERT_EQ(acc.v[q], acc0.v[q] + y.v[q]) << level << " accumulate on the pool, at " << q;
}

TEST(KokoroFftConv, MatchesPlainOnGeneratorShapes) {
  std::mt19937_64 rng(11);
  ThreadPool pool(2);
  for (cpu::SimdLevel level : test::simd_levels(false)) {
    LevelGuard g(level);
    const char* name = cpu::simd_level_name(level);
    // Stage 2 (128 channels): every kernel and dilation of the resblocks and noise_res.1.
    for (int K : {3, 7, 11})
      for (int d : {1, 3, 5}) check_case({128, 128, K, d, 1733, -1, d != 3}, 0, rng, pool, name);
    // The long kernels at 128 channels are what the FFT path is for.
    EXPECT_GT(conv1d_fft_size(128, 128, 11, 1, 20000), 0);
    EXPECT_GT(conv1d_fft_size(128, 128, 11, 5, 20000), 0);
    // Stage 1 (256 channels, kernel 7 of noise_res.0 and 11 of the last resblock).
    check_case({256, 256, 7, 5, 811, -1, true}, 0, rng, pool, name);
    check_case({256, 256, 11, 1, 500, -1, false}, 0, rng, pool, name);
  }
}

TEST(KokoroFftConv, MatchesPlainAtEveryTransformSizeAndAwkwardShapes) {
  std::mt19937_64 rng(12);
  ThreadPool pool(2);
  for (cpu::SimdLevel level : test::simd_levels(false)) {
    LevelGuard g(level);
    const char* name = cpu::simd_level_name(level);
    for (int64_t n : {16, 32, 64, 128, 256, 512, 1024})
      for (int64_t L : {1, 7, 100, 999}) {
        const int K = n >= 64 ? 11 : 3, d = n >= 64 ? 3 : 1;
        check_case({20, 18, K, d, L, -1, true}, n, rng, pool, name);
      }
    // Odd channel counts (a zero partner channel in the pair transforms), Cout not a
    // multiple of the tile, paddings smaller and larger than "same", a kernel of 2.
    check_case({37, 25, 7, 3, 301, -1, true}, 64, rng, pool, name);
    check_case({5, 13, 5, 1, 50, 0, true}, 16, rng, pool, name);
    check_case({24, 7, 5, 2, 333, 9, false}, 32, rng, pool, name);
    check_case({33, 31, 2, 1, 64, 1, true}, 16, rng, pool, name);
    // More outputs than a group of chunks (several groups) at a small transform.
    check_case({16, 16, 3, 1, 3000, -1, true}, 16, rng, pool, name);
    // By phases: every dilation of the generator, lengths not a multiple of d, runs of
    // lanes that change phase inside a chunk, paddings other than "same", several groups.
    for (int64_t n : {16, 32, 64, 128})
      for (int d : {2, 3, 5})
        for (int64_t L : {1, 9, 100, 1001}) check_case({20, 18, 7, d, L, -1, true}, n, rng, pool, name, true);
    check_case({37, 25, 11, 5, 3001, -1, true}, 32, rng, pool, name, true);
    check_case({24, 7, 5, 3, 333, 1, false}, 16, rng, pool, name, true);
    check_case({16, 16, 5, 3, 9000, -1, true}, 16, rng, pool, name, true);
  }
}

// The cost model plans the generator's dilated long-kernel convs by phases where that is
// cheaper, and the plan it picks is right.
TEST(KokoroFftConv, PlansByPhasesMatchPlain) {
  std::mt19937_64 rng(16);
  ThreadPool pool(2);
  for (cpu::SimdLevel level : test::simd_levels(false)) {
    LevelGuard g(level);
    bool any = false;
    for (const Case& c : {Case{256, 256, 11, 5, 1480, -1, true}, Case{256, 256, 7, 3, 1480, -1, true},
                          Case{128, 128, 11, 5, 8881, -1, true}}) {
      bool phases = false;
      const int64_t n = conv1d_fft_size(c.cin, c.cout, c.K, c.d, c.L, &phases);
      any = any || phases;
      if (n) check_case(c, n, rng, pool, cpu::simd_level_name(level), phases);
    }
    EXPECT_TRUE(any) << "no dilated generator conv planned by phases at " << cpu::simd_level_name(level);
  }
}

TEST(KokoroFftConv, FusedAdainSnakeInputMatchesPlain) {
  std::mt19937_64 rng(13);
  ThreadPool pool(2);
  const int64_t C = 128, L = 2100;
  const Mat x = random_mat(C, L, rng);
  std::vector<float> mean(C), scale(C), shift(C), alpha(C);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (int64_t i = 0; i < C; ++i) {
    mean[i] = 0.1f * u(rng);
    scale[i] = 1.5f + u(rng);
    shift[i] = 0.3f * u(rng);
    alpha[i] = 1.f + 0.4f * u(rng);
  }
  for (cpu::SimdLevel level : test::simd_levels(false)) {
    LevelGuard g(level);
    Mat xs(C, L);
    for (int64_t i = 0; i < C; ++i)
      simd::affine_snake(x.row(i), xs.row(i), L, mean[i], scale[i], shift[i], alpha[i]);
    const Param w = random_param({C, C, 11}, rng, 1.f / std::sqrt(float(C * 11)));
    const Param b = random_param({C}, rng, 0.5f);
    const Mat ref = conv1d_plain(xs, w, &b, 1, 25, 5);
    Mat y = random_mat(C, ref.cols, rng);
    const Mat y0 = y;
    const int64_t n = conv1d_fft_size(C, C, 11, 5, ref.cols);
    ASSERT_GT(n, 0);
    {
      PoolScope scope(&pool);
      conv1d_fft(
          C, L,
          [&](int64_t i, int64_t c, int64_t count, int64_t stride, float* dst) {
            for (int64_t m = 0; m < count; ++m) dst[m] = x.at(i, c + m * stride);
            simd::affine_snake(dst, dst, count, mean[i], scale[i], shift[i], alpha[i]);
          },
          w, &b, 25, 5, n, y, true);
    }
    for (size_t q = 0; q < y.v.size(); ++q) y.v[q] -= y0.v[q];
    EXPECT_LE(relative_error(y, ref), 1e-5) << cpu::simd_level_name(level);
  }
}

// The fused AdaINResBlock1 at the generator's width, where the FFT path runs.
TEST(KokoroFftConv, ResBlockOnTheFftPathMatchesPlain) {
  std::mt19937_64 rng(14);
  const int64_t C = 128, S = 16, L = 1500;
  ThreadPool pool(2);
  for (int kernel : {7, 11}) {
    const test::ResBlockCase c = test::random_resblock_case(C, S, L, kernel, rng);
    const Mat& ref = c.ref;
    for (cpu::SimdLevel level : test::simd_levels(false)) {
      LevelGuard g(level);
      ASSERT_GT(conv1d_fft_size(C, C, kernel, 1, L), 0);
      PoolScope scope(&pool);
      const Mat y = adain_res_block1(c.x, c.s, c.w, c.prefix, kernel, {1, 3, 5});
      ASSERT_EQ(y.v.size(), ref.v.size());
      EXPECT_LE(relative_error(y, ref), 1e-5) << cpu::simd_level_name(level) << " kernel " << kernel;
    }
  }
}

// Not a check: direct vs FFT time on the generator's shapes, for tuning the cost model.
TEST(KokoroFftConv, PrintsTimesAgainstTheDirectConv) {
  if (!simd::has_conv_direct()) GTEST_SKIP() << "no SIMD fast paths";
  std::mt19937_64 rng(15);
  ThreadPool pool(2);
  PoolScope scope(&pool);
  struct Shape {
    int64_t c;
    int K, d;
    int64_t L;
  };
  for (const Shape& sh : {Shape{128, 3, 1, 20000}, Shape{128, 7, 3, 20000}, Shape{128, 11, 5, 20000},
                          Shape{128, 3, 1, 4000}, Shape{256, 3, 1, 3000}, Shape{256, 11, 5, 3000}}) {
    const Param w = random_param({sh.c, sh.c, sh.K}, rng, 0.1f);
    const Mat x = random_mat(sh.c, sh.L, rng);
    const int pad = sh.d * (sh.K - 1) / 2;
    simd::PaddedInput p = simd::padded_input(sh.c, sh.L, pad, sh.K, sh.d);
    for (int64_t i = 0; i < sh.c; ++i) std::copy(x.row(i), x.row(i) + sh.L, p.row(i) + p.pad);
    Mat y(sh.c, sh.L);
    const double td =
        test::best_of_3_seconds([&] { simd::conv1d_direct(p, w, nullptr, pad, sh.d, y, false); });
    std::printf("  c %3lld K %2d d %d L %6lld: direct %7.2f ms", (long long)sh.c, sh.K, sh.d, (long long)sh.L,
                td * 1e3);
    for (int64_t n : {32, 64, 128, 256, 512}) {
      if (n < 2 * (sh.d * (sh.K - 1) + 1)) continue;
      const double tf = test::best_of_3_seconds(
          [&] { conv1d_fft(sh.c, sh.L, copy_rows(x), w, nullptr, pad, sh.d, n, y, false); });
      std::printf("  n%-3lld %7.2f", (long long)n, tf * 1e3);
    }
    std::printf("  (model: n=%lld)\n", (long long)conv1d_fft_size(sh.c, sh.c, sh.K, sh.d, sh.L));
  }
}

}  // namespace
}  // namespace xnai::models::kokoro
