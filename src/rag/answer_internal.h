// Private helpers shared by the answer_*.cpp files (not part of the rag interface).
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "rag/answer.h"

namespace xnai::rag::detail {

// A citation for the whole chunk of `hit`, numbered `number`.
Citation citation_for_hit(const RetrievedHit& hit, int number);

// Narrows a chunk citation to [begin, end) (document byte offsets inside the chunk): text and
// pages follow. Requires chunk.begin <= begin <= end <= chunk.end.
Citation citation_for_span(const RetrievedHit& hit, int number, int64_t begin, int64_t end);

// Pages touched by the document span [begin, end) inside `chunk` (see the .cpp for how pages
// are told apart inside a chunk that spans several).
std::pair<int, int> pages_of_span(const Chunk& chunk, int64_t begin, int64_t end);

// "title — file.pdf, pages 3–4" as shown to people and models.
std::string describe_source(const Citation& c);

// Runs of white space collapsed to one space, trimmed (for display; citations keep the
// exact text).
std::string collapse_space(std::string_view text);

}  // namespace xnai::rag::detail
