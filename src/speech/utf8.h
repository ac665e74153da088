// Minimal UTF-8 helpers for speech/ (phoneme strings are counted and mapped per code point).
// Private to speech/. Invalid bytes decode to U+FFFD and consume one byte.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace xnai::speech::detail {

char32_t utf8_next(std::string_view s, size_t& pos);
void utf8_append(char32_t cp, std::string& out);
size_t utf8_length(std::string_view s);  // number of code points

}  // namespace xnai::speech::detail
