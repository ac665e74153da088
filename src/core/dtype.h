// Tensor element types, numbered exactly as ggml/GGUF number them, with their block
// geometry. Quantized types store `block_size` values in `type_size` bytes; the block
// layouts themselves are in core/quant_blocks.h.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace xnai {

enum class DType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
  IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22,
  IQ4_XS = 23, I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30,
  TQ1_0 = 34, TQ2_0 = 35,
};

struct DTypeInfo {
  const char* name;     // as llama.cpp prints it: "f32", "q4_K", …
  int64_t block_size;   // values per block (1 for plain types)
  size_t type_size;     // bytes per block
  bool computable;      // xnai has dequantize + dot kernels for it
};

// Info for a known type id, or nullopt for an id ggml does not define (e.g. 4, 5, 31-33).
std::optional<DTypeInfo> dtype_info(uint32_t id);
const DTypeInfo& info(DType t);  // t must be a known type
inline const char* dtype_name(DType t) { return info(t).name; }
std::optional<DType> dtype_from_name(std::string_view name);  // case-insensitive

// Bytes of one row of n values; n must be a multiple of the block size.
size_t row_size(DType t, int64_t n);

}  // namespace xnai
