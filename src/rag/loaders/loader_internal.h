// Private to rag/loaders: one extractor per format, and the text helpers they share.
//
// An extractor fills doc.text, pages, headings, paragraph_starts and, when the format has
// them, title and metadata; loader.cpp sets id, source_path, type, mtime, content_hash and
// the fallback title. Extractors keep the guarantees stated in rag/loaders.h and throw
// Error with messages that begin with `name`.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rag/document.h"

namespace xnai::rag::detail {

void extract_text_file(std::string_view bytes, Document& doc);
void extract_markdown(std::string_view bytes, Document& doc);
void extract_html(std::string_view bytes, const std::string& name, Document& doc);
void extract_pdf(std::string_view bytes, const std::string& name, Document& doc);
void extract_docx(std::string_view bytes, const std::string& name, Document& doc);

// --- HTML (html_nesting_guard.cpp) --------------------------------------------------------

// `html` with the start tags removed that would nest elements deeper than max_depth (as a
// browser roughly nests them); linear time. Bounds gumbo's parse time, which grows with the
// depth of open elements on every tag.
std::string limit_html_nesting(std::string_view html, int max_depth);

// --- zip (zip_reader.cpp) -----------------------------------------------------------------

// The bytes of `member` in the zip archive `zip`, or nullopt when it has no such member.
// Throws Error naming `name` when the archive is broken, encrypted, zip64, uses a method
// other than stored/deflate, or the member is larger than max_bytes (zip-bomb guard).
std::optional<std::string> read_zip_member(std::string_view zip, std::string_view member, size_t max_bytes,
                                           const std::string& name);

// --- text helpers (text_normalize.cpp) ----------------------------------------------------

// Valid UTF-8: each maximal ill-formed subsequence (stray continuation byte, truncated
// sequence, overlong form, surrogate, value above U+10FFFF) becomes U+FFFD.
std::string repair_utf8(std::string_view in);

// Plain-text clean-up for file contents: drops a leading byte-order mark, repairs UTF-8,
// turns "\r\n" and lone "\r" into "\n", vertical tab and form feed into "\n", and drops
// NUL, the other C0 controls (except "\t") and DEL.
std::string clean_plain_text(std::string_view bytes);

// Byte offsets of the first non-blank character of every paragraph of `text`, where
// paragraphs are separated by lines holding only spaces/tabs. Offsets are relative to
// `text` plus `base`; appended to `out` in order.
void append_blank_line_paragraphs(std::string_view text, int64_t base, std::vector<int64_t>& out);

// Trims ASCII whitespace (space, tab, newline) from both ends.
std::string_view trim_ascii(std::string_view s);

// Collapses every run of whitespace (ASCII and U+00A0) into one space and trims the ends.
std::string collapse_whitespace(std::string_view s);

// A keyword/tag list as written in a file ("[a, 'b']", "a; b", "a,b") → "a,b": split at
// ',' or ';', items trimmed and unquoted, empty ones dropped.
std::string normalize_tag_list(std::string_view v);

// Appends `item` to the comma-separated `list`.
void append_tag(std::string& list, std::string_view item);

// Lowercase ASCII copy.
std::string ascii_lower(std::string_view s);

// --- TextBuilder (text_builder.cpp) -------------------------------------------------------

// Accumulates visible text from a tree-shaped format (HTML, docx) into Document::text the
// way a reader sees it: whitespace runs collapse to one space, block boundaries become a
// blank line, headings are recorded with the offset of their first character, and
// separators are only written between pieces of text (never leading, trailing or doubled).
class TextBuilder {
 public:
  // Appends text. With preserve_whitespace (HTML <pre>), spaces and newlines are kept as
  // they are; otherwise runs of whitespace (incl. U+00A0) become one pending space.
  void append(std::string_view utf8, bool preserve_whitespace = false);
  void space();            // a word break (pending space)
  void line_break();       // "\n" before the next text
  void cell_break();       // " | " between table cells of one row
  void paragraph_break();  // "\n\n" before the next text; that text starts a paragraph

  // Text appended between begin_heading and end_heading becomes a HeadingSpan (dropped when
  // empty). A heading is its own paragraph. Nested calls are ignored.
  void begin_heading(int level);
  void end_heading();

  // Moves the result into doc.text / headings / paragraph_starts.
  void finish(Document& doc);

  int64_t size() const { return static_cast<int64_t>(text_.size()); }

 private:
  // Separators only grow while pending (a paragraph break swallows a space).
  enum class Sep { None, Space, Cell, Line, Paragraph };
  void request(Sep sep);
  void flush_separator();
  void mark_visible();  // called before appending a non-whitespace character

  std::string text_;
  std::vector<HeadingSpan> headings_;
  std::vector<int64_t> paragraph_starts_;
  Sep pending_ = Sep::Paragraph;  // the first text starts a paragraph
  bool paragraph_mark_ = false;   // the next visible character starts a paragraph
  int heading_depth_ = 0;         // nesting of begin_heading calls
  int heading_level_ = 0;
  int64_t heading_begin_ = -1;  // offset of the heading's first character, -1 before it
};

}  // namespace xnai::rag::detail
