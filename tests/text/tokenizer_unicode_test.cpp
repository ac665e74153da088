// Code-point properties against entries of llama.cpp's generated unicode-data tables (Unicode
// 15.1): category flags (undefined 0x01, number 0x02, letter 0x04, separator 0x08, mark 0x10,
// punctuation 0x20, symbol 0x40, control 0x80), White_Space, and the first code point of the
// canonical decomposition. ICU supplies the data; these pin the mapping and the version patch.
#include <gtest/gtest.h>

#include "text/unicode_props.h"
#include "text/unicode_utf8.h"

namespace xnai::text {
namespace {

TEST(TokenizerUnicode, CategoriesMatchLlamaCppTable) {
  // {first code point of a range in llama.cpp's unicode_ranges_flags, its flags}
  const std::pair<uint32_t, uint16_t> ranges[] = {
      {0x000000, 0x80}, {0x000020, 0x08}, {0x000021, 0x20}, {0x000024, 0x40}, {0x00002B, 0x40},
      {0x000030, 0x02}, {0x000041, 0x04}, {0x00005F, 0x20}, {0x000060, 0x40}, {0x00007E, 0x40},
      {0x00007F, 0x80}, {0x0000A0, 0x08}, {0x0000AA, 0x04}, {0x0000AD, 0x80}, {0x0000B2, 0x02},
      {0x0000B5, 0x04}, {0x0002C2, 0x40}, {0x000300, 0x10}, {0x000378, 0x01}, {0x00037E, 0x20},
      {0x000600, 0x80}, {0x000888, 0x40}, {0x000890, 0x80}, {0x000CF3, 0x10}, {0x001680, 0x08},
      {0x00180E, 0x80}, {0x001C89, 0x01},  // assigned only in Unicode 16: still undefined here
      {0x013430, 0x80}, {0x01F6DC, 0x40}, {0x01FA89, 0x01}, {0x01FABF, 0x40}, {0x020000, 0x04},
      {0x02A6E0, 0x01}, {0x02EBF0, 0x04},  // CJK Extension I, new in 15.1 (absent from ICU 72)
      {0x02EE5E, 0x01}, {0x031350, 0x04}, {0x0323B0, 0x01}, {0x0E0001, 0x80}, {0x0E0100, 0x10},
      {0x0F0000, 0x80}, {0x0FFFFE, 0x01}, {0x100000, 0x80}, {0x10FFFE, 0x01},
  };
  for (const auto& [cp, flags] : ranges) {
    EXPECT_EQ(cp_flags(cp).bits & CpFlags::kCategoryMask, flags) << std::hex << "U+" << cp;
  }
  EXPECT_EQ(cp_flags(0x2FFC).bits & CpFlags::kCategoryMask, CpFlags::kSymbol);  // 15.1 addition
  EXPECT_EQ(cp_flags(0x31EF).bits & CpFlags::kCategoryMask, CpFlags::kSymbol);  // 15.1 addition
  EXPECT_EQ(cp_flags(0x110000).bits, CpFlags::kUndefined);
  EXPECT_EQ(cp_flags(kReplacementChar).bits & CpFlags::kCategoryMask, CpFlags::kSymbol);
}

TEST(TokenizerUnicode, WhiteSpaceSet) {
  // llama.cpp's unicode_set_whitespace: exactly these 25 code points.
  const uint32_t ws[] = {0x09,   0x0A,   0x0B,   0x0C,   0x0D,   0x20,   0x85,   0xA0,   0x1680,
                         0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008,
                         0x2009, 0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000};
  size_t count = 0;
  for (uint32_t cp = 0; cp < 0x110000; ++cp) {
    if (cp_flags(cp).is_whitespace()) {
      ++count;
      EXPECT_NE(std::find(std::begin(ws), std::end(ws), cp), std::end(ws)) << std::hex << "U+" << cp;
    }
  }
  EXPECT_EQ(count, std::size(ws));
  EXPECT_FALSE(cp_flags(0x200B).is_whitespace());
  EXPECT_FALSE(cp_flags(0x180E).is_whitespace());
  EXPECT_FALSE(cp_flags(0x1C).is_whitespace());
}

TEST(TokenizerUnicode, FirstCodePointOfDecomposition) {
  // Entries of llama.cpp's unicode_ranges_nfd.
  const std::pair<uint32_t, uint32_t> nfd[] = {
      {0x00C0, 0x0041}, {0x00C5, 0x0041}, {0x00E7, 0x0063}, {0x0130, 0x0049},   {0x01E2, 0x00C6},
      {0x212B, 0x0041}, {0x2329, 0x3008}, {0x304C, 0x304B}, {0xAC00, 0x1100},   {0xAE4C, 0x1101},
      {0xD7A3, 0x1112}, {0xF900, 0x8C48}, {0xFB2E, 0x05D0}, {0x1D15F, 0x1D158}, {0x2F800, 0x4E3D},
  };
  for (const auto& [cp, first] : nfd) EXPECT_EQ(cp_nfd_first(cp), first) << std::hex << "U+" << cp;
  for (uint32_t cp : {0x41u, 0xE6u, 0x4E00u, 0x1100u, 0x1F363u}) EXPECT_EQ(cp_nfd_first(cp), cp);
}

TEST(TokenizerUnicode, LowercaseAndByteAlphabet) {
  EXPECT_EQ(cp_to_lower('A'), uint32_t('a'));
  EXPECT_EQ(cp_to_lower(0xC4), 0xE4u);
  EXPECT_EQ(cp_to_lower(0x130), uint32_t('i'));
  EXPECT_EQ(cp_to_lower(0x212A), uint32_t('k'));
  EXPECT_EQ(cp_to_lower(0x41F), 0x43Fu);  // П → п
  // GPT-2's bytes_to_unicode: ' ' → U+0120 'Ġ', '\n' → U+010A 'Ċ', printable bytes unchanged.
  EXPECT_EQ(byte_to_unicode(' '), 0x120u);
  EXPECT_EQ(byte_to_unicode('\n'), 0x10Au);
  EXPECT_EQ(byte_to_unicode('a'), uint32_t('a'));
  EXPECT_EQ(byte_to_unicode(0xAD), 0x143u);
  for (int b = 0; b < 256; ++b) EXPECT_EQ(unicode_to_byte(byte_to_unicode(uint8_t(b))), b);
  EXPECT_EQ(unicode_to_byte(0x20), -1);
  EXPECT_EQ(unicode_to_byte(0x1F363), -1);
}

TEST(TokenizerUnicode, LenientUtf8LikeLlamaCpp) {
  std::vector<uint32_t> cps;
  utf8_decode(std::string("a\xC3\xA9\xC0\x80\xED\xA0\x80\xFF\x80\xE6\x9D", 12), cps);
  // overlong C0 80 → U+0000 and the surrogate ED A0 80 → U+D800 are accepted; FF, a lone
  // continuation byte and a truncated sequence give U+FFFD per byte.
  const std::vector<uint32_t> expected = {'a', 0xE9, 0x0, 0xD800, 0xFFFD, 0xFFFD, 0xFFFD, 0xFFFD};
  EXPECT_EQ(cps, expected);
}

}  // namespace
}  // namespace xnai::text
