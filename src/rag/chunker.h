// Structure-following chunking: a Document is cut into chunks that respect its headings,
// paragraphs and sentences, bounded in tokens, with a small overlap, each pointing at the
// exact byte range of Document::text it holds (so a citation shows the text that was used).
//
// How a document is cut (see docs/rag-loaders.md for the longer story):
//  1. Sections: the text is split at every heading; a chunk never spans two sections and
//     carries its section's heading path ("Guide > Install"). A section holding nothing but
//     its heading line is joined to the following subsection, so a heading never stands alone.
//  2. Paragraphs (Document::paragraph_starts plus blank lines) are packed whole, greedily,
//     up to max_tokens; a paragraph that does not fit starts the next chunk, unless the
//     current chunk is still under half full, in which case it is split by sentences to fill it.
//  3. A paragraph longer than max_tokens is split into sentences (ICU sentence breaks,
//     en_US, with ICU's English abbreviation list plus a few more, so "Dr. Smith" stays one
//     sentence — see text/sentence_splitter.h; single
//     newlines count as spaces), and a sentence longer than max_tokens into runs of words
//     (ICU word breaks). Nothing is ever cut inside a word or a UTF-8 character; a single
//     word longer than max_tokens becomes a chunk of its own (the only way to exceed it).
//  4. Overlap: within a section, each chunk after the first starts with the shortest run of
//     whole trailing sentences of the previous chunk holding >= overlap_tokens tokens. If
//     that run is longer than min(2 * overlap_tokens, max_tokens / 2), the trailing words
//     holding >= overlap_tokens are repeated instead. No overlap is added when it and the
//     chunk's first paragraph or sentence would not fit in max_tokens together.
//
// Contract: chunks are in text order, begins and ends strictly increase, every non-whitespace
// byte of the text lies in at least one chunk, chunk.text == text.substr(begin, end - begin)
// (no leading/trailing whitespace), n_tokens == count_tokens(chunk.text) <= max_tokens (bar
// one over-long word), and the chunk id depends only on (doc id, begin, end, text) — so
// re-chunking unchanged text with the same options gives the same ids.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "rag/document.h"

namespace xnai::rag {

struct ChunkerOptions {
  int max_tokens = 256;     // >= 1
  int overlap_tokens = 32;  // 0 (no overlap) … max_tokens / 2
  // Tokens in a piece of text, e.g. the embedding model's tokenizer (it may include the
  // model's special tokens: their count, taken as count_tokens(""), is added once per chunk).
  // Empty: approx_token_count. Must be thread-safe if chunk_document runs on several threads.
  std::function<int(std::string_view)> count_tokens;
};

// A fast tokenizer-free estimate, close to a WordPiece/BPE count for English: 1.3 tokens per
// word (a word longer than 10 characters counts as one word per 10 characters), one per
// punctuation mark or symbol, one per CJK ideograph or kana. Any bytes are accepted.
int approx_token_count(std::string_view text);

// Cuts `doc` into chunks (none for an empty or all-whitespace text). Throws
// Error(InvalidArgument) when the options are out of range.
std::vector<Chunk> chunk_document(const Document& doc, const ChunkerOptions& opts = {});

// The stable chunk id: the first 32 hex digits of sha256(doc_id "\n" begin "\n" end "\n" text).
std::string make_chunk_id(const std::string& doc_id, int64_t begin, int64_t end, std::string_view text);

}  // namespace xnai::rag
