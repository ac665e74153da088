// Private to compute/cpu: the rounding helpers the quantizers share. They must stay
// bit-exact with ggml, so they are written with plain float operations (no libm calls whose
// result could depend on the rounding mode or the build).
#pragma once
#include <cstdint>
#include <cstring>

namespace xnai::cpu::detail {

// Round half to even for |v| <= 2^22 - 1 (ggml's nearest_int: adding 1.5·2^23 leaves the
// rounded integer in the low mantissa bits).
inline int round_half_even(float v) {
  const float t = v + 12582912.0f;
  int32_t i;
  std::memcpy(&i, &t, sizeof i);
  return (i & 0x007fffff) - 0x00400000;
}

inline int8_t saturate_i8(int v) { return static_cast<int8_t>(v < -128 ? -128 : v > 127 ? 127 : v); }

}  // namespace xnai::cpu::detail
