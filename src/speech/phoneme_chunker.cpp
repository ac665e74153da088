#include "speech/phoneme_chunker.h"

#include "core/error.h"
#include "speech/utf8.h"
#include "text/sentence_splitter.h"

namespace xnai::speech {
namespace {

using detail::utf8_append;
using detail::utf8_next;

bool closing(char32_t c) { return c == ')' || c == U'”' || c == '"'; }

// How good a place the end of `s` is to cut: 3 after . ! ? …, 2 after : ;, 1 after , —,
// 0 otherwise; closing brackets and quotes after the mark do not change it. -1 when `s`
// holds only closing marks (the caller looks at the span before).
int cut_class_of(std::string_view s) {
  std::u32string cps;
  for (size_t pos = 0; pos < s.size();) cps += utf8_next(s, pos);
  while (!cps.empty() && closing(cps.back())) cps.pop_back();
  if (cps.empty()) return -1;
  switch (cps.back()) {
    case '.': case '!': case '?': case U'…': return 3;
    case ':': case ';': return 2;
    case ',': case U'—': return 1;
    default: return 0;
  }
}

int cut_class(const std::vector<PhonemeSpan>& spans, size_t k) {
  for (size_t i = k + 1; i-- > 0;) {
    const int c = cut_class_of(spans[i].phonemes);
    if (c >= 0) return c;
  }
  return 0;
}

bool opening(std::string_view s) { return s == "(" || s == "\xE2\x80\x9C"; }  // ( “

// A cut between spans k and k+1 keeps words whole and marks with the word they belong to:
// there must be white space or a mark between them, the next span must not be a mark glued
// to this one, and an opening bracket or quote stays with what follows.
bool cut_allowed_after(const std::vector<PhonemeSpan>& spans, size_t k) {
  if (k + 1 >= spans.size()) return true;
  const PhonemeSpan& next = spans[k + 1];
  if (next.punctuation && !next.space_before) return false;
  if (spans[k].punctuation && opening(spans[k].phonemes)) return false;
  return next.space_before || spans[k].punctuation;
}

size_t added_length(const std::vector<PhonemeSpan>& spans, size_t i, bool first) {
  if (spans[i].phonemes.empty()) return 0;
  return phoneme_length(spans[i].phonemes) + (spans[i].space_before && !first ? 1 : 0);
}

// Cuts one over-long span's phonemes into pieces of at most `max` code points.
std::vector<std::string> hard_split(std::string_view s, size_t max) {
  std::vector<std::string> out(1);
  size_t n = 0;
  for (size_t pos = 0; pos < s.size();) {
    if (n == max) out.emplace_back(), n = 0;
    utf8_append(utf8_next(s, pos), out.back());
    ++n;
  }
  return out;
}

// Greedy packing of spans into ranges whose joined phonemes fit `max`; see the header for
// where cuts go. Returns [begin, end) span ranges; an over-long single span is its own range.
std::vector<std::pair<size_t, size_t>> pack(const std::vector<PhonemeSpan>& spans, size_t max) {
  std::vector<std::pair<size_t, size_t>> ranges;
  size_t start = 0;
  while (start < spans.size()) {
    size_t len = 0, j = start;
    while (j < spans.size()) {
      const size_t add = added_length(spans, j, len == 0);
      if (len + add > max) break;
      len += add;
      ++j;
    }
    if (j == spans.size()) {
      ranges.emplace_back(start, j);
      break;
    }
    if (j == start) {  // one span longer than the limit
      ranges.emplace_back(start, start + 1);
      start += 1;
      continue;
    }
    // Best cut in (start, j]: the highest class, the last of that class; else the last word
    // boundary; else (no boundary at all) before span j.
    size_t cut = j, last_boundary = 0;
    int best = 0;
    for (size_t k = start; k < j; ++k) {
      if (!cut_allowed_after(spans, k)) continue;
      last_boundary = k + 1;
      const int c = cut_class(spans, k);
      if (c > 0 && c >= best) best = c, cut = k + 1;
    }
    if (best == 0 && last_boundary > start) cut = last_boundary;
    ranges.emplace_back(start, cut);
    start = cut;
  }
  return ranges;
}

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r' || s[b] == '\n')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r' || s[e - 1] == '\n')) --e;
  return std::string(s.substr(b, e - b));
}

}  // namespace

std::vector<std::string> split_sentences(std::string_view text) {
  std::vector<std::string> out;
  size_t line_begin = 0;
  while (line_begin <= text.size()) {
    size_t line_end = text.find('\n', line_begin);
    if (line_end == std::string_view::npos) line_end = text.size();
    const std::string_view line = text.substr(line_begin, line_end - line_begin);
    const std::vector<int64_t> starts = text::sentence_starts(line);
    for (size_t i = 0; i < starts.size(); ++i) {
      const size_t b = static_cast<size_t>(starts[i]);
      const size_t e = i + 1 < starts.size() ? static_cast<size_t>(starts[i + 1]) : line.size();
      std::string s = trim(line.substr(b, e - b));
      if (!s.empty()) out.push_back(std::move(s));
    }
    line_begin = line_end + 1;
  }
  return out;
}

PhonemeChunker::PhonemeChunker(const Phonemizer& phonemizer, ChunkOptions options)
    : phonemizer_(phonemizer), options_(options) {
  if (options_.max_phonemes < 16)
    throw Error(ErrorKind::InvalidArgument, "max_phonemes " + std::to_string(options_.max_phonemes) + " is too small");
}

std::vector<SpeechChunk> PhonemeChunker::chunk_sentence(std::string_view sentence, size_t index) const {
  std::vector<PhonemeSpan> spans = phonemizer_.phonemize_spans(sentence);
  std::string joined = Phonemizer::join(spans, 0, spans.size());
  if (phoneme_length(joined) <= options_.max_phonemes) {
    if (joined.empty()) return {};
    return {{std::string(sentence), std::move(joined), index}};
  }
  // Too long: phonemise word by word so that a cut can fall between any two words.
  spans = phonemizer_.phonemize_spans(sentence, /*per_word=*/true);
  std::vector<SpeechChunk> out;
  for (const auto& [b, e] : pack(spans, options_.max_phonemes)) {
    const std::string text = trim(sentence.substr(spans[b].text_begin, spans[e - 1].text_end - spans[b].text_begin));
    const std::string ps = Phonemizer::join(spans, b, e);
    if (ps.empty()) continue;
    if (phoneme_length(ps) <= options_.max_phonemes) {
      out.push_back({text, ps, index});
    } else {
      for (auto& piece : hard_split(ps, options_.max_phonemes)) out.push_back({text, std::move(piece), index});
    }
  }
  return out;
}

std::vector<SpeechChunk> PhonemeChunker::chunk_text(std::string_view text) const {
  std::vector<SpeechChunk> out;
  const std::vector<std::string> sentences = split_sentences(text);
  for (size_t i = 0; i < sentences.size(); ++i) {
    for (SpeechChunk& c : chunk_sentence(sentences[i], i)) {
      if (options_.merge_sentences && !out.empty() && out.back().sentence != c.sentence &&
          phoneme_length(out.back().phonemes) + 1 + phoneme_length(c.phonemes) <= options_.max_phonemes) {
        out.back().text += ' ' + c.text;
        out.back().phonemes += ' ' + c.phonemes;
        out.back().sentence = c.sentence;  // later merges compare with the last sentence joined
        continue;
      }
      out.push_back(std::move(c));
    }
  }
  return out;
}

std::vector<std::string> split_phonemes(std::string_view phonemes, size_t max_phonemes) {
  const std::string clean = filter_to_kokoro_vocab(phonemes);
  std::vector<PhonemeSpan> spans;  // words as written, marks glued to them
  size_t i = 0;
  bool space = false;
  while (i < clean.size()) {
    if (clean[i] == ' ') {
      space = true;
      ++i;
      continue;
    }
    const size_t b = i;
    while (i < clean.size() && clean[i] != ' ') ++i;
    spans.push_back({b, i, clean.substr(b, i - b), false, space});
    space = false;
  }
  std::vector<std::string> out;
  for (const auto& [b, e] : pack(spans, max_phonemes)) {
    std::string ps = Phonemizer::join(spans, b, e);
    if (phoneme_length(ps) <= max_phonemes) {
      out.push_back(std::move(ps));
    } else {
      for (auto& piece : hard_split(ps, max_phonemes)) out.push_back(std::move(piece));
    }
  }
  return out;
}

}  // namespace xnai::speech
