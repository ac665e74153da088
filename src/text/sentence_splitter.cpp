// ICU BreakIterator over UTF-8 through UText, whose native indexes are byte offsets.
#include "text/sentence_splitter.h"

#include <unicode/brkiter.h>
#include <unicode/filteredbrk.h>
#include <unicode/locid.h>
#include <unicode/utext.h>

#include <algorithm>
#include <memory>
#include <string>

#include "core/error.h"

namespace xnai::text {
namespace {

struct UTextCloser {
  void operator()(UText* t) const { utext_close(t); }
};

// Abbreviations that almost never end an English sentence but that ICU's standard list
// (Mr., Mrs., Ms., Prof., Capt. …) lacks. Case matters: "Fig. 3" is kept, "fig." is not.
// (Entries with an inner period, like "e.g.", are not matched by ICU's filter: "e.g. Then"
// still ends a sentence, as in plain ICU.)
constexpr const char* kExtraAbbreviations[] = {"Dr.",  "Drs.", "Jr.",   "Sr.",  "St.",  "Mt.",  "Gen.",
                                               "Col.", "Lt.",  "Sgt.",  "Gov.", "Sen.", "Rep.", "Rev.",
                                               "Hon.", "Fig.", "Figs.", "Eq.",  "Eqs.", "Ref.", "Refs.",
                                               "Vol.", "Sec.", "Ch.",   "pp.",  "vs.",  "cf.",  "al."};

void check(UErrorCode status, const char* what) {
  if (U_FAILURE(status))
    throw Error(ErrorKind::Internal, std::string("ICU ") + what + ": " + u_errorName(status));
}

std::unique_ptr<icu::BreakIterator> make_sentence_iterator() {
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<icu::FilteredBreakIteratorBuilder> builder(
      icu::FilteredBreakIteratorBuilder::createInstance(icu::Locale("en"), status));  // the standard list
  check(status, "FilteredBreakIteratorBuilder");
  for (const char* a : kExtraAbbreviations)
    builder->suppressBreakAfter(icu::UnicodeString::fromUTF8(a), status);
  check(status, "suppressBreakAfter");
  std::unique_ptr<icu::BreakIterator> base(
      icu::BreakIterator::createSentenceInstance(icu::Locale("en_US"), status));
  check(status, "createSentenceInstance");
  std::unique_ptr<icu::BreakIterator> filtered(builder->build(base.release(), status));  // takes ownership
  check(status, "build");
  return filtered;
}

icu::BreakIterator& iterator(bool sentences) {
  // Creating an iterator loads rules and the suppression list: once per thread and kind.
  thread_local std::unique_ptr<icu::BreakIterator> sentence, word;
  auto& slot = sentences ? sentence : word;
  if (!slot) {
    if (sentences) {
      slot = make_sentence_iterator();
    } else {
      UErrorCode status = U_ZERO_ERROR;
      slot.reset(icu::BreakIterator::createWordInstance(icu::Locale("en_US"), status));
      check(status, "createWordInstance");
    }
  }
  return *slot;
}

// Boundaries of `text` by `it`, shifted by `base`.
std::vector<int64_t> boundaries(icu::BreakIterator& it, std::string_view text, int64_t base) {
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<UText, UTextCloser> ut(
      utext_openUTF8(nullptr, text.data(), static_cast<int64_t>(text.size()), &status));
  if (U_FAILURE(status))
    throw Error(ErrorKind::Internal, std::string("ICU utext_openUTF8: ") + u_errorName(status));
  it.setText(ut.get(), status);
  if (U_FAILURE(status)) throw Error(ErrorKind::Internal, std::string("ICU setText: ") + u_errorName(status));
  std::vector<int64_t> out;
  for (int32_t p = it.first(); p != icu::BreakIterator::DONE; p = it.next()) out.push_back(base + p);
  // Leave the iterator pointing at nothing that dies with `ut`.
  static const char kEmpty[1] = {0};
  std::unique_ptr<UText, UTextCloser> empty(utext_openUTF8(nullptr, kEmpty, 0, &status));
  it.setText(empty.get(), status);
  return out;
}

}  // namespace

std::vector<int64_t> sentence_starts(std::string_view text) {
  if (text.empty()) return {};
  std::string scratch(text);
  std::replace(scratch.begin(), scratch.end(), '\n', ' ');
  std::vector<int64_t> b = boundaries(iterator(true), scratch, 0);
  if (!b.empty() && b.back() == static_cast<int64_t>(text.size())) b.pop_back();
  if (b.empty() || b.front() != 0) b.insert(b.begin(), 0);
  return b;
}

std::vector<int64_t> word_boundaries(std::string_view text, int64_t begin, int64_t end) {
  if (end <= begin) return {begin};
  std::vector<int64_t> b = boundaries(
      iterator(false), text.substr(static_cast<size_t>(begin), static_cast<size_t>(end - begin)), begin);
  if (b.empty() || b.front() != begin) b.insert(b.begin(), begin);
  if (b.back() != end) b.push_back(end);
  return b;
}

}  // namespace xnai::text
