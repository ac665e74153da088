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
// pages follow (`pages`: the document's page spans, or null when unknown). Requires
// chunk.begin <= begin <= end <= chunk.end.
Citation citation_for_span(const RetrievedHit& hit, int number, int64_t begin, int64_t end,
                           const std::vector<PageSpan>* pages = nullptr);

// Pages touched by the document span [begin, end) inside `chunk`: the chunk's own page when
// it has one, else looked up in `pages` (null: the chunk's page range).
std::pair<int, int> pages_of_span(const Chunk& chunk, int64_t begin, int64_t end,
                                  const std::vector<PageSpan>* pages);

// "title — file.pdf, pages 3–4" as shown to people and models.
std::string describe_source(const Citation& c);

// Runs of white space collapsed to one space, trimmed (for display; citations keep the
// exact text).
std::string collapse_space(std::string_view text);

}  // namespace xnai::rag::detail
