#include "text/pre_tokenizer.h"

#include <array>
#include <cstdint>

#include "text/unicode_props.h"
#include "text/unicode_utf8.h"

namespace xnai::text {
namespace {

// The text as code points with their flags. Splitting works on segment lengths (in code
// points), as llama.cpp's unicode_regex_split does: every stage splits each segment of the
// previous stage further and never joins across segment borders.
struct Text {
  std::vector<uint32_t> cps;
  std::vector<uint16_t> flags;

  // Flags of position i inside [.., end); 0 ("no character") outside, like llama.cpp's _get_flags.
  CpFlags at(size_t i, size_t end) const { return CpFlags{i < end ? flags[i] : uint16_t(0)}; }
  bool letter(size_t i) const { return flags[i] & CpFlags::kLetter; }
  bool number(size_t i) const { return flags[i] & CpFlags::kNumber; }
  bool punct(size_t i) const { return flags[i] & CpFlags::kPunctuation; }
  bool space(size_t i) const { return flags[i] & CpFlags::kWhitespace; }
};

using Segments = std::vector<size_t>;

inline bool is_cr_or_lf(uint32_t cp) { return cp == '\r' || cp == '\n'; }

// std::regex_iterator over each segment of a pattern that never matches empty: the leftmost
// match is taken, the text between matches becomes a segment of its own. `match(s, end)` is the
// pattern anchored at s (0 = no match).
template <class Match>
void split_by_search(const Segments& in, Segments& out, Match match) {
  size_t start = 0;
  for (size_t len : in) {
    const size_t end = start + len;
    size_t prev = start;
    for (size_t s = start; s < end;) {
      const size_t m = match(s, end);
      if (m == 0) {
        ++s;
        continue;
      }
      if (s > prev) out.push_back(s - prev);
      out.push_back(m);
      s += m;
      prev = s;
    }
    if (end > prev) out.push_back(end - prev);
    start = end;
  }
}

// Length of the run from s on where pred holds.
template <class Pred>
size_t run(size_t s, size_t end, Pred pred) {
  size_t e = s;
  while (e < end && pred(e)) ++e;
  return e - s;
}

// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)  (llama.cpp's custom
// GPT-2 splitter, which also takes a lone whitespace run as one word).
void split_gpt2(const Text& t, const Segments& in, Segments& out) {
  size_t start = 0;
  for (size_t len : in) {
    const size_t end = start + len;
    const auto cp_at = [&](size_t i) -> uint32_t { return i < end ? t.cps[i] : 0xFFFFFFFFu; };
    size_t prev = start;
    const auto add = [&](size_t e) {
      if (e > prev) out.push_back(e - prev);
      prev = e;
    };
    for (size_t pos = start; pos < end;) {
      const uint32_t cpt = t.cps[pos];
      const CpFlags flags = t.at(pos, end);
      if (cpt == '\'' && pos + 1 < end) {
        const uint32_t n1 = t.cps[pos + 1];
        if (n1 == 's' || n1 == 't' || n1 == 'm' || n1 == 'd') {
          add(pos += 2);
          continue;
        }
        if (pos + 2 < end) {
          const uint32_t n2 = t.cps[pos + 2];
          if ((n1 == 'r' && n2 == 'e') || (n1 == 'v' && n2 == 'e') || (n1 == 'l' && n2 == 'l')) {
            add(pos += 3);
            continue;
          }
        }
      }
      CpFlags f2 = cpt == ' ' ? t.at(pos + 1, end) : flags;
      if (f2.is_letter()) {
        pos += (cpt == ' ');
        while (t.at(pos, end).is_letter()) ++pos;
        add(pos);
        continue;
      }
      if (f2.is_number()) {
        pos += (cpt == ' ');
        while (t.at(pos, end).is_number()) ++pos;
        add(pos);
        continue;
      }
      const auto other = [](CpFlags f) {
        return !(f.is_whitespace() || f.is_letter() || f.is_number()) && f.any();
      };
      if (other(f2)) {
        pos += (cpt == ' ');
        while (other(t.at(pos, end))) ++pos;
        add(pos);
        continue;
      }
      size_t n_ws = 0;
      while (t.at(pos + n_ws, end).is_whitespace()) ++n_ws;
      if (n_ws > 1 && cp_at(pos + n_ws) != 0xFFFFFFFFu) {  // \s+(?!\S): leave the last one
        add(pos += n_ws - 1);
        continue;
      }
      if (n_ws > 0) {
        add(pos += n_ws);
        continue;
      }
      add(++pos);
    }
    start = end;
  }
}

// (?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,k}|
//  ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
// k = 3 is Llama 3 (llama.cpp's custom splitter); k = 1 is Qwen2, which llama.cpp runs through
// std::regex on collapsed text: the leftmost-first alternation semantics are the same, checked
// alternative by alternative.
void split_llama3_like(const Text& t, const Segments& in, Segments& out, size_t max_digits) {
  const auto lower_ascii = [](uint32_t cp) { return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp; };
  size_t start = 0;
  for (size_t len : in) {
    const size_t end = start + len;
    size_t prev = start;
    const auto add = [&](size_t e) {
      if (e > prev) out.push_back(e - prev);
      prev = e;
    };
    for (size_t pos = start; pos < end;) {
      const uint32_t cpt = t.cps[pos];
      const CpFlags flags = t.at(pos, end);
      if (cpt == '\'' && pos + 1 < end) {
        const uint32_t n1 = lower_ascii(t.cps[pos + 1]);
        if (n1 == 's' || n1 == 't' || n1 == 'm' || n1 == 'd') {
          add(pos += 2);
          continue;
        }
        if (pos + 2 < end) {
          const uint32_t n2 = lower_ascii(t.cps[pos + 2]);
          if ((n1 == 'r' && n2 == 'e') || (n1 == 'v' && n2 == 'e') || (n1 == 'l' && n2 == 'l')) {
            add(pos += 3);
            continue;
          }
        }
      }
      if (!(is_cr_or_lf(cpt) || flags.is_number())) {  // [^\r\n\p{L}\p{N}]?\p{L}+
        if (flags.is_letter() || t.at(pos + 1, end).is_letter()) {
          ++pos;
          while (t.at(pos, end).is_letter()) ++pos;
          add(pos);
          continue;
        }
      }
      if (flags.is_number()) {  // \p{N}{1,k}
        size_t group = pos;
        while (t.at(pos, end).is_number()) {
          if (++pos - group >= max_digits) {
            add(pos);
            group = pos;
          }
        }
        add(pos);
        continue;
      }
      const auto other = [](CpFlags f) {
        return !(f.is_whitespace() || f.is_letter() || f.is_number()) && f.any();
      };
      const CpFlags f2 = cpt == ' ' ? t.at(pos + 1, end) : flags;
      if (!(f2.is_whitespace() || f2.is_letter() || f2.is_number()) &&
          flags.any()) {  //  ?[^\s\p{L}\p{N}]+[\r\n]*
        pos += (cpt == ' ');
        while (other(t.at(pos, end))) ++pos;
        while (pos < end && is_cr_or_lf(t.cps[pos])) ++pos;
        add(pos);
        continue;
      }
      size_t n_ws = 0;
      size_t after_last_crlf = 0;
      while (t.at(pos + n_ws, end).is_whitespace()) {
        if (is_cr_or_lf(t.cps[pos + n_ws])) after_last_crlf = pos + n_ws + 1;
        ++n_ws;
      }
      if (after_last_crlf > 0) {  // \s*[\r\n]+
        add(pos = after_last_crlf);
        continue;
      }
      if (n_ws > 1 && pos + n_ws < end) {  // \s+(?!\S)
        add(pos += n_ws - 1);
        continue;
      }
      if (n_ws > 0) {  // \s+
        add(pos += n_ws);
        continue;
      }
      add(++pos);
    }
    start = end;
  }
}

// [\p{P}\$\+<=>\^~\|]+
void split_default_punct(const Text& t, const Segments& in, Segments& out) {
  const auto is_member = [&](size_t i) {
    const uint32_t cp = t.cps[i];
    return t.punct(i) || cp == '$' || cp == '+' || cp == '<' || cp == '=' || cp == '>' || cp == '^' ||
           cp == '~' || cp == '|';
  };
  split_by_search(in, out, [&](size_t s, size_t end) { return run(s, end, is_member); });
}

// \p{N}+ (all = true) or \p{N}
void split_digits(const Text& t, const Segments& in, Segments& out, bool all) {
  split_by_search(in, out, [&](size_t s, size_t end) -> size_t {
    if (!t.number(s)) return 0;
    return all ? run(s, end, [&](size_t i) { return t.number(i); }) : 1;
  });
}

// [0-9][0-9][0-9]
void split_three_ascii_digits(const Text& t, const Segments& in, Segments& out) {
  const auto digit = [&](size_t i) { return t.cps[i] >= '0' && t.cps[i] <= '9'; };
  split_by_search(in, out, [&](size_t s, size_t end) -> size_t {
    return (s + 3 <= end && digit(s) && digit(s + 1) && digit(s + 2)) ? 3 : 0;
  });
}

// [\r\n]
void split_cr_lf(const Text& t, const Segments& in, Segments& out) {
  split_by_search(in, out, [&](size_t s, size_t) -> size_t { return is_cr_or_lf(t.cps[s]) ? 1 : 0; });
}

// \s?X+ for a class X (letters or punctuation).
template <class Pred>
void split_space_then_run(const Text& t, const Segments& in, Segments& out, Pred member) {
  split_by_search(in, out, [&](size_t s, size_t end) -> size_t {
    if (t.space(s) && s + 1 < end && member(s + 1)) return 1 + run(s + 1, end, member);
    return member(s) ? run(s, end, member) : 0;
  });
}

// [一-龥ࠀ-一가-퟿]+ : U+4E00..U+9FA5, U+0800..U+4E00, U+AC00..U+D7FF. llama.cpp matches it with
// std::wregex on text whose non-ASCII whitespace was replaced by U+000B, so U+3000 and friends
// never match although they lie inside the range.
void split_cjk(const Text& t, const Segments& in, Segments& out) {
  const auto member = [&](size_t i) {
    const uint32_t cp = t.cps[i];
    const bool in_range = (cp >= 0x0800 && cp <= 0x9FA5) || (cp >= 0xAC00 && cp <= 0xD7FF);
    return in_range && !t.space(i);
  };
  split_by_search(in, out, [&](size_t s, size_t end) { return run(s, end, member); });
}

void split(PreType type, const Text& t, Segments& segs) {
  Segments next;
  const auto stage = [&](auto&& fn) {
    next.clear();
    next.reserve(segs.size() * 2);
    fn(segs, next);
    segs.swap(next);
  };
  switch (type) {
    case PreType::Default:
      stage([&](const Segments& in, Segments& out) { split_default_punct(t, in, out); });
      stage([&](const Segments& in, Segments& out) { split_gpt2(t, in, out); });
      stage([&](const Segments& in, Segments& out) { split_digits(t, in, out, true); });
      stage([&](const Segments& in, Segments& out) { split_three_ascii_digits(t, in, out); });
      break;
    case PreType::Llama3:
      stage([&](const Segments& in, Segments& out) { split_llama3_like(t, in, out, 3); });
      break;
    case PreType::Qwen2:
      stage([&](const Segments& in, Segments& out) { split_llama3_like(t, in, out, 1); });
      break;
    case PreType::Gpt2:
      stage([&](const Segments& in, Segments& out) { split_gpt2(t, in, out); });
      break;
    case PreType::Starcoder:
      stage([&](const Segments& in, Segments& out) { split_digits(t, in, out, false); });
      stage([&](const Segments& in, Segments& out) { split_gpt2(t, in, out); });
      break;
    case PreType::DeepseekCoder:
      stage([&](const Segments& in, Segments& out) { split_cr_lf(t, in, out); });
      stage([&](const Segments& in, Segments& out) {
        split_space_then_run(t, in, out, [&](size_t i) { return t.letter(i); });
      });
      stage([&](const Segments& in, Segments& out) {
        split_space_then_run(t, in, out, [&](size_t i) { return t.punct(i); });
      });
      stage([&](const Segments& in, Segments& out) { split_cjk(t, in, out); });
      stage([&](const Segments& in, Segments& out) { split_digits(t, in, out, false); });
      break;
  }
}

}  // namespace

std::optional<PreTokenizerInfo> pre_tokenizer_info(std::string_view name) {
  PreTokenizerInfo info;
  const auto any_of = [&](std::initializer_list<std::string_view> names) {
    for (auto n : names)
      if (n == name) return true;
    return false;
  };
  if (name.empty() || name == "default") {
    info.type = PreType::Default;
  } else if (any_of({"llama3", "llama-v3", "llama-bpe", "falcon3"})) {
    info.type = PreType::Llama3;
    info.ignore_merges = true;
    info.add_bos = true;
  } else if (any_of({"dbrx", "smaug-bpe"})) {
    info.type = PreType::Llama3;
  } else if (any_of({"gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v1-en", "jina-v2-es",
                     "jina-v2-de", "jina-v2-code", "roberta-bpe", "mpt", "olmo", "jais"})) {
    info.type = PreType::Gpt2;
  } else if (any_of({"starcoder", "refact", "codeshell", "exaone", "minerva-7b"})) {
    info.type = PreType::Starcoder;
  } else if (any_of({"command-r", "smollm"})) {
    info.type = PreType::Starcoder;
    info.clean_spaces = false;
  } else if (any_of({"qwen2", "deepseek-r1-qwen"})) {
    info.type = PreType::Qwen2;
    info.clean_spaces = false;
  } else if (any_of({"stablelm2", "megrez"})) {
    info.type = PreType::Qwen2;
  } else if (name == "deepseek-coder") {
    info.type = PreType::DeepseekCoder;
    info.clean_spaces = false;
  } else {
    return std::nullopt;
  }
  return info;
}

void pre_tokenize(PreType type, std::string_view text, std::vector<std::string>& words) {
  Text t;
  utf8_decode(text, t.cps);
  t.flags.resize(t.cps.size());
  for (size_t i = 0; i < t.cps.size(); ++i) t.flags[i] = cp_flags(t.cps[i]).bits;

  Segments segs;
  if (!t.cps.empty()) segs.push_back(t.cps.size());
  split(type, t, segs);

  std::string utf8;
  size_t start = 0;
  for (size_t len : segs) {
    utf8.clear();
    for (size_t i = start; i < start + len; ++i) utf8_append(t.cps[i], utf8);
    std::string& word = words.emplace_back();
    word.reserve(utf8.size() * 2);
    for (char c : utf8) word += byte_to_unicode_utf8(static_cast<uint8_t>(c));
    start += len;
  }
}

}  // namespace xnai::text
