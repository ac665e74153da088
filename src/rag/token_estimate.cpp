// approx_token_count: a tokenizer-free token estimate for when no embedding model is set.
#include <unicode/uchar.h>

#include <cstdint>

#include "rag/chunker.h"

namespace xnai::rag {
namespace {

// Decodes one code point (invalid bytes: 0xFFFD, one byte consumed).
uint32_t next_code_point(std::string_view s, size_t& i) {
  const auto b0 = static_cast<uint8_t>(s[i]);
  size_t n = b0 < 0x80 ? 1 : b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : b0 >= 0xC0 ? 2 : 0;
  if (n == 0 || i + n > s.size()) {
    ++i;
    return 0xFFFD;
  }
  uint32_t cp = n == 1 ? b0 : n == 2 ? (b0 & 0x1Fu) : n == 3 ? (b0 & 0x0Fu) : (b0 & 0x07u);
  for (size_t k = 1; k < n; ++k) {
    const auto b = static_cast<uint8_t>(s[i + k]);
    if ((b & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (b & 0x3Fu);
  }
  i += n;
  return cp;
}

bool is_cjk(uint32_t cp) {
  return (cp >= 0x3040 && cp <= 0x30FF) ||  // hiragana, katakana
         (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
         (cp >= 0x20000 && cp <= 0x3FFFF);
}

}  // namespace

int approx_token_count(std::string_view text) {
  int64_t symbols = 0;     // punctuation, symbols, ideographs: one token each
  int64_t word_units = 0;  // one per word of up to 10 characters, one more per further 10
  int64_t word_len = 0;
  auto end_word = [&] {
    if (word_len > 0) word_units += (word_len + 9) / 10;
    word_len = 0;
  };
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<uint8_t>(text[i]);
    if (c < 0x80) {  // ASCII fast path
      ++i;
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_') {
        ++word_len;
      } else {
        end_word();
        if (c > 0x20 && c < 0x7F) ++symbols;
      }
      continue;
    }
    const uint32_t cp = next_code_point(text, i);
    if (is_cjk(cp)) {
      end_word();
      ++symbols;
    } else if (u_isalnum(static_cast<UChar32>(cp)) || u_getCombiningClass(static_cast<UChar32>(cp)) != 0 ||
               u_charType(static_cast<UChar32>(cp)) == U_NON_SPACING_MARK ||
               u_charType(static_cast<UChar32>(cp)) == U_COMBINING_SPACING_MARK) {
      ++word_len;
    } else {
      end_word();
      if (!u_isUWhiteSpace(static_cast<UChar32>(cp))) ++symbols;
    }
  }
  end_word();
  const int64_t total = symbols + (word_units * 13 + 9) / 10;
  return total > INT32_MAX ? INT32_MAX : static_cast<int>(total);
}

}  // namespace xnai::rag
