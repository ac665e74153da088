// Conformance against llama.cpp's own quantized files (testdata/llm): the Q8_0, Q4_0 and
// Q4_K_M models were made by llama-quantize (c392e50, no imatrix) from the F32 model.
// - Re-quantizing each F32 tensor with quantize_weights gives llama-quantize's bytes exactly.
// - Dequantizing the file's blocks at every SIMD level reproduces the F32 tensor within the
//   type's error range.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "compute/cpu/quant.h"
#include "compute/quant_test_support.h"
#include "formats/gguf.h"
#include "test_support.h"

namespace xnai {
namespace {

struct ModelCase {
  const char* file;
  int expected_quantized;  // 2-D tensors in the file
};

// Relative RMS error of a decoded tensor against the F32 original: the upper end of what
// each type reaches on Gaussian data (see quant_kernels_test), with a little margin.
double rmse_bound(DType t) {
  switch (t) {
    case DType::Q8_0:
      return 0.007;
    case DType::Q4_0:
      return 0.10;
    case DType::Q4_K:
      return 0.085;
    case DType::Q6_K:
      return 0.021;
    default:
      return 1.0;
  }
}

class QuantGguf : public ::testing::TestWithParam<ModelCase> {};

TEST_P(QuantGguf, RequantizesBitExactAndDecodesNearF32) {
  XNAI_SKIP_IF_MISSING(f32_path, "llm/tiny-llama-spm-f32.gguf");
  XNAI_SKIP_IF_MISSING(q_path, std::string("llm/") + GetParam().file);
  const auto f32 = gguf::GgufFile::open(f32_path.string());
  const auto qf = gguf::GgufFile::open(q_path.string());
  int checked = 0;
  for (const auto& t : qf.tensors()) {
    if (t.type == DType::F32) continue;
    SCOPED_TRACE(t.name + " (" + dtype_name(t.type) + ")");
    const gguf::TensorInfo* ref = f32.find_tensor(t.name);
    ASSERT_NE(ref, nullptr);
    ASSERT_EQ(ref->type, DType::F32);
    ASSERT_EQ(ref->ne, t.ne);
    const int64_t n_per_row = t.dim(0);
    const int64_t n_rows = t.n_elements() / n_per_row;
    const size_t row_bytes = row_size(t.type, n_per_row);
    ASSERT_EQ(t.nbytes, row_bytes * static_cast<size_t>(n_rows));
    const auto* src = reinterpret_cast<const float*>(ref->data);

    // Bit-exact with llama-quantize.
    std::vector<uint8_t> mine(t.nbytes);
    cpu::quantize_weights(t.type, src, mine.data(), n_rows, n_per_row);
    int64_t bad_rows = 0, first_bad = -1;
    for (int64_t r = 0; r < n_rows; ++r) {
      if (std::memcmp(mine.data() + r * row_bytes, t.data + r * row_bytes, row_bytes) != 0) {
        if (first_bad < 0) first_bad = r;
        ++bad_rows;
      }
    }
    EXPECT_EQ(bad_rows, 0) << "rows differing from llama-quantize's; first " << first_bad;

    // Decoding the file's blocks reproduces the F32 weights within the type's error.
    std::vector<float> decoded(static_cast<size_t>(t.n_elements()));
    for (cpu::SimdLevel level : test::available_levels()) {
      SCOPED_TRACE(cpu::simd_level_name(level));
      const auto& k = cpu::kernels(t.type, level);
      for (int64_t r = 0; r < n_rows; ++r)
        k.to_float(t.data + r * row_bytes, decoded.data() + r * n_per_row, n_per_row);
      double se = 0, ss = 0;
      for (size_t i = 0; i < decoded.size(); ++i) {
        se += (static_cast<double>(decoded[i]) - src[i]) * (static_cast<double>(decoded[i]) - src[i]);
        ss += static_cast<double>(src[i]) * src[i];
      }
      EXPECT_LT(std::sqrt(se / ss), rmse_bound(t.type));
      if (t.type == DType::Q8_0) {
        // Per value: half a step of the block's grid (amax / 127) plus fp16 scale rounding.
        for (size_t b = 0; b < decoded.size() / 32; ++b) {
          float amax = 0;
          for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(src[b * 32 + j]));
          for (int j = 0; j < 32; ++j)
            ASSERT_LE(std::fabs(decoded[b * 32 + j] - src[b * 32 + j]), amax / 127 * 0.5625f * 1.0001f);
        }
      }
    }
    ++checked;
  }
  EXPECT_EQ(checked, GetParam().expected_quantized);
}

INSTANTIATE_TEST_SUITE_P(Models, QuantGguf,
                         ::testing::Values(ModelCase{"tiny-llama-spm-q8_0.gguf", 15},
                                           ModelCase{"tiny-llama-spm-q4_0-pure.gguf", 15},
                                           ModelCase{"tiny-llama-spm-q4_k_m.gguf", 15}),
                         [](const auto& info) {
                           std::string s = info.param.file;
                           for (char& c : s)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return s;
                         });

}  // namespace
}  // namespace xnai
