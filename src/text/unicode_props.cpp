#include "text/unicode_props.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <array>

namespace xnai::text {
namespace {

bool is_white_space(uint32_t cp) {
  switch (cp) {
    case 0x09:
    case 0x0A:
    case 0x0B:
    case 0x0C:
    case 0x0D:
    case 0x20:
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

// Characters added in Unicode 15.1, which ICU before 74 does not know.
uint16_t unicode_15_1_addition(uint32_t cp) {
  if (cp >= 0x2EBF0 && cp <= 0x2EE5D) return CpFlags::kLetter;                  // CJK Extension I (Lo)
  if ((cp >= 0x2FFC && cp <= 0x2FFF) || cp == 0x31EF) return CpFlags::kSymbol;  // So
  return 0;
}

bool newer_than_15_1(UChar32 c) {
  UVersionInfo age;
  u_charAge(c, age);
  return age[0] > 15 || (age[0] == 15 && age[1] > 1);
}

uint16_t category_flags(uint32_t cp) {
  if (cp > 0x10FFFF) return CpFlags::kUndefined;
  const UChar32 c = static_cast<UChar32>(cp);
  if (newer_than_15_1(c)) return CpFlags::kUndefined;
  switch (u_charType(c)) {
    case U_UNASSIGNED: {
      const uint16_t patched = unicode_15_1_addition(cp);
      return patched ? patched : uint16_t(CpFlags::kUndefined);
    }
    case U_UPPERCASE_LETTER:
    case U_LOWERCASE_LETTER:
    case U_TITLECASE_LETTER:
    case U_MODIFIER_LETTER:
    case U_OTHER_LETTER:
      return CpFlags::kLetter;
    case U_NON_SPACING_MARK:
    case U_ENCLOSING_MARK:
    case U_COMBINING_SPACING_MARK:
      return CpFlags::kAccentMark;
    case U_DECIMAL_DIGIT_NUMBER:
    case U_LETTER_NUMBER:
    case U_OTHER_NUMBER:
      return CpFlags::kNumber;
    case U_SPACE_SEPARATOR:
    case U_LINE_SEPARATOR:
    case U_PARAGRAPH_SEPARATOR:
      return CpFlags::kSeparator;
    case U_CONTROL_CHAR:
    case U_FORMAT_CHAR:
    case U_PRIVATE_USE_CHAR:
    case U_SURROGATE:
      return CpFlags::kControl;
    case U_DASH_PUNCTUATION:
    case U_START_PUNCTUATION:
    case U_END_PUNCTUATION:
    case U_CONNECTOR_PUNCTUATION:
    case U_OTHER_PUNCTUATION:
    case U_INITIAL_PUNCTUATION:
    case U_FINAL_PUNCTUATION:
      return CpFlags::kPunctuation;
    case U_MATH_SYMBOL:
    case U_CURRENCY_SYMBOL:
    case U_MODIFIER_SYMBOL:
    case U_OTHER_SYMBOL:
      return CpFlags::kSymbol;
    default:
      return CpFlags::kUndefined;
  }
}

uint16_t compute_flags(uint32_t cp) {
  return category_flags(cp) | (is_white_space(cp) ? uint16_t(CpFlags::kWhitespace) : uint16_t(0));
}

// Latin-1 is hot (ASCII text, byte-level BPE alphabets): answer it from a table.
const std::array<uint16_t, 256>& latin1_flags() {
  static const std::array<uint16_t, 256> table = [] {
    std::array<uint16_t, 256> t{};
    for (uint32_t cp = 0; cp < 256; ++cp) t[cp] = compute_flags(cp);
    return t;
  }();
  return table;
}

}  // namespace

CpFlags cp_flags(uint32_t cp) {
  if (cp < 256) return CpFlags{latin1_flags()[cp]};
  return CpFlags{compute_flags(cp)};
}

uint32_t cp_to_lower(uint32_t cp) {
  if (cp > 0x10FFFF) return cp;
  return static_cast<uint32_t>(u_tolower(static_cast<UChar32>(cp)));
}

uint32_t cp_nfd_first(uint32_t cp) {
  if (cp < 0xC0 || cp > 0x10FFFF) return cp;  // nothing below U+00C0 decomposes
  UErrorCode status = U_ZERO_ERROR;
  static const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(status);
  if (nfd == nullptr) return cp;
  icu::UnicodeString decomposition;
  if (!nfd->getDecomposition(static_cast<UChar32>(cp), decomposition) || decomposition.isEmpty()) return cp;
  return static_cast<uint32_t>(decomposition.char32At(0));
}

}  // namespace xnai::text
