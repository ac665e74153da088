// Light English text normalisation before G2P: spell out what espeak-ng (and Kokoro's
// training data) would otherwise read badly — numbers, years, ordinals, money, percentages,
// times, common abbreviations, URLs and e-mail addresses. Pure functions, thread-safe.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace xnai::speech {

// Normalises `text` for `language`. English ("en-us", "en-gb") gets the full treatment;
// other languages only have white space tidied (espeak-ng reads their numbers itself).
//   "Dr. Smith paid $3.50 on May 1st, 1990 (12.5%)."
//     → "Doctor Smith paid three dollars and fifty cents on May first, nineteen ninety
//        (twelve point five percent)."
std::string normalize_text(std::string_view text, std::string_view language = "en-us");

// American English number words without "and": 1234 → "one thousand two hundred
// thirty-four". Defined for |n| < 10^15.
std::string cardinal_words(int64_t n);
// 21 → "twenty-first", 100 → "one hundredth".
std::string ordinal_words(int64_t n);
// As a year is read: 1990 → "nineteen ninety", 1905 → "nineteen oh five", 1900 →
// "nineteen hundred", 2005 → "two thousand five", 2010 → "twenty ten". Other values: cardinal.
std::string year_words(int64_t year);

}  // namespace xnai::speech
