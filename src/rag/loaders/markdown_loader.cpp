// .md / .markdown: the text is the file's text as written (markdown syntax kept, so a
// citation shows exactly what the author wrote), minus a leading YAML front-matter block,
// whose simple "key: value" pairs go to metadata (title → Document::title, tags/keywords
// lists → comma-separated). Structure recorded: ATX (# …) and setext (=== / ---) headings
// outside fenced code, and paragraph starts at blank lines, list items, headings and fences.
#include <cctype>

#include "rag/loaders/loader_internal.h"

namespace xnai::rag::detail {
namespace {

struct Line {
  size_t begin, end;  // [begin, end) without the "\n"
};

size_t count_leading_spaces(std::string_view s) {
  size_t n = 0;
  while (n < s.size() && s[n] == ' ') ++n;
  return n;
}

bool is_blank(std::string_view s) { return trim_ascii(s).empty(); }

// A fence opener/closer: three or more ` or ~. Returns its length (0 when not a fence).
size_t fence_length(std::string_view t, char& ch) {
  if (t.empty() || (t[0] != '`' && t[0] != '~')) return 0;
  ch = t[0];
  size_t n = 0;
  while (n < t.size() && t[n] == ch) ++n;
  return n >= 3 ? n : 0;
}

// "# Title #" → level and title; 0 when the line is no ATX heading.
int atx_heading(std::string_view t, std::string& title) {
  int level = 0;
  while (level < static_cast<int>(t.size()) && t[static_cast<size_t>(level)] == '#') ++level;
  if (level == 0 || level > 6) return 0;
  std::string_view rest = t.substr(static_cast<size_t>(level));
  if (!rest.empty() && rest[0] != ' ' && rest[0] != '\t') return 0;
  rest = trim_ascii(rest);
  // An optional closing sequence of '#' preceded by a space (or the whole rest) is dropped.
  size_t end = rest.size();
  while (end > 0 && rest[end - 1] == '#') --end;
  if (end == 0 || rest[end - 1] == ' ' || rest[end - 1] == '\t') rest = trim_ascii(rest.substr(0, end));
  title = collapse_whitespace(rest);
  return level;
}

// A setext underline: only '=' (level 1) or only '-' (level 2), trailing spaces allowed.
int setext_level(std::string_view t) {
  t = trim_ascii(t);
  if (t.empty() || (t[0] != '=' && t[0] != '-')) return 0;
  for (char c : t)
    if (c != t[0]) return 0;
  return t[0] == '=' ? 1 : 2;
}

bool is_thematic_break(std::string_view t) {
  t = trim_ascii(t);
  if (t.empty() || (t[0] != '*' && t[0] != '-' && t[0] != '_')) return false;
  int n = 0;
  for (char c : t) {
    if (c == t[0])
      ++n;
    else if (c != ' ' && c != '\t')
      return false;
  }
  return n >= 3;
}

bool is_list_item(std::string_view t) {
  size_t i = 0;
  if (!t.empty() && (t[0] == '-' || t[0] == '*' || t[0] == '+')) {
    i = 1;
  } else {
    while (i < t.size() && i < 9 && std::isdigit(static_cast<unsigned char>(t[i]))) ++i;
    if (i == 0 || i >= t.size() || (t[i] != '.' && t[i] != ')')) return false;
    ++i;
  }
  return i == t.size() || t[i] == ' ' || t[i] == '\t';
}

std::string unquote(std::string_view v) {
  v = trim_ascii(v);
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
    v = v.substr(1, v.size() - 2);
  return std::string(v);
}

bool is_list_key(const std::string& key) { return key == "tags" || key == "keywords"; }

// Parses a YAML front-matter body of simple scalars and flat lists (nothing nested).
void parse_front_matter(std::string_view body, Document& doc) {
  std::string list_key;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t eol = body.find('\n', pos);
    if (eol == std::string_view::npos) eol = body.size();
    const std::string_view line = body.substr(pos, eol - pos);
    pos = eol + 1;
    const std::string_view t = trim_ascii(line);
    if (t.empty() || t[0] == '#') continue;
    if (!list_key.empty() && t.size() >= 2 && t[0] == '-' && t[1] == ' ') {
      append_tag(doc.metadata[list_key], unquote(t.substr(2)));
      continue;
    }
    list_key.clear();
    if (line[0] == ' ' || line[0] == '\t') continue;  // nested value: not supported, skipped
    const size_t colon = t.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    const std::string key = ascii_lower(trim_ascii(t.substr(0, colon)));
    bool simple_key = true;
    for (char c : key) simple_key &= std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
    if (!simple_key) continue;
    const std::string_view value = trim_ascii(t.substr(colon + 1));
    if (key == "title") {
      doc.title = collapse_whitespace(unquote(value));
    } else if (is_list_key(key)) {
      if (value.empty()) list_key = key;
      doc.metadata[key] = normalize_tag_list(value);
    } else if (!value.empty()) {
      doc.metadata[key] = unquote(value);
    }
  }
}

// Length of a front-matter block at the start of `text` ("---" … "---"/"..."), or 0.
size_t front_matter_length(std::string_view text, std::string_view& body) {
  if (text.substr(0, 3) != "---") return 0;
  size_t first_eol = text.find('\n');
  if (first_eol == std::string_view::npos || !trim_ascii(text.substr(3, first_eol - 3)).empty()) return 0;
  size_t pos = first_eol + 1;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    const std::string_view line = trim_ascii(text.substr(pos, eol - pos));
    if (line == "---" || line == "...") {
      body = text.substr(first_eol + 1, pos - first_eol - 1);
      return std::min(eol + 1, text.size());
    }
    pos = eol + 1;
  }
  return 0;  // never closed: not front matter
}

}  // namespace

void extract_markdown(std::string_view bytes, Document& doc) {
  std::string text = clean_plain_text(bytes);
  std::string_view body;
  if (const size_t n = front_matter_length(text, body); n > 0) {
    parse_front_matter(body, doc);
    text.erase(0, n);
  }
  doc.text = std::move(text);
  const std::string_view s = doc.text;

  bool in_fence = false;
  char fence_char = 0;
  size_t fence_len = 0;
  bool at_para_start = true;  // the next non-blank line starts a paragraph
  bool para_open = false;     // inside a run of plain text lines (setext candidates)
  size_t para_begin = 0;
  auto start_paragraph = [&](size_t at) {
    if (doc.paragraph_starts.empty() || doc.paragraph_starts.back() < static_cast<int64_t>(at))
      doc.paragraph_starts.push_back(static_cast<int64_t>(at));
  };

  size_t pos = 0;
  while (pos < s.size()) {
    size_t eol = s.find('\n', pos);
    if (eol == std::string_view::npos) eol = s.size();
    const Line line{pos, eol};
    pos = eol + 1;
    const std::string_view l = s.substr(line.begin, line.end - line.begin);
    const size_t indent = count_leading_spaces(l);
    const size_t first = line.begin + indent;  // first non-space byte (tabs kept as text)
    const std::string_view t = l.substr(indent);

    if (in_fence) {
      char ch = 0;
      const size_t n = indent <= 3 ? fence_length(t, ch) : 0;
      if (n >= fence_len && ch == fence_char && is_blank(t.substr(n))) {
        in_fence = false;
        at_para_start = true;
      }
      continue;
    }
    if (is_blank(l)) {
      at_para_start = true;
      para_open = false;
      continue;
    }
    if (indent <= 3) {
      char ch = 0;
      if (const size_t n = fence_length(t, ch);
          n > 0 && (ch == '~' || t.find('`', n) == std::string_view::npos)) {
        in_fence = true;
        fence_char = ch;
        fence_len = n;
        start_paragraph(first);
        para_open = false;
        continue;
      }
      std::string title;
      if (const int level = atx_heading(t, title); level > 0) {
        start_paragraph(first);
        if (!title.empty()) doc.headings.push_back({level, title, static_cast<int64_t>(first)});
        at_para_start = true;
        para_open = false;
        continue;
      }
      if (para_open) {
        if (const int level = setext_level(t); level > 0) {
          title = collapse_whitespace(s.substr(para_begin, line.begin - para_begin));
          if (!title.empty()) doc.headings.push_back({level, title, static_cast<int64_t>(para_begin)});
          at_para_start = true;
          para_open = false;
          continue;
        }
      }
      if (is_thematic_break(t)) {
        at_para_start = true;
        para_open = false;
        continue;
      }
      if (is_list_item(t)) {
        start_paragraph(first);
        at_para_start = false;
        para_open = false;
        continue;
      }
    }
    if (at_para_start) {
      size_t b = line.begin;
      while (b < line.end && (s[b] == ' ' || s[b] == '\t')) ++b;
      start_paragraph(b);
      para_begin = b;
      para_open = true;
      at_para_start = false;
    }
  }

  if (doc.title.empty()) {
    for (const auto& h : doc.headings)
      if (h.level == 1) {
        doc.title = h.title;
        break;
      }
    if (doc.title.empty() && !doc.headings.empty()) doc.title = doc.headings.front().title;
  }
}

}  // namespace xnai::rag::detail
