// The three subword algorithms, each applied to one run of raw text (special tokens already
// split out). They append ids to `out` and never throw for any input. Private to text/.
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

namespace xnai::text {

class Vocab;

// SentencePiece BPE over `text`, whose spaces are already U+2581: the highest-scoring adjacent
// pair that is a token merges first (ties: leftmost); pieces that are not tokens fall back to
// <0xXX> byte tokens.
void spm_tokenize(const Vocab& vocab, std::string_view text, std::vector<int32_t>& out);

// Byte-level BPE: pre-tokenize, then per word merge the adjacent pair of lowest merge rank
// (ties: leftmost) until none is left.
void bpe_tokenize(const Vocab& vocab, std::string_view text, std::vector<int32_t>& out);

// WordPiece (BERT): normalize and split into words, then greedy longest match per word.
void wpm_tokenize(const Vocab& vocab, std::string_view text, std::vector<int32_t>& out);

}  // namespace xnai::text
