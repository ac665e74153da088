// The plain data that flows through RAG: documents as loaded from disk, the chunks cut
// from them, and the metadata filters applied at search time. No behaviour lives here.
//
// Offsets: every character range is a half-open [begin, end) range of BYTE offsets into
// Document::text (UTF-8), always on character boundaries, so text.substr(begin, end-begin)
// is exactly the text a chunk or citation refers to.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace xnai::rag {

struct PageSpan {
  int page = 0;         // 1-based page number
  int64_t begin = 0;    // byte range of this page in Document::text
  int64_t end = 0;
};

// A heading of a structured document (markdown #, html h1–h6, docx Heading n).
struct HeadingSpan {
  int level = 1;        // 1 = top level
  std::string title;
  int64_t begin = 0;    // byte offset of the heading line in Document::text
};

struct Document {
  std::string id;                // stable: hex sha256 of the absolute source path
  std::string source_path;       // absolute, normalised
  std::string title;             // <title>, first heading, PDF info, or the file name
  std::string type;              // "txt", "md", "html", "pdf", "docx"
  int64_t mtime = 0;             // seconds since the epoch
  std::string content_hash;      // hex sha256 of the file's bytes
  std::string text;              // extracted plain text (UTF-8, normalised newlines)
  std::vector<PageSpan> pages;   // empty for unpaginated types
  std::vector<HeadingSpan> headings;
  std::vector<int64_t> paragraph_starts;  // byte offsets where paragraphs begin (structure hints)
  std::map<std::string, std::string> metadata;  // free-form: "tags" (comma-separated), "author", …
};

struct Chunk {
  std::string id;            // stable: hex of sha256(doc id, begin, end, text) truncated to 32 chars
  std::string doc_id;
  int index = 0;             // position within the document
  int64_t begin = 0;         // byte range in Document::text (see the file comment)
  int64_t end = 0;
  int page_first = 0;        // 0 when unpaginated
  int page_last = 0;
  std::string heading_path;  // "Intro > Setup" (the headings this chunk sits under)
  std::string text;          // == Document::text.substr(begin, end - begin)
  int n_tokens = 0;          // as counted by the chunker's token counter
};

// --- metadata filters ---------------------------------------------------------------------
// Fields every chunk has: "source" (path), "type", "title", "date" (document mtime, epoch
// seconds; filters may give ISO dates), "page", "tags" (matches when the tag list contains
// the value), "doc_id"; any other name refers to Document::metadata.
//
// Semantics every backend implements (the store test suite checks them):
//   Eq    "tags": the list holds the value; "page": the chunk's page range covers it (never
//         true for unpaginated chunks); "date" with a string value: an ISO date or date-time
//         (UTC), matching the whole day for a date; metadata keys: a number value compares
//         numerically with values that parse as numbers, a string value compares exactly.
//   Ne    == Not(Eq), so a document without the metadata key matches.
//   In    any of the values is Eq.
//   Range inclusive numeric bounds; "page": the page range overlaps [min, max]; metadata
//         keys: only values that parse as numbers match.
//   Contains (added for `field ~ text`): the field's text contains values[0] as a substring
//         (case-sensitive); "tags": some tag contains it.
using FilterValue = std::variant<std::string, double>;

struct Filter {
  enum class Op { All, Eq, Ne, In, Range, And, Or, Not, Contains };
  Op op = Op::All;                    // All: matches everything
  std::string field;                  // Eq/Ne/In/Range
  std::vector<FilterValue> values;    // Eq/Ne/Contains: 1 value; In: the list
  std::optional<double> min, max;     // Range: inclusive bounds (numbers; dates as epoch seconds)
  std::vector<Filter> children;       // And/Or: any count; Not: one

  bool is_all() const { return op == Op::All; }
};

}  // namespace xnai::rag
