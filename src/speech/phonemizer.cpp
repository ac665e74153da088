// espeak-ng → Kokoro phonemes. Punctuation is handled here, not by espeak: espeak's
// espeak_TextToPhonemes drops it, so the text is cut into word runs and marks first, each
// run is phonemised, and the marks Kokoro knows are put back between them.
#include "speech/phonemizer.h"

#include <espeak-ng/speak_lib.h>

#include <algorithm>
#include <cctype>
#include <utility>

#include "core/error.h"
#include "speech/espeak_library.h"
#include "speech/utf8.h"

namespace xnai::speech {
namespace {

using detail::utf8_append;
using detail::utf8_next;

// espeak_TextToPhonemes phonememode: bit 1 = IPA; bit 7 = bits 8..23 hold a tie character,
// written between the letters of one multi-letter phoneme (t^ʃ, a^ɪ). The tie is what lets
// the mapping below tell a diphthong from two vowels that merely meet.
constexpr int kTie = '^';
constexpr int kPhonemeMode = 0x02 | 0x80 | (kTie << 8);

using Rule = std::pair<std::u32string, std::u32string>;
using Rules = std::vector<Rule>;

// One left-to-right pass; at each position the longest matching rule wins (the rules are
// sorted by length when the table is built), and replaced text is not scanned again.
std::u32string apply_rules(const Rules& rules, const std::u32string& in) {
  std::u32string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size();) {
    bool hit = false;
    for (const auto& [from, to] : rules) {
      if (in.compare(i, from.size(), from) == 0) {
        out += to;
        i += from.size();
        hit = true;
        break;
      }
    }
    if (!hit) out += in[i++];
  }
  return out;
}

Rules sorted(Rules r) {
  std::stable_sort(r.begin(), r.end(), [](const Rule& a, const Rule& b) { return a.first.size() > b.first.size(); });
  return r;
}

// ---- The mapping (kokoro-spec.md §7.2/§7.3; the why of each line is in docs/speech.md) ----
//
// English, pass 1 — tied pairs become misaki's single symbols: the affricates ʤ ʧ and the
// diphthongs A (eɪ) I (aɪ) W (aʊ) Y (ɔɪ), US O (oʊ), GB Q (əʊ); espeak's syllabic "ə^l" is
// misaki's small schwa ᵊl; GB "e^ə" (square) is misaki's ɛː. Then every other tie goes.
Rules english_ties(bool british) {
  Rules r = {{U"a^ɪ", U"I"}, {U"a^ʊ", U"W"}, {U"d^ʒ", U"ʤ"}, {U"e^ɪ", U"A"},
             {U"t^ʃ", U"ʧ"}, {U"ɔ^ɪ", U"Y"}, {U"ə^l", U"ᵊl"}, {U"^", U""}};
  if (british) {
    r.push_back({U"e^ə", U"ɛː"});
    r.push_back({U"ə^ʊ", U"Q"});
  } else {
    r.push_back({U"o^ʊ", U"O"});
  }
  return sorted(r);
}

// English, pass 2 — single symbols misaki spells differently: ɹ for r, k for the fricatives
// x/ç English lacks, ə for ɐ, l for ɬ, j for palatalisation, əɹ for rhotic ɚ; a lone e is A
// (espeak writes "e" for the face vowel before r); o is ɔ (older espeak's "thought"). US:
// length marks go and the nurse vowel is ɜɹ; the near vowel is iə (US) / ɪə (GB). espeak's
// glottal-stop + syllabic n is misaki's ʔn. Nasalisation (U+0303) is not English.
Rules english_symbols(bool british) {
  Rules r = {{U"ʔˌn\u0329", U"ʔn"}, {U"ʔn\u0329", U"ʔn"}, {U"e", U"A"}, {U"ʲo", U"jo"}, {U"ʲə", U"jə"},
             {U"ʲ", U""},          {U"ɚ", U"əɹ"},        {U"r", U"ɹ"}, {U"x", U"k"},   {U"ç", U"k"},
             {U"ɐ", U"ə"},         {U"ɬ", U"l"},         {U"\u0303", U""}, {U"o", U"ɔ"}};
  if (british) {
    r.push_back({U"iə", U"ɪə"});
  } else {
    r.push_back({U"ɜːɹ", U"ɜɹ"});
    r.push_back({U"ɜː", U"ɜɹ"});
    r.push_back({U"ɪə", U"iə"});
    r.push_back({U"ː", U""});
  }
  return sorted(r);
}

// English, pass 3 — misaki v1.0 (what Kokoro v1.0 was trained with) writes the flap as T and
// a glottal stop as t in its espeak fallback (so "button" bˈʌʔn̩ ends up bˈʌtn).
Rules english_final() { return {{U"ɾ", U"T"}, {U"ʔ", U"t"}}; }

// Other languages (misaki's EspeakG2P): tied pairs to single symbols, then ties and
// espeak's word-joining hyphens go. Nasal vowels keep their combining tilde (in the vocab).
Rules other_ties() {
  return sorted({{U"a^ɪ", U"I"}, {U"a^ʊ", U"W"}, {U"d^z", U"ʣ"}, {U"d^ʒ", U"ʤ"}, {U"e^ɪ", U"A"},
                 {U"o^ʊ", U"O"}, {U"ə^ʊ", U"Q"}, {U"s^s", U"S"}, {U"t^s", U"ʦ"}, {U"t^ʃ", U"ʧ"},
                 {U"ɔ^ɪ", U"Y"}, {U"^", U""},    {U"-", U""}});
}

// Syllabic consonants (X + U+0329) become ᵊX, misaki's way of writing "bottle" = bˈɑTᵊl.
std::u32string syllabic_to_small_schwa(const std::u32string& in) {
  std::u32string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (i + 1 < in.size() && in[i + 1] == 0x0329) {
      out += U'ᵊ';
      out += in[i];
      ++i;
    } else if (in[i] != 0x0329) {
      out += in[i];
    }
  }
  return out;
}

std::u32string to_u32(std::string_view s) {
  std::u32string out;
  for (size_t pos = 0; pos < s.size();) out += utf8_next(s, pos);
  return out;
}

std::string to_utf8(const std::u32string& s) {
  std::string out;
  for (char32_t c : s) utf8_append(c, out);
  return out;
}

bool is_space(char32_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0xA0 || c == 0x3000; }
bool is_alnum(char32_t c) { return (c < 0x80 && std::isalnum(static_cast<int>(c))) || c >= 0xC0; }

// The mark a code point stands for in Kokoro's vocabulary, U"" for a mark that is dropped
// (¡ ¿), or nullopt-like "\x01" for "not a mark".
constexpr char32_t kNotMark = 1;
char32_t mark_for(char32_t c, char32_t prev, char32_t next) {
  switch (c) {
    case ';': case '!': case '?': case '"': case '(': case ')':
    case U'—': case U'…': case U'“': case U'”':
      return c;
    case U'«': return U'“';
    case U'»': return U'”';
    case U'–': return U'—';
    case U'¡': case U'¿': return 0;
    case '.': case ',': case ':':
      // "3.5", "1,000", "3:30", "example.com" stay inside their word.
      return is_alnum(prev) && is_alnum(next) ? kNotMark : c;
    default:
      return kNotMark;
  }
}

// Collapses espeak's white space and removes its language-switch flags such as "(en)".
std::string tidy_espeak_output(std::string_view s) {
  std::string out;
  bool in_flag = false, pending_space = false;
  for (char c : s) {
    if (c == '(') in_flag = true;
    if (in_flag) {
      if (c == ')') in_flag = false;
      continue;
    }
    if (c == ' ' || c == '\n' || c == '\t') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

struct Piece {
  size_t begin, end;
  bool punctuation;
  char32_t mark;  // for punctuation
  bool space_before;
};

// Cuts text into word runs and marks (byte ranges, white space trimmed off runs).
std::vector<Piece> segment(std::string_view text) {
  std::vector<Piece> pieces;
  std::vector<std::pair<size_t, char32_t>> cps;  // (byte offset, code point)
  for (size_t pos = 0; pos < text.size();) {
    const size_t at = pos;
    cps.emplace_back(at, utf8_next(text, pos));
  }
  const size_t n = cps.size();
  auto byte_end = [&](size_t i) { return i + 1 < n ? cps[i + 1].first : text.size(); };
  bool space = false;
  size_t run_begin = 0, run_end = 0;
  bool in_run = false, run_space = false;
  auto close_run = [&] {
    if (in_run) pieces.push_back({run_begin, run_end, false, 0, run_space});
    in_run = false;
  };
  for (size_t i = 0; i < n; ++i) {
    const char32_t c = cps[i].second;
    const char32_t prev = i ? cps[i - 1].second : 0, next = i + 1 < n ? cps[i + 1].second : 0;
    if (is_space(c)) {
      space = true;
      continue;
    }
    char32_t mark = mark_for(c, prev, next);
    size_t end = byte_end(i);
    if (c == '-' && next == '-') {  // "--" is a dash
      mark = U'—';
      ++i;
      end = byte_end(i);
    }
    if (mark == kNotMark) {
      if (!in_run) {
        in_run = true;
        run_begin = cps[i].first;
        run_space = space;
      }
      run_end = end;
    } else {
      close_run();
      if (mark != 0) pieces.push_back({cps[i].first, end, true, mark, space});
    }
    space = false;
  }
  close_run();
  return pieces;
}

// Words of a run (split at white space), as byte ranges.
std::vector<std::pair<size_t, size_t>> words_of(std::string_view text, size_t begin, size_t end) {
  std::vector<std::pair<size_t, size_t>> out;
  size_t i = begin;
  while (i < end) {
    while (i < end && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    const size_t b = i;
    while (i < end && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i > b) out.emplace_back(b, i);
  }
  return out;
}

// Curly apostrophes become ASCII ones, which espeak's dictionaries use ("don't").
std::string espeak_input(std::string_view s) {
  std::string out;
  for (size_t pos = 0; pos < s.size();) {
    const char32_t c = utf8_next(s, pos);
    utf8_append(c == U'’' || c == U'‘' ? U'\'' : c, out);
  }
  return out;
}

}  // namespace

const std::vector<std::string>& supported_languages() {
  static const std::vector<std::string> langs = {"en-us", "en-gb", "es", "fr-fr", "hi", "it", "pt-br"};
  return langs;
}

std::string checked_language(std::string_view language) {
  std::string l(language);
  std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return std::tolower(c); });
  std::replace(l.begin(), l.end(), '_', '-');
  for (const auto& s : supported_languages())
    if (s == l) return l;
  std::string list;
  for (const auto& s : supported_languages()) list += (list.empty() ? "" : ", ") + s;
  throw Error(ErrorKind::NotFound, "unsupported phoneme language '" + std::string(language) + "' (supported: " + list + ")");
}

std::string language_for_voice(std::string_view voice) {
  std::string_view name = voice;
  if (const auto slash = name.find_last_of('/'); slash != std::string_view::npos) name = name.substr(slash + 1);
  if (name.empty()) throw Error(ErrorKind::NotFound, "empty voice name");
  if (name.size() > 2 && name[2] != '_') return checked_language(name);  // already a language code
  switch (std::tolower(static_cast<unsigned char>(name[0]))) {
    case 'a': return "en-us";
    case 'b': return "en-gb";
    case 'e': return "es";
    case 'f': return "fr-fr";
    case 'h': return "hi";
    case 'i': return "it";
    case 'p': return "pt-br";
    case 'j': case 'z':
      throw Error(ErrorKind::NotFound, "voice '" + std::string(voice) +
                                           "' is Japanese or Chinese, which need misaki's G2P; xnai has none for them yet");
    default:
      throw Error(ErrorKind::NotFound, "cannot tell the language of voice '" + std::string(voice) +
                                           "' (Kokoro voice names start with a, b, e, f, h, i or p)");
  }
}

std::string map_espeak_ipa(std::string_view ipa, std::string_view language) {
  std::u32string s = to_u32(ipa);
  if (language == "en-us" || language == "en-gb") {
    const bool gb = language == "en-gb";
    s = apply_rules(english_ties(gb), s);
    s = apply_rules(english_symbols(gb), s);
    s = syllabic_to_small_schwa(s);
    s = apply_rules(english_final(), s);
  } else {
    s = apply_rules(other_ties(), s);
  }
  return to_utf8(s);
}

Phonemizer::Phonemizer(std::string_view language) : language_(checked_language(language)) {}

std::vector<PhonemeSpan> Phonemizer::phonemize_spans(std::string_view text, bool per_word) const {
  const std::vector<Piece> pieces = segment(text);
  std::vector<PhonemeSpan> spans;
  auto lock = detail::lock_espeak();
  detail::select_espeak_language(language_);
  auto g2p = [&](size_t b, size_t e) {
    const std::string input = espeak_input(text.substr(b, e - b));
    std::string raw;
    const void* ptr = input.c_str();
    while (ptr) {
      const char* ps = espeak_TextToPhonemes(&ptr, espeakCHARS_UTF8, kPhonemeMode);
      if (ps && *ps) (raw += ' ') += ps;
    }
    return filter_to_kokoro_vocab(map_espeak_ipa(tidy_espeak_output(raw), language_));
  };
  for (const Piece& p : pieces) {
    if (p.punctuation) {
      std::string m;
      utf8_append(p.mark, m);
      spans.push_back({p.begin, p.end, m, true, p.space_before});
      continue;
    }
    if (!per_word) {
      spans.push_back({p.begin, p.end, g2p(p.begin, p.end), false, p.space_before});
      continue;
    }
    bool first = true;
    for (const auto& [b, e] : words_of(text, p.begin, p.end)) {
      spans.push_back({b, e, g2p(b, e), false, first ? p.space_before : true});
      first = false;
    }
  }
  return spans;
}

std::string Phonemizer::join(const std::vector<PhonemeSpan>& spans, size_t begin, size_t end) {
  std::string out;
  for (size_t i = begin; i < end && i < spans.size(); ++i) {
    if (spans[i].phonemes.empty()) continue;
    if (spans[i].space_before && !out.empty()) out += ' ';
    out += spans[i].phonemes;
  }
  return out;
}

std::string Phonemizer::phonemize(std::string_view text) const {
  const auto spans = phonemize_spans(text);
  return join(spans, 0, spans.size());
}

}  // namespace xnai::speech
