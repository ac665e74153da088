// English function words ("the", "is", "what" …), which carry no meaning for retrieval. Private
// to rag/: the retriever drops them from BM25 queries (they match most chunks, which makes
// full-text search slow and adds nothing to the ranking) and extractive answers ignore them
// when scoring sentences.
#pragma once
#include <string>
#include <string_view>

namespace xnai::rag::detail {

// `word` must be lower case.
bool is_stop_word(std::string_view word);

// The query with its English stop words removed (ASCII case-insensitive; words are runs of
// ASCII letters/digits and non-ASCII bytes, joined by single spaces). When nothing but stop
// words is left, the query is returned unchanged so that "to be or not to be" still searches.
std::string without_stop_words(std::string_view query);

}  // namespace xnai::rag::detail
