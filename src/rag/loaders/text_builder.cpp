// TextBuilder: visible text of tree-shaped formats, with separators written lazily so the
// result never starts, ends or doubles up with whitespace.
#include "rag/loaders/loader_internal.h"

namespace xnai::rag::detail {
namespace {

bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

void rtrim(std::string& s) {
  while (!s.empty() && is_ascii_space(s.back())) s.pop_back();
}

}  // namespace

void TextBuilder::request(Sep sep) {
  if (sep > pending_) pending_ = sep;
}

void TextBuilder::space() { request(Sep::Space); }
void TextBuilder::line_break() { request(Sep::Line); }
void TextBuilder::cell_break() { request(Sep::Cell); }
void TextBuilder::paragraph_break() { request(Sep::Paragraph); }

void TextBuilder::flush_separator() {
  switch (pending_) {
    case Sep::None:
      break;
    case Sep::Space:
      if (!text_.empty() && !is_ascii_space(text_.back())) text_ += ' ';
      break;
    case Sep::Cell:
      rtrim(text_);
      if (!text_.empty()) text_ += " | ";
      break;
    case Sep::Line:
      rtrim(text_);
      if (!text_.empty()) text_ += '\n';
      break;
    case Sep::Paragraph:
      rtrim(text_);
      if (!text_.empty()) text_ += "\n\n";
      paragraph_mark_ = true;
      break;
  }
  pending_ = Sep::None;
}

void TextBuilder::mark_visible() {
  const auto at = static_cast<int64_t>(text_.size());
  if (paragraph_mark_) {
    paragraph_starts_.push_back(at);
    paragraph_mark_ = false;
  }
  if (heading_depth_ > 0 && heading_begin_ < 0) heading_begin_ = at;
}

void TextBuilder::append(std::string_view s, bool preserve_whitespace) {
  // Parsers hand over whatever the file held: drop controls, unify newlines (rarely needed).
  std::string cleaned;
  for (char c : s)
    if ((static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') || c == '\x7F') {
      cleaned = clean_plain_text(s);
      s = cleaned;
      break;
    }
  size_t i = 0;
  if (preserve_whitespace) {
    // Whitespace before the first visible character only decides the separator (keeping the
    // indentation of that line); after it, everything is copied as it is.
    if (pending_ != Sep::None) {
      size_t k = 0;
      while (k < s.size() && is_ascii_space(s[k])) ++k;
      const size_t nl = s.substr(0, k).rfind('\n');
      if (nl != std::string_view::npos) request(Sep::Line);
      if (k == s.size()) {
        if (nl == std::string_view::npos && k > 0) request(Sep::Space);
        return;
      }
      flush_separator();
      const size_t indent_from = nl == std::string_view::npos ? k : nl + 1;
      if (!text_.empty() && text_.back() == '\n') text_.append(s.substr(indent_from, k - indent_from));
      i = k;
    }
    // Record marks at the first visible character, then copy the rest verbatim.
    if (i < s.size()) {
      if (paragraph_mark_ || (heading_depth_ > 0 && heading_begin_ < 0)) {
        size_t k = i;
        while (k < s.size() && is_ascii_space(s[k])) ++k;
        text_.append(s.substr(i, k - i));
        i = k;
        if (i < s.size()) mark_visible();
      }
      text_.append(s.substr(i));
    }
    return;
  }
  while (i < s.size()) {
    const char c = s[i];
    if (is_ascii_space(c)) {
      request(Sep::Space);
      ++i;
      continue;
    }
    if (c == '\xC2' && i + 1 < s.size() && s[i + 1] == '\xA0') {  // U+00A0 NO-BREAK SPACE
      request(Sep::Space);
      i += 2;
      continue;
    }
    flush_separator();
    mark_visible();
    // Copy the whole run of non-space bytes at once.
    size_t j = i + 1;
    while (j < s.size() && !is_ascii_space(s[j]) &&
           !(s[j] == '\xC2' && j + 1 < s.size() && s[j + 1] == '\xA0'))
      ++j;
    text_.append(s.substr(i, j - i));
    i = j;
  }
}

void TextBuilder::begin_heading(int level) {
  if (heading_depth_++ > 0) return;
  paragraph_break();
  heading_level_ = level;
  heading_begin_ = -1;
}

void TextBuilder::end_heading() {
  if (heading_depth_ == 0 || --heading_depth_ > 0) return;
  if (heading_begin_ >= 0) {
    std::string title =
        collapse_whitespace(std::string_view(text_).substr(static_cast<size_t>(heading_begin_)));
    if (!title.empty()) headings_.push_back({heading_level_, std::move(title), heading_begin_});
  }
  paragraph_break();
  heading_level_ = 0;
  heading_begin_ = -1;
}

void TextBuilder::finish(Document& doc) {
  rtrim(text_);
  doc.text = std::move(text_);
  doc.headings = std::move(headings_);
  doc.paragraph_starts = std::move(paragraph_starts_);
  text_.clear();
  headings_.clear();
  paragraph_starts_.clear();
}

}  // namespace xnai::rag::detail
