// Turns free text into a safe FTS5 MATCH expression. User text such as
// `C++ "quoted" AND OR NEAR(` must never reach FTS5's query syntax: every term becomes a
// double-quoted string (FTS5 reads it as a phrase of the tokens inside, so keywords,
// operators, column filters and prefix stars lose their meaning) and terms are OR-ed, so a
// chunk matching any term is a candidate and BM25 ranks chunks matching more terms higher.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace xnai::rag::store {

// Terms are maximal runs of ASCII letters/digits and non-ASCII bytes (UTF-8 sequences), the
// characters the unicode61 tokenizer keeps; duplicates (ASCII case-insensitively) are
// dropped and at most max_terms kept. Returns "" when the text has no term.
std::string fts5_match_expression(std::string_view text, size_t max_terms = 32);

// The same in two steps: the terms (each becomes one phrase of the expression, in this
// order, which is FTS5's phrase numbering), then the expression of given terms.
std::vector<std::string> fts5_query_terms(std::string_view text, size_t max_terms = 32);
std::string fts5_match_expression(const std::vector<std::string>& terms);

}  // namespace xnai::rag::store
