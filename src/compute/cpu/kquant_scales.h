// Private to compute/cpu: unpacking of the 6-bit sub-block scales of the K-quants, shared by
// the portable and SIMD kernels and the quantizers.
#pragma once
#include <cstdint>
#include <cstring>

namespace xnai::cpu::detail {

// Q4_K / Q5_K: 8 (scale, min) pairs of 6 bits in 12 bytes. Pairs 0-3 are the low 6 bits of
// bytes 0-3 (scales) and 4-7 (mins); pairs 4-7 keep their low 4 bits in bytes 8-11 and their
// top 2 bits in the spare top bits of bytes 0-7.
inline void k4_scale_min(int j, const uint8_t* q, uint8_t& sc, uint8_t& m) {
  if (j < 4) {
    sc = q[j] & 63;
    m = q[j + 4] & 63;
  } else {
    sc = static_cast<uint8_t>((q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4));
    m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

// All 8 Q4_K / Q5_K pairs at once: out[0..7] = scales, out[8..15] = mins (same values as
// k4_scale_min, computed four at a time in 32-bit words).
inline void k4_unpack_scales(const uint8_t* q, uint8_t out[16]) {
  uint32_t w[3];
  std::memcpy(w, q, 12);
  const uint32_t low6 = 0x3f3f3f3f, low4 = 0x0f0f0f0f, low2 = 0x03030303;
  const uint32_t sc_lo = w[0] & low6;                                        // scales 0-3
  const uint32_t sc_hi = (w[2] & low4) | (((w[0] >> 6) & low2) << 4);        // scales 4-7
  const uint32_t m_lo = w[1] & low6;                                         // mins 0-3
  const uint32_t m_hi = ((w[2] >> 4) & low4) | (((w[1] >> 6) & low2) << 4);  // mins 4-7
  const uint32_t o[4] = {sc_lo, sc_hi, m_lo, m_hi};
  std::memcpy(out, o, 16);
}

// Q3_K: 16 scales of 6 bits (biased by 32) in 12 bytes. Low 4 bits: bytes 0-7, low nibble
// for scales 0-7 and high nibble for 8-15; top 2 bits: bytes 8-11, scale j in byte 8 + j%4 at
// bit 2·(j/4). Writes the unbiased-by-nothing values 0..63.
inline void q3_K_unpack_scales(const uint8_t* s, int8_t out[16]) {
  for (int j = 0; j < 16; ++j) {
    const int lo = j < 8 ? (s[j] & 0x0F) : (s[j - 8] >> 4);
    const int hi = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
    out[j] = static_cast<int8_t>(lo | (hi << 4));
  }
}

}  // namespace xnai::cpu::detail
