#include <string>
#include <vector>

#include "text/tokenizer_models.h"
#include "text/unicode_props.h"
#include "text/unicode_utf8.h"
#include "text/vocab.h"

namespace xnai::text {
namespace {

// BERT's CJK ranges, as llama.cpp has them (the 0x2B920 start mirrors Hugging Face's code).
bool is_chinese_char(uint32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

// llama.cpp's BERT normalizer: each code point is replaced by the first code point of its
// canonical decomposition (so precomposed accents drop away), lowercased; whitespace separates
// words, control characters, NUL and U+FFFD vanish, and punctuation, ASCII symbols and CJK
// ideographs each become a word of their own.
std::vector<std::string> split_words(std::string_view text) {
  std::vector<uint32_t> cps;
  utf8_decode(text, cps);
  std::vector<std::string> words(1);
  for (uint32_t cp : cps) {
    cp = cp_nfd_first(cp);
    const CpFlags flags = cp_flags(cp);
    if (flags.is_whitespace()) {
      if (!words.back().empty()) words.emplace_back();
      continue;
    }
    if (cp == 0 || cp == kReplacementChar || flags.is_control()) continue;
    std::string s;
    utf8_append(cp_to_lower(cp), s);
    if (flags.is_punctuation() || (cp < 0x7F && flags.is_symbol()) || is_chinese_char(cp)) {
      if (!words.back().empty()) words.emplace_back();
      words.back() = std::move(s);
      words.emplace_back();
    } else {
      words.back() += s;
    }
  }
  if (words.back().empty()) words.pop_back();
  return words;
}

}  // namespace

void wpm_tokenize(const Vocab& vocab, std::string_view text, std::vector<int32_t>& out) {
  std::string word1;
  for (const std::string& word : split_words(text)) {
    if (word.empty()) continue;
    word1.assign("\xE2\x96\x81");  // word-initial pieces carry U+2581 in llama.cpp's BERT vocab
    word1 += word;
    const int n = int(word1.size());
    const size_t start = out.size();
    // Greedy longest match from left to right; one unmatched position discards the whole word.
    for (int i = 0; i < n; ++i) {
      bool matched = false;
      for (int j = std::min(n, i + vocab.max_token_len + 1); j > i; --j) {
        const int32_t id = vocab.find(std::string_view(word1).substr(size_t(i), size_t(j - i)));
        if (id >= 0) {
          out.push_back(id);
          matched = true;
          i = j - 1;
          break;
        }
      }
      if (!matched) {
        out.resize(start);
        break;
      }
    }
    if (out.size() == start && vocab.unk >= 0) out.push_back(vocab.unk);
  }
}

}  // namespace xnai::text
