// A hand-written scanner rather than regexes: each rule looks at the text at the current
// position and either consumes a token and emits words or lets the character through.
#include "speech/text_normalizer.h"

#include <array>
#include <cctype>
#include <optional>
#include <vector>

namespace xnai::speech {
namespace {

constexpr std::array<const char*, 20> kSmall = {
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
constexpr std::array<const char*, 10> kTens = {"", "", "twenty", "thirty", "forty",
                                               "fifty", "sixty", "seventy", "eighty", "ninety"};

std::string below_thousand(int n) {  // 1..999
  std::string out;
  if (n >= 100) {
    out = std::string(kSmall[n / 100]) + " hundred";
    n %= 100;
    if (n) out += ' ';
  }
  if (n >= 20) {
    out += kTens[n / 10];
    if (n % 10) out += std::string("-") + kSmall[n % 10];
  } else if (n > 0) {
    out += kSmall[n];
  }
  return out;
}

bool digit(char c) { return c >= '0' && c <= '9'; }
bool alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
bool alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool upper(char c) { return std::isupper(static_cast<unsigned char>(c)) != 0; }

std::string digits_words(std::string_view digits) {
  std::string out;
  for (char c : digits) {
    if (!out.empty()) out += ' ';
    out += kSmall[c - '0'];
  }
  return out;
}

// A number as written: integer digits (commas removed), optional fraction digits.
struct Number {
  std::string integer, fraction;
  bool grouped = false;  // had thousands separators
  size_t length = 0;     // bytes consumed
};

std::optional<Number> read_number(std::string_view s, size_t i) {
  if (i >= s.size() || !digit(s[i])) return std::nullopt;
  Number n;
  size_t j = i;
  while (j < s.size() && digit(s[j])) n.integer += s[j++];
  // Thousands groups: ",ddd" repeated, only after 1–3 leading digits.
  if (n.integer.size() <= 3) {
    while (j + 3 < s.size() + 0 && s[j] == ',' && digit(s[j + 1]) && digit(s[j + 2]) && digit(s[j + 3]) &&
           (j + 4 >= s.size() || !digit(s[j + 4]))) {
      n.integer.append(s.substr(j + 1, 3));
      n.grouped = true;
      j += 4;
    }
  }
  if (j + 1 < s.size() && s[j] == '.' && digit(s[j + 1])) {
    ++j;
    while (j < s.size() && digit(s[j])) n.fraction += s[j++];
  }
  n.length = j - i;
  return n;
}

// Integer digits as words; digit by digit when too long or zero-padded ("007").
std::string integer_words(const std::string& digits) {
  if (digits.size() > 15 || (digits.size() > 1 && digits[0] == '0')) return digits_words(digits);
  return cardinal_words(std::stoll(digits));
}

std::string number_words(const Number& n) {
  std::string out = integer_words(n.integer);
  if (!n.fraction.empty()) out += " point " + digits_words(n.fraction);
  return out;
}

bool starts_with(std::string_view s, size_t i, std::string_view p) { return s.substr(i, p.size()) == p; }

// A scale word after money ("$2.5 million"), with the bytes it takes (leading space included).
std::pair<std::string, size_t> scale_after(std::string_view s, size_t i) {
  for (const char* w : {"thousand", "million", "billion", "trillion"}) {
    const std::string_view word(w);
    if (i < s.size() && s[i] == ' ' && starts_with(s, i + 1, word) &&
        (i + 1 + word.size() >= s.size() || !alpha(s[i + 1 + word.size()])))
      return {std::string(word), 1 + word.size()};
  }
  return {"", 0};
}

struct Currency {
  const char* symbol;
  const char* one;
  const char* many;
  const char* cent_one;
  const char* cent_many;
};
constexpr Currency kCurrencies[] = {
    {"$", "dollar", "dollars", "cent", "cents"},
    {"\xC2\xA3", "pound", "pounds", "penny", "pence"},
    {"\xE2\x82\xAC", "euro", "euros", "cent", "cents"},
    {"\xC2\xA5", "yen", "yen", "sen", "sen"},
};

std::string ordinal_of_word(const std::string& w) {
  static const std::pair<const char*, const char*> kIrregular[] = {
      {"one", "first"}, {"two", "second"}, {"three", "third"}, {"five", "fifth"},
      {"eight", "eighth"}, {"nine", "ninth"}, {"twelve", "twelfth"}};
  for (const auto& [c, o] : kIrregular)
    if (w == c) return o;
  if (!w.empty() && w.back() == 'y') return w.substr(0, w.size() - 1) + "ieth";
  return w + "th";
}

// Makes the last word of a cardinal ordinal: "twenty-one" → "twenty-first".
std::string ordinalise(const std::string& words) {
  const size_t cut = words.find_last_of(" -");
  if (cut == std::string::npos) return ordinal_of_word(words);
  return words.substr(0, cut + 1) + ordinal_of_word(words.substr(cut + 1));
}

// Does a sentence plausibly end at `i` (end of text, or white space then a capital)?
bool sentence_ends_at(std::string_view s, size_t i) {
  size_t j = i;
  while (j < s.size() && space(s[j])) ++j;
  return j >= s.size() || (j > i && upper(s[j]));
}

bool next_word_capitalised(std::string_view s, size_t i) {
  size_t j = i;
  while (j < s.size() && s[j] == ' ') ++j;
  return j > i && j < s.size() && upper(s[j]);
}

// URLs and e-mail addresses are read out plainly: "www dot example dot com slash docs".
std::string spell_address(std::string_view token) {
  std::string out;
  auto word_break = [&](const char* w) {
    if (!out.empty() && out.back() != ' ') out += ' ';
    out += w;
    out += ' ';
  };
  for (char c : token) {
    switch (c) {
      case '.': word_break("dot"); break;
      case '/': word_break("slash"); break;
      case '@': word_break("at"); break;
      case '-': word_break("dash"); break;
      case '_': word_break("underscore"); break;
      case ':': case '?': case '=': case '&': case '#': case '+': case '%':
        if (!out.empty() && out.back() != ' ') out += ' ';
        break;
      default: out += c;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// The extent of a URL or e-mail address starting at i (0 when there is none).
size_t address_length(std::string_view s, size_t i) {
  if (i > 0 && !space(s[i - 1]) && s[i - 1] != '(' && s[i - 1] != '<' && s[i - 1] != '"') return 0;
  size_t j = i;
  while (j < s.size() && !space(s[j]) && s[j] != '>' && s[j] != ')' && s[j] != '"') ++j;
  // Trailing sentence punctuation belongs to the sentence, not the address.
  while (j > i && std::string_view(".,;:!?").find(s[j - 1]) != std::string_view::npos) --j;
  const std::string_view tok = s.substr(i, j - i);
  if (tok.starts_with("http://") || tok.starts_with("https://") || tok.starts_with("www.")) return tok.size();
  const size_t at = tok.find('@');
  if (at != std::string_view::npos && at > 0 && tok.find('.', at) != std::string_view::npos &&
      tok.find('.', at) + 1 < tok.size())
    return tok.size();
  return 0;
}

struct Abbreviation {
  const char* written;
  const char* spoken;
  const char* spoken_otherwise;  // when the next word is not capitalised ("Elm St." = Street)
  bool may_end_sentence;
};
constexpr Abbreviation kAbbreviations[] = {
    {"Mr.", "Mister", nullptr, false},    {"Mrs.", "Missus", nullptr, false},   {"Ms.", "Miz", nullptr, false},
    {"Dr.", "Doctor", "Drive", false},    {"St.", "Saint", "Street", false},    {"Prof.", "Professor", nullptr, false},
    {"Jr.", "Junior", nullptr, true},     {"Sr.", "Senior", nullptr, true},     {"vs.", "versus", nullptr, false},
    {"etc.", "et cetera", nullptr, true}, {"e.g.", "for example", nullptr, false}, {"i.e.", "that is", nullptr, false},
    {"approx.", "approximately", nullptr, false}, {"Mt.", "Mount", nullptr, false}, {"Ave.", "Avenue", nullptr, true},
};

class EnglishNormalizer {
 public:
  explicit EnglishNormalizer(std::string_view s) : s_(s) {}

  std::string run() {
    while (i_ < s_.size()) {
      if (word_start() && (address() || abbreviation())) continue;
      if (money() || number()) continue;
      if (s_[i_] == '&') {
        emit_word("and");
        ++i_;
        continue;
      }
      out_ += s_[i_++];
    }
    return tidy(out_);
  }

 private:
  bool word_start() const { return i_ == 0 || !alnum(s_[i_ - 1]); }

  void emit_word(const std::string& w) {
    if (!out_.empty() && !space(out_.back()) && out_.back() != '(' && out_.back() != '"') out_ += ' ';
    out_ += w;
    if (i_ < s_.size() && alnum(s_[i_])) out_ += ' ';
  }
  // Emits words for a token ending at `end`, then moves there.
  void emit_token(const std::string& w, size_t end) {
    i_ = end;
    emit_word(w);
    if (i_ < s_.size() && alnum(s_[i_])) out_ += ' ';
  }

  bool address() {
    const size_t n = address_length(s_, i_);
    if (!n) return false;
    std::string_view tok = s_.substr(i_, n);
    if (tok.starts_with("https://")) tok.remove_prefix(8);
    else if (tok.starts_with("http://")) tok.remove_prefix(7);
    while (!tok.empty() && tok.back() == '/') tok.remove_suffix(1);
    emit_token(spell_address(tok), i_ + n);
    return true;
  }

  bool abbreviation() {
    for (const auto& a : kAbbreviations) {
      const std::string_view w(a.written);
      if (!starts_with(s_, i_, w)) continue;
      const size_t end = i_ + w.size();
      if (end < s_.size() && alnum(s_[end])) continue;
      std::string spoken = a.spoken;
      if (a.spoken_otherwise && !next_word_capitalised(s_, end)) {
        // "Elm St." is a street; but a sentence-final "Dr." in "see the Dr." is rare enough.
        if (i_ == 0 || s_[i_ - 1] != ' ' || i_ < 2 || !alpha(s_[i_ - 2])) continue;
        spoken = a.spoken_otherwise;
      }
      // The period doubles as a full stop when a sentence ends here.
      if (a.may_end_sentence && sentence_ends_at(s_, end)) spoken += '.';
      emit_token(spoken, end);
      return true;
    }
    return false;
  }

  bool money() {
    for (const auto& c : kCurrencies) {
      const std::string_view sym(c.symbol);
      if (!starts_with(s_, i_, sym)) continue;
      const auto n = read_number(s_, i_ + sym.size());
      if (!n) return false;
      size_t end = i_ + sym.size() + n->length;
      const auto [scale, scale_len] = scale_after(s_, end);
      std::string words;
      if (!scale.empty()) {
        words = number_words(*n) + " " + scale + " " + c.many;
        end += scale_len;
      } else {
        const bool one = n->integer == "1" || n->integer == "01";
        std::string cents = n->fraction;
        if (cents.size() == 1) cents += '0';
        if (cents.size() > 2) {  // "$1.255": not money notation; read as a decimal
          words = number_words(*n) + " " + c.many;
        } else {
          const int cent_value = cents.empty() ? 0 : std::stoi(cents);
          const bool zero_main = n->integer.find_first_not_of('0') == std::string::npos;
          if (!zero_main || cent_value == 0) words = integer_words(n->integer) + " " + (one ? c.one : c.many);
          if (cent_value) {
            if (!words.empty()) words += " and ";
            words += cardinal_words(cent_value) + " " + (cent_value == 1 ? c.cent_one : c.cent_many);
          }
        }
      }
      emit_token(words, end);
      return true;
    }
    return false;
  }

  bool number() {
    if (!digit(s_[i_]) || (i_ > 0 && (digit(s_[i_ - 1]) || s_[i_ - 1] == '.' || s_[i_ - 1] == ','))) return false;
    auto n = read_number(s_, i_);
    size_t end = i_ + n->length;
    // A minus sign directly before a number at a word start is read "minus".
    const bool negative = i_ > 0 && s_[i_ - 1] == '-' && (i_ == 1 || space(s_[i_ - 2]) || s_[i_ - 2] == '(');
    if (negative) out_.pop_back();
    std::string words;
    if (n->fraction.empty() && !n->grouped && n->integer.size() <= 2 && end + 2 < s_.size() + 1 &&
        s_[end] == ':' && end + 2 < s_.size() && digit(s_[end + 1]) && digit(s_[end + 2]) &&
        (end + 3 >= s_.size() || !digit(s_[end + 3]))) {
      // A clock time: "3:30" → "three thirty", "10:05" → "ten oh five", "3:00" → "three o'clock".
      const int h = std::stoi(n->integer), m = std::stoi(std::string(s_.substr(end + 1, 2)));
      if (h <= 24 && m < 60) {
        words = cardinal_words(h) + (m == 0 ? " o'clock" : m < 10 ? " oh " + cardinal_words(m) : " " + cardinal_words(m));
        emit_token(words, end + 3);
        return true;
      }
    }
    const std::string_view rest = s_.substr(end);
    const auto suffix = [&](std::string_view sfx) {
      return rest.size() >= sfx.size() &&
             std::equal(sfx.begin(), sfx.end(), rest.begin(), [](char a, char b) { return a == std::tolower(b); }) &&
             (rest.size() == sfx.size() || !alpha(rest[sfx.size()]));
    };
    if (n->fraction.empty() && (suffix("st") || suffix("nd") || suffix("rd") || suffix("th"))) {
      words = ordinalise(integer_words(n->integer));
      end += 2;
    } else if (!rest.empty() && rest[0] == '%') {
      words = number_words(*n) + " percent";
      end += 1;
    } else if (n->fraction.empty() && !n->grouped && n->integer.size() == 4 && n->integer[0] != '0' && !negative) {
      words = year_words(std::stoll(n->integer));
    } else {
      words = number_words(*n);
    }
    if (negative) words = "minus " + words;
    emit_token(words, end);
    return true;
  }

  // Collapses runs of spaces (not newlines, which split paragraphs) and trims line ends.
  static std::string tidy(const std::string& s) {
    std::string out;
    for (char c : s) {
      if (c == ' ' && (out.empty() || out.back() == ' ' || out.back() == '\n')) continue;
      if (c == '\n')
        while (!out.empty() && out.back() == ' ') out.pop_back();
      out += c;
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
  }

  std::string_view s_;
  size_t i_ = 0;
  std::string out_;
};

}  // namespace

std::string cardinal_words(int64_t n) {
  if (n < 0) return "minus " + cardinal_words(-n);
  if (n == 0) return "zero";
  static const char* kScales[] = {"", " thousand", " million", " billion", " trillion"};
  std::vector<std::string> parts;
  for (int scale = 0; n > 0 && scale < 5; ++scale, n /= 1000) {
    const int group = static_cast<int>(n % 1000);
    if (group) parts.insert(parts.begin(), below_thousand(group) + kScales[scale]);
  }
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : " ") + p;
  return out;
}

std::string ordinal_words(int64_t n) { return ordinalise(cardinal_words(n)); }

std::string year_words(int64_t year) {
  const int64_t hi = year / 100, lo = year % 100;
  if (year >= 1100 && year <= 1999) {
    if (lo == 0) return cardinal_words(hi) + " hundred";
    if (lo < 10) return cardinal_words(hi) + " oh " + cardinal_words(lo);
    return cardinal_words(hi) + " " + cardinal_words(lo);
  }
  if (year >= 2010 && year <= 2099) return "twenty " + cardinal_words(lo);
  return cardinal_words(year);
}

std::string normalize_text(std::string_view text, std::string_view language) {
  if (language.starts_with("en")) return EnglishNormalizer(text).run();
  std::string out;
  for (char c : text) {
    if ((c == ' ' || c == '\t') && (out.empty() || out.back() == ' ')) continue;
    out += c == '\t' ? ' ' : c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace xnai::speech
