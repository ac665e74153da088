// The pieces of answering shared by both kinds of answer: citations from hits, the pages of
// a span, citation markers in answer text, and sentence boundaries.
#include "rag/answer.h"

#include <unicode/brkiter.h>
#include <unicode/utext.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>

#include "core/error.h"
#include "rag/answer_internal.h"
#include "rag/loaders.h"

namespace xnai::rag {
namespace detail {

Citation citation_for_hit(const RetrievedHit& hit, int number) {
  const Chunk& ch = hit.hit.chunk;
  Citation c;
  c.number = number;
  c.chunk_id = ch.id;
  c.doc_id = ch.doc_id;
  c.source_path = hit.hit.document.source_path;
  c.title = hit.hit.document.title;
  c.page_first = ch.page_first;
  c.page_last = ch.page_last;
  c.begin = ch.begin;
  c.end = ch.end;
  c.score = hit.score;
  c.heading_path = ch.heading_path;
  c.text = ch.text;
  return c;
}

Citation citation_for_span(const RetrievedHit& hit, int number, int64_t begin, int64_t end,
                           const std::vector<PageSpan>* pages) {
  const Chunk& ch = hit.hit.chunk;
  if (begin < ch.begin || end < begin || end > ch.end)
    throw Error(ErrorKind::Internal, "citation span [" + std::to_string(begin) + ", " + std::to_string(end) +
                                         ") lies outside chunk " + ch.id);
  Citation c = citation_for_hit(hit, number);
  c.begin = begin;
  c.end = end;
  c.text = ch.text.substr(static_cast<size_t>(begin - ch.begin), static_cast<size_t>(end - begin));
  std::tie(c.page_first, c.page_last) = pages_of_span(ch, begin, end, pages);
  return c;
}

std::pair<int, int> pages_of_span(const Chunk& chunk, int64_t begin, int64_t end,
                                  const std::vector<PageSpan>* pages) {
  if (chunk.page_first == chunk.page_last || !pages || pages->empty())
    return {chunk.page_first, chunk.page_last};
  // The page holding a byte: the last page that begins at or before it (text between two
  // pages, the separator, counts with the page before).
  auto page_at = [&](int64_t off) {
    int p = chunk.page_first;
    for (const auto& ps : *pages)
      if (ps.begin <= off && ps.end > ps.begin) p = ps.page;
    return std::clamp(p, chunk.page_first, chunk.page_last);
  };
  const int first = page_at(begin);
  return {first, std::max(first, page_at(end > begin ? end - 1 : begin))};
}

std::string describe_source(const Citation& c) {
  std::string s = c.title;
  const std::string file = std::filesystem::path(c.source_path).filename().string();
  if (s.empty())
    s = file;
  else if (s != file)
    s += " — " + file;
  if (c.page_first > 0) {
    if (c.page_last > c.page_first)
      s += ", pages " + std::to_string(c.page_first) + "–" + std::to_string(c.page_last);
    else
      s += ", page " + std::to_string(c.page_first);
  }
  return s;
}

std::string collapse_space(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool space = false;
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

}  // namespace detail

PageLookup page_lookup_from_files() {
  auto cache = std::make_shared<std::map<std::string, std::optional<std::vector<PageSpan>>>>();
  return [cache](const DocumentInfo& doc) -> std::optional<std::vector<PageSpan>> {
    if (auto it = cache->find(doc.id); it != cache->end()) return it->second;
    std::optional<std::vector<PageSpan>> pages;
    LoadResult r = try_load_document(doc.source_path);
    if (r.document && r.document->content_hash == doc.content_hash) pages = std::move(r.document->pages);
    (*cache)[doc.id] = pages;
    return pages;
  };
}

// --- citation markers -----------------------------------------------------------------------

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Parses the inside of a bracket: "2", "1, 3", "2-4", "2–4", "Source 2", "sources 1 and 2".
// Returns false when it is not a citation (then the bracket is ordinary text).
bool parse_marker_body(std::string_view body, std::vector<int>& numbers) {
  constexpr int kMaxNumber = 999, kMaxRange = 50;
  size_t i = 0;
  auto skip_space = [&] {
    while (i < body.size() && body[i] == ' ') ++i;
  };
  auto starts_with_ci = [&](std::string_view word) {
    if (body.size() - i < word.size()) return false;
    for (size_t j = 0; j < word.size(); ++j)
      if (std::tolower(static_cast<unsigned char>(body[i + j])) != word[j]) return false;
    return true;
  };
  skip_space();
  if (starts_with_ci("sources"))
    i += 7;
  else if (starts_with_ci("source"))
    i += 6;
  skip_space();
  int pending_range_start = -1;
  bool expect_number = true;
  while (i < body.size()) {
    skip_space();
    if (i >= body.size()) break;
    if (expect_number) {
      if (!is_digit(body[i])) return false;
      int v = 0;
      while (i < body.size() && is_digit(body[i])) {
        v = v * 10 + (body[i] - '0');
        if (v > kMaxNumber) return false;
        ++i;
      }
      if (pending_range_start >= 0) {
        if (v < pending_range_start || v - pending_range_start > kMaxRange) return false;
        for (int n = pending_range_start + 1; n <= v; ++n) numbers.push_back(n);
        pending_range_start = -1;
      } else {
        numbers.push_back(v);
      }
      expect_number = false;
      continue;
    }
    // A separator between numbers.
    if (body[i] == ',' || body[i] == ';') {
      ++i;
    } else if (body[i] == '-') {
      ++i;
      pending_range_start = numbers.back();
    } else if (body.substr(i, 3) == "\xE2\x80\x93" || body.substr(i, 3) == "\xE2\x80\x94") {  // – —
      i += 3;
      pending_range_start = numbers.back();
    } else if (starts_with_ci("and")) {
      i += 3;
    } else {
      return false;
    }
    expect_number = true;
  }
  return !numbers.empty() && !expect_number;
}

}  // namespace

std::vector<CitationMarker> find_citation_markers(std::string_view text) {
  constexpr size_t kMaxBody = 48;
  std::vector<CitationMarker> out;
  size_t pos = 0;
  while ((pos = text.find('[', pos)) != std::string_view::npos) {
    const size_t close = text.find(']', pos + 1);
    if (close == std::string_view::npos) break;
    const std::string_view body = text.substr(pos + 1, close - pos - 1);
    CitationMarker m;
    if (body.size() <= kMaxBody && body.find('[') == std::string_view::npos &&
        parse_marker_body(body, m.numbers)) {
      m.begin = pos;
      m.end = close + 1;
      out.push_back(std::move(m));
      pos = close + 1;
    } else {
      ++pos;
    }
  }
  return out;
}

std::vector<Citation> cited_sources(std::string_view answer, const std::vector<Citation>& sources,
                                    std::vector<int>* unknown) {
  std::vector<Citation> out;
  std::vector<bool> cited(sources.size(), false);
  for (const auto& m : find_citation_markers(answer)) {
    for (int n : m.numbers) {
      if (n < 1 || n > static_cast<int>(sources.size())) {
        if (unknown && std::find(unknown->begin(), unknown->end(), n) == unknown->end())
          unknown->push_back(n);
        continue;
      }
      if (cited[static_cast<size_t>(n - 1)]) continue;
      cited[static_cast<size_t>(n - 1)] = true;
      out.push_back(sources[static_cast<size_t>(n - 1)]);
    }
  }
  return out;
}

// --- sentences ------------------------------------------------------------------------------

namespace {

bool is_space_byte(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// "===" / "---" under a line makes it a (setext) heading.
bool is_setext_underline(std::string_view line) {
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
  if (line.size() < 3 || (line[0] != '=' && line[0] != '-')) return false;
  return line.find_first_not_of(line[0]) == std::string_view::npos;
}

// Whether a line (without its newline) opens a list item or is a markdown heading.
bool starts_block(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  line.remove_prefix(i);
  if (line.empty() || is_setext_underline(line)) return true;  // a blank line, a heading's underline
  if (line[0] == '#' || line[0] == '>' || line[0] == '|') return true;
  if ((line[0] == '-' || line[0] == '*' || line[0] == '+') && line.size() > 1 && line[1] == ' ') return true;
  if (line.substr(0, 3) == "\xE2\x80\xA2") return true;  // •
  size_t d = 0;
  while (d < line.size() && is_digit(line[d])) ++d;
  return d > 0 && d < 4 && d + 1 < line.size() && (line[d] == '.' || line[d] == ')') && line[d + 1] == ' ';
}

bool is_heading_line(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && line[i] == ' ') ++i;
  return (i < line.size() && line[i] == '#') || is_setext_underline(line);
}

}  // namespace

std::vector<SentenceSpan> split_sentences(std::string_view text) {
  std::vector<SentenceSpan> out;
  if (text.empty()) return out;
  // ICU ends a sentence at every line break. Replace the line breaks that merely wrap a
  // paragraph by spaces — same byte length, so the offsets ICU reports stay valid.
  std::string prepared(text);
  size_t line_start = 0;
  for (size_t i = 0; i < prepared.size(); ++i) {
    if (prepared[i] != '\n') continue;
    const std::string_view line(text.substr(line_start, i - line_start));
    const size_t next_end = std::min(text.find('\n', i + 1), text.size());
    const std::string_view next(text.substr(i + 1, next_end - i - 1));
    bool blank_line = true;
    for (char c : line) blank_line = blank_line && is_space_byte(c);
    if (!blank_line && !starts_block(next) && !is_heading_line(line)) prepared[i] = ' ';
    line_start = i + 1;
  }

  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<icu::BreakIterator> it(
      icu::BreakIterator::createSentenceInstance(icu::Locale("en@ss=standard"), status));
  if (U_FAILURE(status))
    throw Error(ErrorKind::Internal, std::string("ICU sentence iterator: ") + u_errorName(status));
  UText* ut = utext_openUTF8(nullptr, prepared.data(), static_cast<int64_t>(prepared.size()), &status);
  if (U_FAILURE(status))
    throw Error(ErrorKind::Internal, std::string("ICU utext_openUTF8: ") + u_errorName(status));
  it->setText(ut, status);
  if (U_FAILURE(status)) {
    utext_close(ut);
    throw Error(ErrorKind::Internal, std::string("ICU setText: ") + u_errorName(status));
  }
  int32_t start = it->first();
  for (int32_t end = it->next(); end != icu::BreakIterator::DONE; start = end, end = it->next()) {
    int64_t b = start, e = end;
    while (b < e && is_space_byte(text[static_cast<size_t>(b)])) ++b;
    while (e > b && is_space_byte(text[static_cast<size_t>(e - 1)])) --e;
    if (e > b) out.push_back({b, e});
  }
  utext_close(ut);
  return out;
}

}  // namespace xnai::rag
