// Extractive answers: with no LLM, quote the sentences of the top hits that best match the
// question. Candidates are the sentences of the top hits' chunks; each is scored by BM25 over
// that small sentence collection (query terms case-folded, English stop words and plural
// endings folded away), scaled up by how much of the question's weight it covers and down by
// its hit's rank.
#include <unicode/brkiter.h>
#include <unicode/unistr.h>
#include <unicode/utext.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"
#include "rag/answer.h"
#include "rag/answer_internal.h"
#include "rag/stop_words.h"

namespace xnai::rag {
namespace {

// A light English stemmer, applied alike to question and sentences so that "hike", "hikers"
// and "hiking" meet, as do "erupt" and "erupted": plural and -ed/-ing/-er(s) endings go, then
// a final "e" and a doubled final consonant ("stopped" → "stop"). Stems keep >= 3 letters.
// Collisions it makes ("water" ~ "wat") cost little among the few sentences scored.
void stem(std::string& w) {
  auto ends = [&](std::string_view suf) { return w.size() >= suf.size() + 3 && w.ends_with(suf); };
  if (ends("ies")) {
    w.replace(w.size() - 3, 3, "y");
    return;
  }
  for (std::string_view suf : {"ings", "ers", "ing", "ed", "er", "es", "s"}) {
    if (!ends(suf)) continue;
    if (suf == "s" && (w.ends_with("ss") || w.ends_with("us") || w.ends_with("is"))) break;
    w.resize(w.size() - suf.size());
    break;
  }
  if (w.size() > 3 && w.back() == 'e') w.pop_back();
  const size_t n = w.size();
  if (n > 3 && w[n - 1] == w[n - 2] && std::string_view("bdfgmnprt").find(w[n - 1]) != std::string_view::npos)
    w.pop_back();
}

// Case-folded, stemmed words of UTF-8 text (ICU word boundaries; letters and numbers only);
// stop words left out when asked.
std::vector<std::string> words_of(std::string_view text, bool drop_stop_words = false) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  UErrorCode status = U_ZERO_ERROR;
  // One iterator per thread: creating one costs far more than iterating a sentence.
  thread_local std::unique_ptr<icu::BreakIterator> it(
      icu::BreakIterator::createWordInstance(icu::Locale::getRoot(), status));
  if (!it) throw Error(ErrorKind::Internal, std::string("ICU word iterator: ") + u_errorName(status));
  UText* ut = utext_openUTF8(nullptr, text.data(), static_cast<int64_t>(text.size()), &status);
  it->setText(ut, status);
  if (U_FAILURE(status)) {
    utext_close(ut);
    throw Error(ErrorKind::Internal, std::string("ICU word iterator: ") + u_errorName(status));
  }
  int32_t start = it->first();
  for (int32_t end = it->next(); end != icu::BreakIterator::DONE; start = end, end = it->next()) {
    if (it->getRuleStatus() < UBRK_WORD_NUMBER) continue;  // spaces and punctuation
    std::string w;
    icu::UnicodeString::fromUTF8(icu::StringPiece(text.data() + start, end - start))
        .foldCase()
        .toUTF8String(w);
    if (drop_stop_words && detail::is_stop_word(w)) continue;
    stem(w);
    out.push_back(std::move(w));
  }
  utext_close(ut);
  return out;
}

struct Candidate {
  size_t hit = 0;              // index into hits
  int64_t begin = 0, end = 0;  // document byte span
  std::vector<std::string> words;
  double score = 0;
  bool looks_like_heading = false;
};

bool ends_like_sentence(std::string_view s) {
  while (!s.empty() && (s.back() == '"' || s.back() == '\'' || s.back() == ')')) s.remove_suffix(1);
  if (s.empty()) return false;
  const char c = s.back();
  return c == '.' || c == '!' || c == '?' || c == ':' || c == ';' || s.ends_with("\xE2\x80\xA6") ||
         s.ends_with("\xE3\x80\x82");  // … 。
}

}  // namespace

Answer answer_extractive(const std::string& question, const std::vector<RetrievedHit>& hits,
                         const ExtractiveOptions& opts, const AnswerTextCallback& on_text) {
  Answer ans;
  ans.extractive = true;
  if (hits.empty()) {
    ans.finish_reason = "no_hits";
    return ans;
  }
  ans.finish_reason = "extractive";

  // Query terms: distinct, stop words dropped unless nothing else is left.
  std::vector<std::string> terms;
  {
    auto words = words_of(question, /*drop_stop_words=*/true);
    if (words.empty()) words = words_of(question);
    for (const auto& w : words)
      if (std::find(terms.begin(), terms.end(), w) == terms.end()) terms.push_back(w);
  }

  // Candidate sentences of the top hits.
  std::vector<Candidate> cands;
  const size_t n_hits = std::min(hits.size(), static_cast<size_t>(std::max(1, opts.max_hits)));
  for (size_t h = 0; h < n_hits; ++h) {
    const Chunk& ch = hits[h].hit.chunk;
    for (const auto& s : split_sentences(ch.text)) {
      Candidate c;
      c.hit = h;
      c.begin = ch.begin + s.begin;
      c.end = ch.begin + s.end;
      const std::string_view txt(ch.text.data() + s.begin, static_cast<size_t>(s.end - s.begin));
      c.words = words_of(txt);
      if (c.words.empty()) continue;
      c.looks_like_heading = !ends_like_sentence(txt) && c.words.size() < 8;
      cands.push_back(std::move(c));
    }
  }

  // BM25 over the candidate sentences.
  constexpr double k1 = 1.2, b = 0.75;
  const double n_docs = static_cast<double>(cands.size());
  double avg_len = 0;
  std::unordered_map<std::string, int> df;
  for (const auto& c : cands) {
    avg_len += static_cast<double>(c.words.size());
    std::unordered_set<std::string_view> seen;
    for (const auto& w : c.words)
      if (seen.insert(w).second) ++df[w];
  }
  avg_len = cands.empty() ? 1 : avg_len / n_docs;
  auto idf = [&](const std::string& t) {
    const auto it = df.find(t);
    const double d = it == df.end() ? 0 : it->second;
    return std::log(1.0 + (n_docs - d + 0.5) / (d + 0.5));
  };
  double total_idf = 0;
  for (const auto& t : terms) total_idf += idf(t);
  for (auto& c : cands) {
    double bm25 = 0, covered = 0;
    for (const auto& t : terms) {
      const double tf = static_cast<double>(std::count(c.words.begin(), c.words.end(), t));
      if (tf == 0) continue;
      const double w = idf(t);
      covered += w;
      bm25 += w * tf * (k1 + 1) / (tf + k1 * (1 - b + b * static_cast<double>(c.words.size()) / avg_len));
    }
    const double coverage = total_idf > 0 ? covered / total_idf : 0;
    const double rank_prior = 1.0 / (1.0 + 0.25 * static_cast<double>(c.hit));
    c.score = bm25 * (0.5 + coverage) * rank_prior;
    if (c.looks_like_heading) c.score *= 0.3;
  }

  // Best first; ties keep hit rank and document order.
  std::vector<size_t> order(cands.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b2) { return cands[a].score > cands[b2].score; });

  std::vector<size_t> picked;
  size_t chars = 0;
  std::unordered_set<std::string> picked_text;
  const double best = order.empty() ? 0 : cands[order[0]].score;
  for (size_t i : order) {
    const Candidate& c = cands[i];
    if (static_cast<int>(picked.size()) >= opts.max_sentences) break;
    // Weak matches (a common word shared) would only dilute the answer.
    if (c.score <= 0 || c.score < 0.4 * best) break;
    if (c.looks_like_heading) continue;
    const size_t len = static_cast<size_t>(c.end - c.begin);
    if (!picked.empty() && chars + len > static_cast<size_t>(opts.max_chars)) continue;
    // The same sentence reached twice (overlapping chunks, copied files) is quoted once.
    bool overlaps = false;
    for (size_t p : picked) {
      const Candidate& o = cands[p];
      overlaps = overlaps || (hits[o.hit].hit.chunk.doc_id == hits[c.hit].hit.chunk.doc_id &&
                              c.begin < o.end && o.begin < c.end);
    }
    const Chunk& ch = hits[c.hit].hit.chunk;
    const std::string key = detail::collapse_space(
        std::string_view(ch.text).substr(static_cast<size_t>(c.begin - ch.begin), len));
    if (overlaps || !picked_text.insert(key).second) continue;
    picked.push_back(i);
    chars += len;
  }
  // No sentence shares a word with the question (a purely semantic vector match): quote the
  // opening sentence of the best hit rather than nothing.
  if (picked.empty() && !cands.empty()) {
    size_t first = 0;
    while (first < cands.size() && cands[first].hit == 0 && cands[first].looks_like_heading) ++first;
    if (first >= cands.size() || cands[first].hit != 0) first = 0;
    picked.push_back(first);
  }

  // Reading order: the best sentence's source first, then the other sources in order of
  // their best sentence; within one source, document order.
  {
    std::unordered_map<size_t, size_t> first_pick_of_hit;
    for (size_t i = 0; i < picked.size(); ++i) first_pick_of_hit.try_emplace(cands[picked[i]].hit, i);
    std::stable_sort(picked.begin(), picked.end(), [&](size_t a, size_t b2) {
      const size_t ha = first_pick_of_hit.at(cands[a].hit), hb = first_pick_of_hit.at(cands[b2].hit);
      return ha != hb ? ha < hb : cands[a].begin < cands[b2].begin;
    });
  }
  // Sources are numbered in order of first quotation.
  std::unordered_map<size_t, int> number_of_hit;
  for (size_t p : picked) {
    const size_t h = cands[p].hit;
    if (number_of_hit.count(h)) continue;
    const int n = static_cast<int>(ans.sources.size()) + 1;
    number_of_hit[h] = n;
    ans.sources.push_back(detail::citation_for_hit(hits[h], n));
  }
  for (size_t p : picked) {
    const Candidate& c = cands[p];
    const Chunk& ch = hits[c.hit].hit.chunk;
    std::optional<std::vector<PageSpan>> pages;
    if (ch.page_first != ch.page_last && opts.pages) pages = opts.pages(hits[c.hit].hit.document);
    Citation cit = detail::citation_for_span(hits[c.hit], number_of_hit.at(c.hit), c.begin, c.end,
                                             pages ? &*pages : nullptr);
    std::string piece = ans.text.empty() ? "" : " ";
    piece += detail::collapse_space(cit.text) + " [" + std::to_string(cit.number) + "]";
    ans.text += piece;
    ans.citations.push_back(std::move(cit));
    if (on_text && !on_text(piece)) break;
  }
  return ans;
}

}  // namespace xnai::rag
