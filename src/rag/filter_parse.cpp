// Parser for the filter grammar documented in filter_parse.h: a hand-written lexer and a
// recursive-descent parser, one function per grammar rule.
#include "rag/filter_parse.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <vector>

#include "core/error.h"

namespace xnai::rag {
namespace {

constexpr int kMaxDepth = 64;  // nesting of ( and not; bounds recursion on hostile input

// --- dates -------------------------------------------------------------------------------

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's civil-days algorithm).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = unsigned(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + int64_t(doe) - 719468;
}

void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = unsigned(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = int64_t(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

unsigned days_in_month(int64_t y, unsigned m) {
  static const unsigned k[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : k[m - 1];
}

// Reads exactly n digits at text[pos]; advances pos.
bool digits(std::string_view t, size_t& pos, size_t n, int& out) {
  if (pos + n > t.size()) return false;
  out = 0;
  for (size_t i = 0; i < n; ++i) {
    const char c = t[pos + i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  pos += n;
  return true;
}

bool is_number_token(std::string_view s, double& out) {
  if (s.empty() || s.size() > 64) return false;
  const std::string tmp(s);
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(tmp.c_str(), &end);
  if (end != tmp.c_str() + tmp.size() || errno == ERANGE || !std::isfinite(v)) return false;
  // strtod also reads "inf", "nan", hex floats: only plain decimal numbers count.
  for (char c : tmp)
    if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E')) return false;
  out = v;
  return true;
}

std::string format_number(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(int64_t(v));
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string format_time(double v) {
  if (v != std::floor(v) || std::fabs(v) > 1e14) return format_number(v);
  const int64_t t = int64_t(v);
  int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
  int64_t secs = t - days * 86400;
  int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02d:%02d:%02dZ", (long long)y, m, d, int(secs / 3600),
                int(secs / 60 % 60), int(secs % 60));
  return buf;
}

// --- lexer -------------------------------------------------------------------------------

enum class Tok { End, Word, String, LParen, RParen, LBracket, RBracket, Comma, Op };

struct Token {
  Tok kind = Tok::End;
  std::string text;  // word/string contents, or the operator
  size_t pos = 0;    // 1-based column of the first character
};

bool is_special(char c) {
  return c == '(' || c == ')' || c == '[' || c == ']' || c == ',' || c == '=' || c == '!' || c == '<' ||
         c == '>' || c == '~' || c == '"' || c == '\'';
}
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

[[noreturn]] void fail(const std::string& what, const Token& t) {
  std::string near = t.kind == Tok::End ? "end of input" : "'" + t.text + "'";
  throw Error(ErrorKind::InvalidArgument,
              "filter: " + what + " at position " + std::to_string(t.pos) + " (" + near + ")");
}

std::vector<Token> lex(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (true) {
    while (i < s.size() && is_space(s[i])) ++i;
    Token t;
    t.pos = i + 1;
    if (i >= s.size()) {
      out.push_back(t);
      return out;
    }
    const char c = s[i];
    if (c == '"' || c == '\'') {
      t.kind = Tok::String;
      size_t j = i + 1;
      for (; j < s.size() && s[j] != c; ++j) {
        if (s[j] == '\\' && j + 1 < s.size()) ++j;
        t.text.push_back(s[j]);
      }
      if (j >= s.size()) {
        t.text = std::string(s.substr(i, 20));
        fail("unterminated quoted string", t);
      }
      i = j + 1;
    } else if (c == '(' || c == ')' || c == '[' || c == ']' || c == ',') {
      t.kind = c == '('   ? Tok::LParen
               : c == ')' ? Tok::RParen
               : c == '[' ? Tok::LBracket
               : c == ']' ? Tok::RBracket
                          : Tok::Comma;
      t.text = std::string(1, c);
      ++i;
    } else if (c == '=' || c == '!' || c == '<' || c == '>' || c == '~') {
      t.kind = Tok::Op;
      t.text = std::string(1, c);
      ++i;
      if (i < s.size() && s[i] == '=' && c != '~') {
        t.text.push_back('=');
        ++i;
      }
      if (t.text == "!") fail("unknown operator (use != or not)", t);
    } else {
      t.kind = Tok::Word;
      size_t j = i;
      while (j < s.size() && !is_space(s[j]) && !is_special(s[j])) ++j;
      t.text = std::string(s.substr(i, j - i));
      i = j;
    }
    out.push_back(std::move(t));
  }
}

bool keyword(const Token& t, const char* kw) {
  if (t.kind != Tok::Word) return false;
  std::string_view w = t.text, k = kw;
  if (w.size() != k.size()) return false;
  for (size_t i = 0; i < w.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(w[i])) != k[i]) return false;
  return true;
}

bool valid_field(const std::string& f) {
  if (f.empty() || !(std::isalpha(static_cast<unsigned char>(f[0])) || f[0] == '_')) return false;
  for (char c : f)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-')) return false;
  return true;
}

// --- parser ------------------------------------------------------------------------------

class Parser {
 public:
  explicit Parser(std::string_view text) : toks_(lex(text)) {}

  Filter parse() {
    if (peek().kind == Tok::End) return Filter{};
    Filter f = or_expr(0);
    if (peek().kind != Tok::End) fail("expected 'and', 'or' or the end", peek());
    return f;
  }

 private:
  const Token& peek() const { return toks_[i_]; }
  const Token& next() { return toks_[i_ < toks_.size() - 1 ? i_++ : i_]; }

  static Filter combine(Filter::Op op, std::vector<Filter> parts) {
    if (parts.size() == 1) return std::move(parts[0]);
    Filter f;
    f.op = op;
    f.children = std::move(parts);
    return f;
  }

  Filter or_expr(int depth) {
    std::vector<Filter> parts{and_expr(depth)};
    while (keyword(peek(), "or")) {
      next();
      parts.push_back(and_expr(depth));
    }
    return combine(Filter::Op::Or, std::move(parts));
  }

  Filter and_expr(int depth) {
    std::vector<Filter> parts{not_expr(depth)};
    while (keyword(peek(), "and")) {
      next();
      parts.push_back(not_expr(depth));
    }
    return combine(Filter::Op::And, std::move(parts));
  }

  Filter not_expr(int depth) {
    if (depth > kMaxDepth) fail("nesting deeper than 64 levels", peek());
    if (keyword(peek(), "not")) {
      next();
      Filter f;
      f.op = Filter::Op::Not;
      f.children.push_back(not_expr(depth + 1));
      return f;
    }
    if (peek().kind == Tok::LParen) {
      next();
      Filter f = or_expr(depth + 1);
      if (peek().kind != Tok::RParen) fail("expected ')'", peek());
      next();
      return f;
    }
    return condition();
  }

  Filter condition() {
    const Token& ft = next();
    if (ft.kind != Tok::Word || keyword(ft, "and") || keyword(ft, "or") || keyword(ft, "in"))
      fail("expected a field name", ft);
    if (!valid_field(ft.text)) fail("invalid field name", ft);
    const std::string field = ft.text;
    bool negate = false;
    if (keyword(peek(), "not")) {
      next();
      negate = true;
      if (!keyword(peek(), "in")) fail("expected 'in' after 'not'", peek());
    }
    if (keyword(peek(), "in")) {
      next();
      Filter f = in_list(field);
      if (!negate) return f;
      Filter n;
      n.op = Filter::Op::Not;
      n.children.push_back(std::move(f));
      return n;
    }
    const Token& op = next();
    if (op.kind != Tok::Op)
      fail("expected an operator (=, !=, <, <=, >, >=, ~, in) after '" + field + "'", op);
    const Token& vt = next();
    if (vt.kind != Tok::Word && vt.kind != Tok::String) fail("expected a value after '" + op.text + "'", vt);
    return comparison(field, op, vt);
  }

  Filter in_list(const std::string& field) {
    const Token& open = next();
    const bool bracket = open.kind == Tok::LBracket;
    if (!bracket && open.kind != Tok::LParen) fail("expected '[' after 'in'", open);
    const Tok close = bracket ? Tok::RBracket : Tok::RParen;
    std::vector<Filter> spans;  // date values become ranges
    Filter f;
    f.op = Filter::Op::In;
    f.field = field;
    while (true) {
      const Token& vt = next();
      if (vt.kind != Tok::Word && vt.kind != Tok::String) fail("expected a value in the list", vt);
      if (field == "date") {
        auto [lo, hi] = date_span(vt);
        spans.push_back(range(field, lo, hi));
      } else {
        f.values.push_back(value(field, vt));
      }
      const Token& sep = next();
      if (sep.kind == close) break;
      if (sep.kind != Tok::Comma) fail(bracket ? "expected ',' or ']'" : "expected ',' or ')'", sep);
    }
    if (field == "date") return combine(Filter::Op::Or, std::move(spans));
    return f;
  }

  static Filter range(const std::string& field, std::optional<double> lo, std::optional<double> hi) {
    Filter f;
    f.op = Filter::Op::Range;
    f.field = field;
    f.min = lo;
    f.max = hi;
    return f;
  }

  static std::pair<double, double> date_span(const Token& vt) {
    double num;
    const bool year_like = vt.text.size() == 4;
    if (!year_like && vt.kind == Tok::Word && is_number_token(vt.text, num)) return {num, num};
    if (auto span = parse_iso_time(vt.text)) return {double(span->first), double(span->second)};
    fail("expected a date (YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ …) or epoch seconds", vt);
  }

  static FilterValue value(const std::string& field, const Token& vt) {
    double num;
    const bool is_num = vt.kind == Tok::Word && is_number_token(vt.text, num);
    if (field == "page") {
      if (!is_num && !(vt.kind == Tok::String && is_number_token(vt.text, num)))
        fail("page numbers must be numbers", vt);
      return num;
    }
    if (is_num) return num;
    return vt.text;
  }

  static Filter comparison(const std::string& field, const Token& op, const Token& vt) {
    const std::string& o = op.text;
    if (o == "~") {
      Filter f;
      f.op = Filter::Op::Contains;
      f.field = field;
      f.values.push_back(vt.text);
      return f;
    }
    if (field == "date") {
      auto [lo, hi] = date_span(vt);
      if (o == "=" || o == "==") return range(field, lo, hi);
      if (o == "!=") {
        Filter n;
        n.op = Filter::Op::Not;
        n.children.push_back(range(field, lo, hi));
        return n;
      }
      if (o == "<") return range(field, std::nullopt, std::nextafter(lo, -INFINITY));
      if (o == "<=") return range(field, std::nullopt, hi);
      if (o == ">") return range(field, std::nextafter(hi, INFINITY), std::nullopt);
      if (o == ">=") return range(field, lo, std::nullopt);
    }
    if (o == "=" || o == "==" || o == "!=") {
      Filter f;
      f.op = o == "!=" ? Filter::Op::Ne : Filter::Op::Eq;
      f.field = field;
      f.values.push_back(value(field, vt));
      return f;
    }
    double num;
    if (!is_number_token(vt.text, num)) fail("'" + o + "' needs a number (or a date for the date field)", vt);
    if (o == "<") return range(field, std::nullopt, std::nextafter(num, -INFINITY));
    if (o == "<=") return range(field, std::nullopt, num);
    if (o == ">") return range(field, std::nextafter(num, INFINITY), std::nullopt);
    if (o == ">=") return range(field, num, std::nullopt);
    fail("unknown operator", op);
  }

  std::vector<Token> toks_;
  size_t i_ = 0;
};

// --- formatting --------------------------------------------------------------------------

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

std::string format_value(const std::string& field, const FilterValue& v) {
  if (const double* d = std::get_if<double>(&v)) return field == "date" ? format_time(*d) : format_number(*d);
  return quote(std::get<std::string>(v));
}

std::string format_bound(const std::string& field, double v) {
  return field == "date" ? format_time(v) : format_number(v);
}

void format_into(const Filter& f, std::string& out) {
  switch (f.op) {
    case Filter::Op::All:
      out += "not (page = -1)";  // always true: no chunk has page -1
      return;
    case Filter::Op::Eq:
    case Filter::Op::Ne:
    case Filter::Op::Contains:
      out += f.field + (f.op == Filter::Op::Eq ? " = " : f.op == Filter::Op::Ne ? " != " : " ~ ");
      out += f.values.empty() ? "\"\""
             : f.op == Filter::Op::Contains && std::holds_alternative<double>(f.values[0])
                 ? quote(format_number(std::get<double>(f.values[0])))
                 : format_value(f.field, f.values[0]);
      return;
    case Filter::Op::In:
      out += f.field + " in [";
      for (size_t i = 0; i < f.values.size(); ++i)
        out += (i ? ", " : "") + format_value(f.field, f.values[i]);
      out += "]";
      return;
    case Filter::Op::Range:
      if (f.min && f.max)
        out += "(" + f.field + " >= " + format_bound(f.field, *f.min) + " and " + f.field +
               " <= " + format_bound(f.field, *f.max) + ")";
      else if (f.min)
        out += f.field + " >= " + format_bound(f.field, *f.min);
      else if (f.max)
        out += f.field + " <= " + format_bound(f.field, *f.max);
      return;
    case Filter::Op::Not:
      out += "not (";
      if (!f.children.empty()) format_into(f.children[0], out);
      out += ")";
      return;
    case Filter::Op::And:
    case Filter::Op::Or:
      out += "(";
      for (size_t i = 0; i < f.children.size(); ++i) {
        if (i) out += f.op == Filter::Op::And ? " and " : " or ";
        format_into(f.children[i], out);
      }
      out += ")";
      return;
  }
}

}  // namespace

Filter parse_filter(std::string_view text) { return Parser(text).parse(); }

std::string format_filter(const Filter& filter) {
  if (filter.is_all()) return "";
  std::string out;
  format_into(filter, out);
  return out;
}

std::optional<std::pair<int64_t, int64_t>> parse_iso_time(std::string_view t) {
  size_t p = 0;
  int y, mo = 0, d = 0, hh = 0, mm = 0, ss = 0;
  if (!digits(t, p, 4, y)) return std::nullopt;
  if (p == t.size()) {
    const int64_t a = days_from_civil(y, 1, 1) * 86400;
    return std::pair{a, days_from_civil(y + 1, 1, 1) * 86400 - 1};
  }
  if (t[p++] != '-' || !digits(t, p, 2, mo) || mo < 1 || mo > 12) return std::nullopt;
  if (p == t.size()) {
    const int64_t a = days_from_civil(y, unsigned(mo), 1) * 86400;
    return std::pair{a, a + int64_t(days_in_month(y, unsigned(mo))) * 86400 - 1};
  }
  if (t[p++] != '-' || !digits(t, p, 2, d) || d < 1 || unsigned(d) > days_in_month(y, unsigned(mo)))
    return std::nullopt;
  const int64_t day = days_from_civil(y, unsigned(mo), unsigned(d)) * 86400;
  if (p == t.size()) return std::pair{day, day + 86399};
  if (t[p] != 'T' && t[p] != 't' && t[p] != ' ') return std::nullopt;
  ++p;
  if (!digits(t, p, 2, hh) || hh > 23 || p >= t.size() || t[p++] != ':' || !digits(t, p, 2, mm) || mm > 59)
    return std::nullopt;
  int64_t span = 59;
  if (p < t.size() && t[p] == ':') {
    ++p;
    if (!digits(t, p, 2, ss) || ss > 60) return std::nullopt;
    span = 0;
    if (p < t.size() && t[p] == '.') {  // fractional seconds: ignored
      ++p;
      while (p < t.size() && t[p] >= '0' && t[p] <= '9') ++p;
    }
  }
  int64_t offset = 0;
  if (p < t.size()) {
    if (t[p] == 'Z' || t[p] == 'z') {
      ++p;
    } else if (t[p] == '+' || t[p] == '-') {
      const int sign = t[p++] == '+' ? 1 : -1;
      int oh, om = 0;
      if (!digits(t, p, 2, oh) || oh > 23) return std::nullopt;
      if (p < t.size() && t[p] == ':') ++p;
      if (p < t.size() && !digits(t, p, 2, om)) return std::nullopt;
      if (om > 59) return std::nullopt;
      offset = sign * (int64_t(oh) * 3600 + om * 60);
    }
  }
  if (p != t.size()) return std::nullopt;
  const int64_t a = day + hh * 3600 + mm * 60 + ss - offset;
  return std::pair{a, a + span};
}

}  // namespace xnai::rag
