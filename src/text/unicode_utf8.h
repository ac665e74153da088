// UTF-8 and the GPT-2 byte alphabet, with exactly the leniency of llama.cpp's unicode.cpp:
// overlong forms and surrogates decode like any other code point, and a byte that cannot start
// a well-formed sequence decodes to U+FFFD and consumes one byte. Private to text/.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace xnai::text {

inline constexpr uint32_t kReplacementChar = 0xFFFD;

// Length of the sequence a lead byte announces, from its high nibble (1 for continuation bytes).
inline size_t utf8_seq_len(uint8_t lead) {
  static constexpr uint8_t kLen[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLen[lead >> 4];
}

// Decodes the code point at `pos` and advances `pos` past it (one byte for invalid input, which
// yields U+FFFD). Precondition: pos < s.size(). A 4-byte form may yield a value above 0x10FFFF.
uint32_t utf8_next(std::string_view s, size_t& pos);

// Appends all code points of `s` to `out`.
void utf8_decode(std::string_view s, std::vector<uint32_t>& out);

// Appends the UTF-8 form of `cp`; a value above 0x10FFFF is written as U+FFFD.
void utf8_append(uint32_t cp, std::string& out);

// GPT-2's bytes_to_unicode: printable bytes map to themselves, the others to U+0100 upwards.
uint32_t byte_to_unicode(uint8_t b);
// The UTF-8 text of byte_to_unicode(b) (1 or 2 bytes).
const std::string& byte_to_unicode_utf8(uint8_t b);
// The inverse: the byte a code point of the alphabet stands for, or -1.
int unicode_to_byte(uint32_t cp);

}  // namespace xnai::text
