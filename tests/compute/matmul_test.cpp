// matmul() for every type, SIMD level, awkward shapes (odd block counts, odd N and M covering
// the row and tile paths) and 1-3 threads:
// - against a float64 reference of ggml's numerics (dequantized weights times the
//   activations quantized to the weight type's partner layout), within rounding;
// - for the quantized types, bit for bit against the portable single dot product in ggml's
//   f32 order (ggml_order.h): lane order, or block order for Q4_0 with N % 8 == 0, which is
//   what llama.cpp computes for those matrices at any batch size.
// Also checks that the scratch buffer is reused without growing.
#include "compute/cpu/matmul.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "compute/cpu/kernel_table.h"
#include "compute/cpu/quant.h"
#include "compute/quant_test_support.h"
#include "core/error.h"
#include "core/fp16.h"
#include "core/quant_blocks.h"

namespace xnai {
namespace {

using cpu::SimdLevel;

struct Shape {
  int64_t blocks, N, M;
};

struct Reference {
  std::vector<double> y;     // [M][N]
  std::vector<double> tol;   // [M][N]
  std::vector<float> exact;  // [M][N] ggml's f32 order (quantized types)
};

Reference reference(DType t, const std::vector<uint8_t>& w, const std::vector<float>& x, int64_t K, int64_t N,
                    int64_t M) {
  const auto& k = cpu::kernels(t, SimdLevel::Portable);
  const auto& ak = cpu::kernels(k.vec_dot_type, SimdLevel::Portable);
  const size_t w_row = row_size(t, K), a_row = row_size(k.vec_dot_type, K);
  std::vector<float> wd(static_cast<size_t>(N * K)), ad(static_cast<size_t>(M * K));
  std::vector<uint8_t> aq(a_row * static_cast<size_t>(M));
  for (int64_t n = 0; n < N; ++n) k.to_float(w.data() + n * w_row, wd.data() + n * K, K);
  for (int64_t m = 0; m < M; ++m) {
    ak.from_float(x.data() + m * K, aq.data() + m * a_row, K);
    ak.to_float(aq.data() + m * a_row, ad.data() + m * K, K);
  }
  Reference r{std::vector<double>(static_cast<size_t>(N * M)),
              std::vector<double>(static_cast<size_t>(N * M)),
              std::vector<float>(static_cast<size_t>(N * M))};
  const bool blocks = t == DType::Q4_0 && N % 8 == 0;
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      const uint8_t* wr = w.data() + n * w_row;
      const uint8_t* ar = aq.data() + m * a_row;
      if (blocks)
        r.exact[m * N + n] = cpu::detail::q4_0_dot_blocks(K, wr, ar);
      else
        k.vec_dot(K, &r.exact[m * N + n], wr, ar);
    }
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double s = 0, mag = 0;
      for (int64_t i = 0; i < K; ++i) {
        const double p = static_cast<double>(wd[n * K + i]) * ad[m * K + i];
        s += p;
        mag += std::fabs(p);
      }
      double extra = 0;
      if (k.vec_dot_type == DType::Q8_1) {  // ggml uses s = fp16(d·Σq) for the min term
        const auto* ab = reinterpret_cast<const BlockQ8_1*>(aq.data() + m * a_row);
        for (int64_t b = 0; b < K / 32; ++b) {
          uint16_t m16;
          std::memcpy(&m16, w.data() + n * w_row + b * row_size(t, 32) + 2, 2);
          extra += 1.5 / 1024 * std::fabs(fp16_to_f32(m16) * fp16_to_f32(ab[b].s));
        }
      }
      r.y[m * N + n] = s;
      r.tol[m * N + n] = 3e-5 * mag + extra + 1e-6;
    }
  return r;
}

class Matmul : public ::testing::TestWithParam<DType> {};

TEST_P(Matmul, MatchesFloat64ReferenceAtEveryLevelAndThreadCount) {
  const DType t = GetParam();
  const int64_t bs = info(t).block_size == 1 ? 1 : info(t).block_size;
  const bool kq = bs == 256;
  // K = blocks · block size (odd counts of blocks; float types get odd K).
  const std::vector<Shape> shapes =
      kq ? std::vector<Shape>{{1, 1, 1}, {3, 7, 3},  {1, 33, 7}, {3, 129, 5}, {5, 3, 33}, {1, 17, 129},
                              {2, 9, 2}, {1, 11, 6}, {1, 5, 13}, {2, 16, 1},  {1, 24, 5}}
      : bs == 1
          ? std::vector<Shape>{{33, 1, 1},  {97, 7, 3},    {231, 33, 7}, {129, 129, 5},
                               {65, 3, 33}, {33, 17, 129}, {31, 9, 2},   {63, 11, 6}}
          : std::vector<Shape>{{1, 1, 1},   {3, 7, 3},   {7, 33, 7},   {33, 129, 5}, {9, 3, 33}, {3, 17, 129},
                               {5, 9, 2},   {13, 11, 6}, {11, 5, 4},   {7, 8, 1},    {9, 16, 3}, {3, 136, 6},
                               {5, 24, 33}, {8, 24, 1},  {16, 136, 1}, {24, 40, 2},
                               // decode steps of several sequences (row kernels over 3-9 columns,
                               // Q4_0's in passes of up to four): K % 256 == 0, N % 8 == 0
                               {8, 40, 3}, {16, 24, 4}, {8, 16, 5}, {8, 32, 7}, {16, 48, 8}, {8, 24, 9}};
  uint32_t seed = 100;
  for (const Shape& s : shapes) {
    const int64_t K = s.blocks * bs, N = s.N, M = s.M;
    const auto wf = test::gaussian(static_cast<size_t>(N * K), ++seed);
    const auto x = test::gaussian(static_cast<size_t>(M * K), ++seed, 1.5f);
    std::vector<uint8_t> w(row_size(t, K) * static_cast<size_t>(N));
    cpu::quantize_weights(t, wf.data(), w.data(), N, K);
    const Reference ref = reference(t, w, x, K, N, M);
    for (SimdLevel level : test::available_levels()) {
      test::ScopedSimdLevel scoped(level);
      for (int threads : {1, 2, 3}) {
        SCOPED_TRACE(std::string(dtype_name(t)) + " K=" + std::to_string(K) + " N=" + std::to_string(N) +
                     " M=" + std::to_string(M) + " " + cpu::simd_level_name(level) +
                     " threads=" + std::to_string(threads));
        ThreadPool pool(threads);
        std::vector<float> y(static_cast<size_t>(N * M), NAN);
        std::vector<uint8_t> scratch;
        cpu::matmul(pool, t, w.data(), K, N, x.data(), M, y.data(), scratch);
        int bad = 0;
        for (size_t i = 0; i < y.size(); ++i)
          if (!(std::fabs(y[i] - ref.y[i]) <= ref.tol[i]) && ++bad <= 3)
            ADD_FAILURE() << "y[" << i / N << "][" << i % N << "] = " << y[i] << ", want " << ref.y[i]
                          << " ± " << ref.tol[i];
        ASSERT_EQ(bad, 0);
        if (info(t).block_size > 1) {  // quantized: ggml's f32 order, bit for bit
          for (size_t i = 0; i < y.size(); ++i)
            if (y[i] != ref.exact[i] && ++bad <= 3)
              ADD_FAILURE() << "y[" << i / N << "][" << i % N << "] = " << y[i] << ", ggml order gives "
                            << ref.exact[i];
          ASSERT_EQ(bad, 0);
        }
        // Steady state: the same call again reuses the scratch buffer as it is.
        const size_t cap = scratch.size();
        const uint8_t* data = scratch.data();
        cpu::matmul(pool, t, w.data(), K, N, x.data(), M, y.data(), scratch);
        EXPECT_EQ(scratch.size(), cap);
        EXPECT_EQ(scratch.data(), data);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Types, Matmul, ::testing::ValuesIn(test::weight_types()),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

// Q4_0 weights repacked into 16-row panels (the AVX-512 decode layout) give the row
// layout's results bit for bit, for decode (1-9 columns) and prefill (up to 129) shapes.
TEST(MatmulQ4Panels, BitIdenticalToTheRowLayout) {
  test::ScopedSimdLevel scoped(test::available_levels().back());
  if (!cpu::q4_0_panels_supported(256, 16)) GTEST_SKIP() << "no AVX-512 VNNI on this CPU: the panel layout is unused";
  const std::vector<Shape> shapes{{1, 16, 1}, {8, 16, 1},  {7, 48, 1},  {64, 32, 1}, {9, 16, 2},  {8, 80, 3},
                                  {3, 16, 8}, {5, 32, 9},  {8, 48, 17}, {4, 16, 33}, {2, 64, 129}, {176, 16, 4}};
  uint32_t seed = 700;
  for (const Shape& s : shapes) {
    const int64_t K = s.blocks * 32, N = s.N, M = s.M;
    const auto wf = test::gaussian(static_cast<size_t>(N * K), ++seed);
    const auto x = test::gaussian(static_cast<size_t>(M * K), ++seed, 1.5f);
    std::vector<uint8_t> w(row_size(DType::Q4_0, K) * static_cast<size_t>(N)), panels(w.size());
    cpu::quantize_weights(DType::Q4_0, wf.data(), w.data(), N, K);
    cpu::repack_q4_0_panels(w.data(), K, N, panels.data());
    for (int threads : {1, 2, 3}) {
      SCOPED_TRACE("K=" + std::to_string(K) + " N=" + std::to_string(N) + " M=" + std::to_string(M) +
                   " threads=" + std::to_string(threads));
      ThreadPool pool(threads);
      std::vector<float> want(static_cast<size_t>(N * M), NAN), got(want.size(), NAN);
      std::vector<uint8_t> scratch;
      cpu::matmul(pool, DType::Q4_0, w.data(), K, N, x.data(), M, want.data(), scratch);
      cpu::matmul_q4_0_panels(pool, panels.data(), K, N, x.data(), M, got.data(), scratch);
      int bad = 0;
      for (size_t i = 0; i < got.size(); ++i)
        if (!(got[i] == want[i]) && ++bad <= 3)
          ADD_FAILURE() << "y[" << i / N << "][" << i % N << "] = " << got[i] << ", row layout gives " << want[i];
      ASSERT_EQ(bad, 0);
    }
  }
}

TEST(MatmulQ4Panels, RejectsShapesTheLayoutCannotHold) {
  std::vector<uint8_t> w(18 * 24), out(w.size());
  EXPECT_THROW(cpu::repack_q4_0_panels(w.data(), 32, 24, out.data()), Error);  // N % 16 != 0
  EXPECT_FALSE(cpu::q4_0_panels_supported(32, 24));
  EXPECT_FALSE(cpu::q4_0_panels_supported(48, 16));
}

TEST(MatmulErrors, RejectsPartialBlocksAndActivationOnlyTypes) {
  ThreadPool pool(1);
  std::vector<uint8_t> w(1024), scratch;
  std::vector<float> x(64), y(4);
  EXPECT_THROW(cpu::matmul(pool, DType::Q4_0, w.data(), 48, 1, x.data(), 1, y.data(), scratch), Error);
  EXPECT_THROW(cpu::matmul(pool, DType::Q8_K, w.data(), 256, 1, x.data(), 1, y.data(), scratch), Error);
  EXPECT_THROW(cpu::matmul(pool, DType::IQ2_XXS, w.data(), 256, 1, x.data(), 1, y.data(), scratch), Error);
}

}  // namespace
}  // namespace xnai
