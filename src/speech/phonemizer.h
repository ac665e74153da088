// Grapheme-to-phoneme conversion for Kokoro: libespeak-ng in IPA mode, then a mapping of
// espeak's symbols onto the phoneme vocabulary Kokoro v1.0 was trained on (misaki's
// symbol set, see ../shared/kokoro-spec.md §7 and docs/speech.md).
//
// Thread-safety: a Phonemizer may be used from several threads; calls into espeak-ng are
// serialised by one process-wide lock (espeak-ng has global state).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace xnai::speech {

// Languages with a G2P mapping: "en-us", "en-gb", "es", "fr-fr", "hi", "it", "pt-br".
const std::vector<std::string>& supported_languages();

// Returns `language` lower-cased when supported; else throws Error(NotFound) listing them.
std::string checked_language(std::string_view language);

// The language of a Kokoro voice from its first letter ("af_heart" → "en-us",
// "bm_george" → "en-gb", e/f/h/i/p → es, fr-fr, hi, it, pt-br); a mix "af_bella:2+af_sky"
// uses its first voice. Throws Error(NotFound) for j/z (no espeak G2P) and unknown letters.
std::string language_for_voice(std::string_view voice);

// True when `cp` is one of the 114 symbols of Kokoro's vocabulary (config.json "vocab").
bool in_kokoro_vocab(char32_t cp);
// `phonemes` without the code points Kokoro's vocabulary lacks (the tokenizer would drop them).
std::string filter_to_kokoro_vocab(std::string_view phonemes);
// Number of code points: what Kokoro's 510-phoneme limit and voice row index count.
size_t phoneme_length(std::string_view phonemes);

// espeak-ng IPA (with '^' ties between the letters of affricates and diphthongs) mapped onto
// misaki's symbols for `language`; the result is not yet vocab-filtered. Exposed for tests.
std::string map_espeak_ipa(std::string_view ipa, std::string_view language);

// One piece of phonemised text: a run of words between punctuation marks, or one mark.
struct PhonemeSpan {
  size_t text_begin = 0, text_end = 0;  // byte range in the input text
  std::string phonemes;                 // vocab-filtered; a mark is its own symbol ("," "—" "“")
  bool punctuation = false;
  bool space_before = false;            // the input had white space before this piece
};

class Phonemizer {
 public:
  // Throws Error(NotFound) for an unsupported language (see checked_language).
  explicit Phonemizer(std::string_view language);
  const std::string& language() const { return language_; }

  // Phonemes of `text` as Kokoro will see them: words separated by single spaces, the
  // punctuation Kokoro knows kept in place (« » become “ ”, "--" and " – " become —).
  std::string phonemize(std::string_view text) const;

  // The same, as spans. per_word: every word is its own span (phonemised alone), so a caller
  // can cut between any two words; otherwise a span is a whole run between punctuation.
  std::vector<PhonemeSpan> phonemize_spans(std::string_view text, bool per_word = false) const;

  // Joins spans the way phonemize() does.
  static std::string join(const std::vector<PhonemeSpan>& spans, size_t begin, size_t end);

 private:
  std::string language_;
};

}  // namespace xnai::speech
