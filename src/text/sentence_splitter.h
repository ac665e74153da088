// ICU sentence and word boundaries over UTF-8 text, as byte offsets (used by rag/ and speech/).
// Thread-safety: each thread uses its own break iterators.
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

namespace xnai::text {

// Byte offsets in `text` where a sentence starts, ascending, always holding 0 for a non-empty
// text and never text.size(). ICU's en_US sentence rules apply, with ICU's standard English
// abbreviation suppressions ("Mr.", "Mrs.", "Prof." …) and a few more ("Dr.", "St.", "Fig.",
// "vs." …: kExtraAbbreviations); a single "\n" is read as a space, so lines
// wrapped by a PDF or an editor do not end sentences (paragraph breaks are the chunker's job).
std::vector<int64_t> sentence_starts(std::string_view text);

// ICU word-break boundaries inside [begin, end) of `text`, ascending, including begin and
// end: the places where text may be cut without splitting a word.
std::vector<int64_t> word_boundaries(std::string_view text, int64_t begin, int64_t end);

}  // namespace xnai::text
