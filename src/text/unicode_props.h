// Code-point properties as llama.cpp's tokenizers see them (its generated tables, Unicode 15.1):
// the general category folded into one class, White_Space, simple lowercase mapping, and the
// first code point of the canonical decomposition. Backed by ICU; characters ICU knows but
// Unicode 15.1 did not are reported as unassigned, and the 15.1 additions missing from older
// ICU (CJK Extension I, U+2FFC..2FFF, U+31EF) are patched in. Private to text/.
#pragma once
#include <cstdint>

namespace xnai::text {

struct CpFlags {
  enum : uint16_t {
    kUndefined = 0x0001,    // Cn, or not a code point at all (above 0x10FFFF)
    kNumber = 0x0002,       // N*
    kLetter = 0x0004,       // L*
    kSeparator = 0x0008,    // Z*
    kAccentMark = 0x0010,   // M*
    kPunctuation = 0x0020,  // P*
    kSymbol = 0x0040,       // S*
    kControl = 0x0080,      // Cc Cf Co Cs
    kCategoryMask = 0x00FF,
    kWhitespace = 0x0100,  // White_Space
  };
  uint16_t bits = 0;  // 0 means "no character" (llama.cpp's flags for a position outside the text)

  bool any() const { return bits != 0; }
  bool is_number() const { return bits & kNumber; }
  bool is_letter() const { return bits & kLetter; }
  bool is_punctuation() const { return bits & kPunctuation; }
  bool is_symbol() const { return bits & kSymbol; }
  bool is_control() const { return bits & kControl; }
  bool is_accent_mark() const { return bits & kAccentMark; }
  bool is_whitespace() const { return bits & kWhitespace; }
};

CpFlags cp_flags(uint32_t cp);
// Simple lowercase mapping (UnicodeData field 13); cp itself when there is none.
uint32_t cp_to_lower(uint32_t cp);
// First code point of the full canonical decomposition (Hangul syllables included), or cp itself.
// This is llama.cpp's unicode_cpts_normalize_nfd, which keeps only that first code point.
uint32_t cp_nfd_first(uint32_t cp);

}  // namespace xnai::text
