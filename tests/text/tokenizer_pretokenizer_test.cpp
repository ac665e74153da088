// The hand-written pre-tokenizer matchers against the mechanism llama.cpp itself uses for the
// same pre-tokenizers: std::regex (ECMAScript) over the "category-collapsed" text, where every
// non-ASCII code point stands as one byte for its class (U+000B for whitespace), and std::wregex
// for patterns without \p{..}. The regex strings are llama.cpp's. Random strings drawn from a
// pool of awkward characters must split identically.
#include <gtest/gtest.h>

#include <random>
#include <regex>

#include "text/pre_tokenizer.h"
#include "text/unicode_props.h"
#include "text/unicode_utf8.h"
#include "tokenizer_test_data.h"

namespace xnai::test {
namespace {

using text::CpFlags;

// Category-collapsed form of the code points (one char each).
std::string collapse(const std::vector<uint32_t>& cps) {
  std::string out(cps.size(), '\0');
  for (size_t i = 0; i < cps.size(); ++i) {
    const uint32_t cp = cps[i];
    if (cp < 128) {
      out[i] = char(cp);
      continue;
    }
    const CpFlags f = text::cp_flags(cp);
    const uint16_t cat = f.bits & CpFlags::kCategoryMask;
    if (f.is_whitespace())
      out[i] = '\x0B';
    else if (cat == CpFlags::kNumber)
      out[i] = char(0xD1);
    else if (cat == CpFlags::kLetter)
      out[i] = char(0xD2);
    else if (cat == CpFlags::kPunctuation)
      out[i] = char(0xD3);
    else
      out[i] = char(0xD0);
  }
  return out;
}

// The regex with \p{N}, \p{L}, \p{P} replaced by the collapsed byte plus the ASCII members.
std::string collapse_regex(const std::string& re) {
  const std::pair<const char*, std::string> classes[] = {
      {"\\p{N}", std::string("\xD1") + "0-9"},
      {"\\p{L}", std::string("\xD2") + "A-Za-z"},
      {"\\p{P}", std::string("\xD3") + "!-#%-*,-/:-;?-@\\[-\\]_\\{\\}"},
  };
  std::string out;
  bool inside = false;
  for (size_t i = 0; i < re.size(); ++i) {
    if (re[i] == '[' && (i == 0 || re[i - 1] != '\\')) inside = true;
    if (inside && re[i] == ']' && re[i - 1] != '\\') inside = false;
    bool replaced = false;
    for (const auto& [pat, members] : classes) {
      if (re.compare(i, 5, pat) == 0) {
        if (!inside) out.push_back('[');
        out += members;
        if (!inside) out.push_back(']');
        i += 4;
        replaced = true;
        break;
      }
    }
    if (!replaced) out.push_back(re[i]);
  }
  return out;
}

template <class CharT>
std::vector<size_t> regex_split(const std::basic_string<CharT>& s, const std::basic_regex<CharT>& re,
                                const std::vector<size_t>& in) {
  std::vector<size_t> out;
  size_t start = 0;
  for (size_t len : in) {
    std::regex_iterator<const CharT*> it(s.data() + start, s.data() + start + len, re), end;
    size_t prev = 0;
    for (; it != end; ++it) {
      const size_t pos = size_t(it->position()), n = size_t(it->length());
      if (pos > prev) out.push_back(pos - prev);
      out.push_back(n);
      prev = pos + n;
    }
    if (prev < len) out.push_back(len - prev);
    start += len;
  }
  return out;
}

// One stage of llama.cpp's unicode_regex_split: a std::regex over the collapsed text when the
// pattern uses \p{..}, else a std::wregex over the code points.
struct Stage {
  bool collapsed;
  std::regex re;
  std::wregex wre;
};

std::vector<Stage> compile(const std::vector<std::string>& regexes) {
  std::vector<Stage> stages;
  for (const auto& re : regexes) {
    if (re.find("\\p{") != std::string::npos) {
      stages.push_back({true, std::regex(collapse_regex(re)), {}});
    } else {
      std::vector<uint32_t> re_cps;
      text::utf8_decode(re, re_cps);
      stages.push_back({false, {}, std::wregex(std::wstring(re_cps.begin(), re_cps.end()))});
    }
  }
  return stages;
}

// llama.cpp's unicode_regex_split through std::regex only, words re-encoded to bytes.
std::vector<std::string> reference_split(const std::string& utf8, const std::vector<Stage>& stages) {
  std::vector<uint32_t> cps;
  text::utf8_decode(utf8, cps);
  const std::string collapsed = collapse(cps);
  std::wstring wtext(cps.begin(), cps.end());
  for (auto& c : wtext)
    if (c > 0x7F && text::cp_flags(uint32_t(c)).is_whitespace()) c = 0x0B;
  std::vector<size_t> segs;
  if (!cps.empty()) segs.push_back(cps.size());
  for (const Stage& st : stages)
    segs = st.collapsed ? regex_split(collapsed, st.re, segs) : regex_split(wtext, st.wre, segs);
  std::vector<std::string> words;
  size_t start = 0;
  for (size_t len : segs) {
    std::string utf, word;
    for (size_t i = start; i < start + len; ++i) text::utf8_append(cps[i], utf);
    for (char c : utf) word += text::byte_to_unicode_utf8(uint8_t(c));
    words.push_back(word);
    start += len;
  }
  return words;
}

const char* const kLlama3Regex =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const char* const kQwen2Regex =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

std::string random_text(std::mt19937& rng) {
  static const char* const pool[] = {
      "a",
      "b",
      "Z",
      "q",
      "0",
      "7",
      "3",
      " ",
      " ",
      " ",
      "  ",
      "\t",
      "\n",
      "\r",
      "\r\n",
      "'",
      "'s",
      "'S",
      "'re",
      "'Ll",
      "'d",
      ",",
      ".",
      "!",
      "?",
      "-",
      "_",
      "(",
      ")",
      "[",
      "]",
      "{",
      "}",
      "$",
      "+",
      "<",
      "=",
      ">",
      "^",
      "~",
      "|",
      "`",
      "@",
      "#",
      "%",
      "&",
      "*",
      "/",
      ":",
      ";",
      "\"",
      "\\",
      "\x01",
      "\x7F",
      "\xC3\xA9",          // é
      "\xC3\xBC",          // ü
      "\xC2\xA0",          // NBSP (whitespace)
      "\xE3\x80\x80",      // U+3000 ideographic space
      "\xE2\x80\x94",      // — (Pd)
      "\xE3\x80\x82",      // 。 (Po)
      "\xE2\x82\xAC",      // € (Sc)
      "\xCC\x81",          // combining acute (Mn)
      "\xD9\xA3",          // Arabic-Indic three (Nd)
      "\xE2\x85\xA7",      // Roman numeral eight (Nl)
      "\xE6\x9D\xB1",      // 東
      "\xE4\xBA\xAC",      // 京
      "\xEA\xB0\x80",      // 가
      "\xE0\xA0\x80",      // U+0800 (first of deepseek's range)
      "\xE1\x9E\x80",      // Khmer letter
      "\xF0\x9F\x8D\xA3",  // 🍣
      "\xE2\x80\x8D",      // ZWJ (Cf)
      "\xEF\xBF\xBD",      // U+FFFD
      "\xF0\x90\x8C\x80",  // Old Italic letter (supplementary)
      "\xE2\x80\xA8",      // line separator (whitespace)
  };
  std::uniform_int_distribution<int> len_dist(0, 24);
  std::uniform_int_distribution<size_t> pick(0, std::size(pool) - 1);
  std::string s;
  for (int n = len_dist(rng); n > 0; --n) s += pool[pick(rng)];
  return s;
}

struct SplitCase {
  const char* name;
  text::PreType type;
  std::vector<std::string> regexes;
};

class PreTokenizerDifferential : public ::testing::TestWithParam<SplitCase> {};

TEST_P(PreTokenizerDifferential, MatchesStdRegexOnCollapsedText) {
  const SplitCase& c = GetParam();
  const auto stages = compile(c.regexes);
  std::mt19937 rng(1234);
  size_t failed = 0;
  for (int iter = 0; iter < 2000 && failed < 10; ++iter) {
    const std::string s = random_text(rng);
    std::vector<std::string> ours;
    text::pre_tokenize(c.type, s, ours);
    const auto ref = reference_split(s, stages);
    if (ours != ref) {
      ++failed;
      std::string a, b;
      for (const auto& w : ours) a.append("[").append(escape(w)).append("]");
      for (const auto& w : ref) b.append("[").append(escape(w)).append("]");
      ADD_FAILURE() << c.name << " \"" << escape(s) << "\"\n  ours:  " << a << "\n  regex: " << b;
    }
  }
  EXPECT_EQ(failed, 0u);
}

INSTANTIATE_TEST_SUITE_P(
    LlamaCppRegexes, PreTokenizerDifferential,
    ::testing::Values(SplitCase{"qwen2", text::PreType::Qwen2, {kQwen2Regex}},
                      SplitCase{"llama3", text::PreType::Llama3, {kLlama3Regex}},
                      SplitCase{
                          "deepseek_coder",
                          text::PreType::DeepseekCoder,
                          {"[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+",
                           "[\xE4\xB8\x80-\xE9\xBE\xA5\xE0\xA0\x80-\xE4\xB8\x80\xEA\xB0\x80-\xED\x9F\xBF]+",
                           "\\p{N}"}}),
    [](const ::testing::TestParamInfo<SplitCase>& info) { return std::string(info.param.name); });

// The default pre-tokenizer mixes regex stages with llama.cpp's custom GPT-2 splitter; check the
// regex stages around a fixed example.
TEST(PreTokenizer, DefaultStages) {
  std::vector<std::string> words;
  text::pre_tokenize(text::PreType::Default, "a+=b 12345 x", words);
  // "[\p{P}\$\+<=>\^~\|]+" cuts "+=", GPT-2 splits words, "\p{N}+" and "[0-9][0-9][0-9]" cut the
  // digit run into 123|45.
  const std::vector<std::string> expected = {"a", "+=", "b", "\xC4\xA0", "123", "45", "\xC4\xA0x"};
  EXPECT_EQ(words, expected);
}

}  // namespace
}  // namespace xnai::test
