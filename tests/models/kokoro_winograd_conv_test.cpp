// The Winograd F(4,3) convolution (models/kokoro/conv1d_winograd.h) against conv1d_plain at
// every SIMD level with fast paths: channel counts off the tile height, lengths that end
// mid-tile and mid-group, dilations 1/3/5 (the generator's), paddings other than "same",
// with and without bias, accumulating onto random contents, serial and on the pool (the
// same bits), and with the weight packed at load or not. Plus timings against the direct
// conv on the decoder's and generator's shapes (printed, not asserted).
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "compute/cpu/quant.h"
#include "core/thread_pool.h"
#include "kokoro_test_weights.h"
#include "models/kokoro/conv1d_winograd.h"
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

TEST(KokoroWinogradConv, MatchesPlainOnAwkwardShapes) {
  std::mt19937_64 rng(21);
  ThreadPool pool(2);
  int checked = 0;
  struct Case {
    int64_t cin, cout;
    int d;
    int64_t L;
    int pad;  // -1: "same"
    bool bias;
  };
  const Case cases[] = {
      {32, 32, 1, 32, -1, true},     {37, 45, 1, 33, -1, true},     {64, 40, 3, 100, -1, false},
      {33, 130, 5, 257, -1, true},   {128, 128, 1, 1000, -1, true}, {128, 128, 3, 999, -1, true},
      {128, 128, 5, 2001, -1, true}, {48, 50, 1, 77, 0, true},      {48, 50, 2, 77, 3, false},
      {300, 64, 1, 513, -1, true},   {40, 36, 1, 70001, -1, true},  // several groups
  };
  for (cpu::SimdLevel level : test::simd_levels(false)) {
    LevelGuard g(level);
    for (const Case& c : cases) {
      const int pad = c.pad >= 0 ? c.pad : c.d;
      const Param raw = random_param({c.cout, c.cin, 3}, rng, 1.f / std::sqrt(float(c.cin * 3)));
      const Param b = random_param({c.cout}, rng, 0.5f);
      const Param* bp = c.bias ? &b : nullptr;
      const Mat x = random_mat(c.cin, c.L, rng);
      const Mat ref = conv1d_plain(x, raw, bp, 1, pad, c.d);
      ASSERT_TRUE(conv1d_winograd_pays(c.cin, c.cout, 3, ref.cols));
      Param packed = raw;
      simd::pack_in_place(packed);
      for (const Param* w : std::vector<const Param*>{&raw, &packed}) {
        Mat y(c.cout, ref.cols);
        conv1d_winograd(c.cin, c.L, copy_rows(x), *w, bp, pad, c.d, y, false);
        const double err = relative_error(y, ref);
        EXPECT_LE(err, 1e-5) << cpu::simd_level_name(level) << " cin " << c.cin << " cout " << c.cout << " d "
                             << c.d << " L " << c.L << " pad " << pad << (w == &packed ? " packed" : "");
        Mat acc = random_mat(c.cout, ref.cols, rng);
        const Mat acc0 = acc;
        {
          PoolScope scope(&pool);
          conv1d_winograd(c.cin, c.L, copy_rows(x), *w, bp, pad, c.d, acc, true);
        }
        for (size_t q = 0; q < y.v.size(); ++q)
          ASSERT_EQ(acc.v[q], acc0.v[q] + y.v[q]) << "pool + accumulate differ from serial at " << q << ", "
                                                  << cpu::simd_level_name(level) << " L " << c.L;
      }
      ++checked;
    }
  }
  if (cpu::detected_simd_level() >= cpu::SimdLevel::Avx2) {
    EXPECT_GT(checked, 0);
  }
}

// Through the dispatch: conv1d() takes the Winograd path for these shapes and agrees with
// the plain loops.
TEST(KokoroWinogradConv, Conv1dDispatchesKernel3ToIt) {
  std::mt19937_64 rng(22);
  for (cpu::SimdLevel level : test::simd_levels(false)) {
    LevelGuard g(level);
    Param w = random_param({96, 80, 3}, rng, 0.1f);
    const Param b = random_param({96}, rng);
    const Mat x = random_mat(80, 300, rng);
    const Mat ref = conv1d_plain(x, w, &b, 1, 1, 1);
    simd::pack_in_place(w);
    EXPECT_LE(relative_error(conv1d(x, w, &b, 1, 1, 1), ref), 1e-5) << cpu::simd_level_name(level);
  }
}

TEST(KokoroWinogradConv, PrintsTimesAgainstTheDirectConv) {
  if (!simd::has_conv_direct()) GTEST_SKIP() << "no SIMD fast paths";
  std::mt19937_64 rng(23);
  ThreadPool pool(2);
  PoolScope scope(&pool);
  struct Shape {
    int64_t cin, cout;
    int d;
    int64_t L;
  };
  for (const Shape& sh : {Shape{1090, 1024, 1, 300}, Shape{256, 256, 1, 1500}, Shape{256, 256, 5, 1500},
                          Shape{128, 128, 1, 9000}, Shape{128, 128, 3, 33600}, Shape{512, 512, 1, 160}}) {
    Param w = random_param({sh.cout, sh.cin, 3}, rng, 0.1f);
    simd::pack_in_place(w);
    const Mat x = random_mat(sh.cin, sh.L, rng);
    Mat y(sh.cout, sh.L);
    const auto fill = [&](int64_t c0, int64_t c1, float* dst, int64_t ld) {
      for (int64_t i = 0; i < sh.cin; ++i) std::copy(x.row(i) + c0, x.row(i) + c1, dst + i * ld);
    };
    const double td = test::best_of_3_seconds(
        [&] { simd::conv1d_direct(sh.cin, sh.L, fill, w, nullptr, sh.d, sh.d, y, false); });
    const double tw = test::best_of_3_seconds(
        [&] { conv1d_winograd(sh.cin, sh.L, copy_rows(x), w, nullptr, sh.d, sh.d, y, false); });
    std::printf("  %4lld -> %4lld d %d L %6lld: direct %7.2f ms, winograd %7.2f ms (%.2fx)\n",
                (long long)sh.cin, (long long)sh.cout, sh.d, (long long)sh.L, td * 1e3, tw * 1e3, td / tw);
  }
}

}  // namespace
}  // namespace xnai::models::kokoro
