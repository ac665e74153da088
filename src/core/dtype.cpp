#include "core/dtype.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "core/error.h"

namespace xnai {
namespace {

struct Entry {
  uint32_t id;
  DTypeInfo info;
};

// Sizes follow ggml's block structs (see docs/quant-formats.md).
constexpr std::array<Entry, 31> kTypes = {{
    {0, {"f32", 1, 4, true}},        {1, {"f16", 1, 2, true}},
    {2, {"q4_0", 32, 18, true}},     {3, {"q4_1", 32, 20, true}},
    {6, {"q5_0", 32, 22, true}},     {7, {"q5_1", 32, 24, true}},
    {8, {"q8_0", 32, 34, true}},     {9, {"q8_1", 32, 36, false}},
    {10, {"q2_K", 256, 84, true}},   {11, {"q3_K", 256, 110, true}},
    {12, {"q4_K", 256, 144, true}},  {13, {"q5_K", 256, 176, true}},
    {14, {"q6_K", 256, 210, true}},  {15, {"q8_K", 256, 292, false}},
    {16, {"iq2_xxs", 256, 66, false}}, {17, {"iq2_xs", 256, 74, false}},
    {18, {"iq3_xxs", 256, 98, false}}, {19, {"iq1_s", 256, 50, false}},
    {20, {"iq4_nl", 32, 18, false}}, {21, {"iq3_s", 256, 110, false}},
    {22, {"iq2_s", 256, 82, false}}, {23, {"iq4_xs", 256, 136, false}},
    {24, {"i8", 1, 1, false}},       {25, {"i16", 1, 2, false}},
    {26, {"i32", 1, 4, false}},      {27, {"i64", 1, 8, false}},
    {28, {"f64", 1, 8, false}},      {29, {"iq1_m", 256, 56, false}},
    {30, {"bf16", 1, 2, true}},      {34, {"tq1_0", 256, 54, false}},
    {35, {"tq2_0", 256, 66, false}},
}};

}  // namespace

std::optional<DTypeInfo> dtype_info(uint32_t id) {
  for (const auto& e : kTypes)
    if (e.id == id) return e.info;
  return std::nullopt;
}

const DTypeInfo& info(DType t) {
  for (const auto& e : kTypes)
    if (e.id == static_cast<uint32_t>(t)) return e.info;
  throw Error(ErrorKind::Internal, "unknown tensor type id " + std::to_string(static_cast<uint32_t>(t)));
}

std::optional<DType> dtype_from_name(std::string_view name) {
  auto lower = [](std::string_view s) {
    std::string r(s);
    std::transform(r.begin(), r.end(), r.begin(), [](unsigned char c) { return std::tolower(c); });
    return r;
  };
  const std::string want = lower(name);
  for (const auto& e : kTypes)
    if (lower(e.info.name) == want) return static_cast<DType>(e.id);
  return std::nullopt;
}

size_t row_size(DType t, int64_t n) {
  const auto& i = info(t);
  if (n % i.block_size != 0)
    throw Error(ErrorKind::InvalidArgument, std::string("row of ") + std::to_string(n) +
                                                " values is not a multiple of the " + i.name +
                                                " block size " + std::to_string(i.block_size));
  return static_cast<size_t>(n / i.block_size) * i.type_size;
}

}  // namespace xnai
