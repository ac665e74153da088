// Text clean-up shared by the loaders: UTF-8 repair, newline and control normalisation,
// paragraph detection by blank lines, whitespace collapsing.
#include <cstdint>

#include "rag/loaders/loader_internal.h"

namespace xnai::rag::detail {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

bool in(uint8_t b, uint8_t lo, uint8_t hi) { return b >= lo && b <= hi; }

// Length of the well-formed sequence starting at s[i], or 0 with `bad` set to the length of
// the maximal ill-formed subpart (at least 1) to replace by one U+FFFD.
size_t sequence_length(std::string_view s, size_t i, size_t& bad) {
  const auto b0 = static_cast<uint8_t>(s[i]);
  size_t need = 0;
  uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 < 0x80) return 1;
  if (in(b0, 0xC2, 0xDF)) {
    need = 1;
  } else if (in(b0, 0xE0, 0xEF)) {
    need = 2;
    if (b0 == 0xE0) lo = 0xA0;  // no overlongs
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (in(b0, 0xF0, 0xF4)) {
    need = 3;
    if (b0 == 0xF0) lo = 0x90;  // no overlongs
    if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    bad = 1;
    return 0;
  }
  for (size_t k = 1; k <= need; ++k) {
    if (i + k >= s.size()) {
      bad = k;
      return 0;
    }
    const auto b = static_cast<uint8_t>(s[i + k]);
    const bool ok = k == 1 ? in(b, lo, hi) : in(b, 0x80, 0xBF);
    if (!ok) {
      bad = k;
      return 0;
    }
  }
  return need + 1;
}

bool is_blank_char(char c) { return c == ' ' || c == '\t'; }

}  // namespace

std::string repair_utf8(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  size_t i = 0;
  while (i < in.size()) {
    size_t run = i;
    while (run < in.size() && static_cast<uint8_t>(in[run]) < 0x80) ++run;  // ASCII fast path
    out.append(in.data() + i, run - i);
    i = run;
    if (i >= in.size()) break;
    size_t bad = 0;
    const size_t n = sequence_length(in, i, bad);
    if (n) {
      out.append(in.data() + i, n);
      i += n;
    } else {
      out += kReplacement;
      i += bad;
    }
  }
  return out;
}

std::string clean_plain_text(std::string_view bytes) {
  if (bytes.substr(0, 3) == "\xEF\xBB\xBF") bytes.remove_prefix(3);
  const std::string valid = repair_utf8(bytes);
  std::string out;
  out.reserve(valid.size());
  for (size_t i = 0; i < valid.size(); ++i) {
    const char c = valid[i];
    const auto u = static_cast<uint8_t>(c);
    if (c == '\r') {
      if (i + 1 < valid.size() && valid[i + 1] == '\n') continue;
      out += '\n';
    } else if (c == '\v' || c == '\f') {
      out += '\n';
    } else if ((u < 0x20 && c != '\t' && c != '\n') || u == 0x7F) {
      continue;
    } else {
      out += c;
    }
  }
  return out;
}

void append_blank_line_paragraphs(std::string_view text, int64_t base, std::vector<int64_t>& out) {
  bool at_start = true;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    size_t first = pos;
    while (first < eol && is_blank_char(text[first])) ++first;
    if (first == eol) {
      at_start = true;
    } else if (at_start) {
      out.push_back(base + static_cast<int64_t>(first));
      at_start = false;
    }
    pos = eol + 1;
  }
}

std::string_view trim_ascii(std::string_view s) {
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  while (!s.empty() && ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && ws(s.back())) s.remove_suffix(1);
  return s;
}

std::string collapse_whitespace(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool pending = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    size_t ws_len = 0;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      ws_len = 1;
    } else if (c == '\xC2' && i + 1 < s.size() && s[i + 1] == '\xA0') {
      ws_len = 2;  // U+00A0 NO-BREAK SPACE
    }
    if (ws_len) {
      pending = !out.empty();
      i += ws_len - 1;
      continue;
    }
    if (pending) out += ' ';
    pending = false;
    out += c;
  }
  return out;
}

void append_tag(std::string& list, std::string_view item) {
  if (item.empty()) return;
  if (!list.empty()) list += ',';
  list += item;
}

std::string normalize_tag_list(std::string_view v) {
  v = trim_ascii(v);
  if (v.size() >= 2 && v.front() == '[' && v.back() == ']') v = v.substr(1, v.size() - 2);
  std::string out;
  size_t pos = 0;
  while (pos <= v.size()) {
    size_t sep = v.find_first_of(",;", pos);
    if (sep == std::string_view::npos) sep = v.size();
    std::string_view item = trim_ascii(v.substr(pos, sep - pos));
    if (item.size() >= 2 && (item.front() == '"' || item.front() == '\'') && item.back() == item.front())
      item = trim_ascii(item.substr(1, item.size() - 2));
    append_tag(out, item);
    pos = sep + 1;
  }
  return out;
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace xnai::rag::detail
