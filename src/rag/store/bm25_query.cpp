#include "rag/store/bm25_query.h"

#include <unordered_set>
#include <vector>

namespace xnai::rag::store {
namespace {

// Length of the term character at text[i]: an ASCII letter/digit (1) or a well-formed
// UTF-8 sequence of a non-ASCII character (2–4); 0 for a separator or a malformed byte,
// so invalid UTF-8 never reaches SQLite.
size_t term_char(std::string_view t, size_t i) {
  const auto c = static_cast<unsigned char>(t[i]);
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return 1;
  size_t n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
  if (c >= 0xf5) n = 0;
  if (n == 0 || i + n > t.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(t[i + k]) & 0xc0) != 0x80) return 0;
  return n;
}

}  // namespace

std::vector<std::string> fts5_query_terms(std::string_view text, size_t max_terms) {
  std::vector<std::string> terms;
  std::unordered_set<std::string> seen;
  size_t i = 0;
  while (i < text.size() && terms.size() < max_terms) {
    std::string term;
    while (i < text.size()) {
      const size_t n = term_char(text, i);
      if (n == 0) break;
      term.append(text.substr(i, n));
      i += n;
    }
    if (term.empty()) {
      ++i;
      continue;
    }
    std::string key = term;
    for (char& c : key)
      if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
    if (seen.insert(key).second) terms.push_back(std::move(term));
  }
  return terms;
}

std::string fts5_match_expression(const std::vector<std::string>& terms) {
  std::string out;
  for (const auto& t : terms) {
    if (!out.empty()) out += " OR ";
    // A term holds no '"' (not a term character), so quoting needs no escaping.
    out += '"';
    out += t;
    out += '"';
  }
  return out;
}

std::string fts5_match_expression(std::string_view text, size_t max_terms) {
  return fts5_match_expression(fts5_query_terms(text, max_terms));
}

}  // namespace xnai::rag::store
