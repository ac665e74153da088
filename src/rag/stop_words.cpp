#include "rag/stop_words.h"

#include <unordered_set>
#include <vector>

namespace xnai::rag::detail {

bool is_stop_word(std::string_view word) {
  static const std::unordered_set<std::string_view> words = {
      "a",     "about",   "above", "after",  "again",   "all",    "am",      "an",       "and",     "any",
      "are",   "as",      "at",    "be",     "been",    "before", "being",   "below",    "between", "both",
      "but",   "by",      "can",   "could",  "did",     "do",     "does",    "doing",    "down",    "during",
      "each",  "few",     "for",   "from",   "further", "had",    "has",     "have",     "having",  "he",
      "her",   "here",    "hers",  "him",    "his",     "how",    "i",       "if",       "in",      "into",
      "is",    "it",      "its",   "itself", "just",    "me",     "more",    "most",     "my",      "no",
      "nor",   "not",     "now",   "of",     "off",     "on",     "once",    "only",     "or",      "other",
      "our",   "out",     "over",  "own",    "same",    "she",    "should",  "so",       "some",    "such",
      "than",  "that",    "the",   "their",  "them",    "then",   "there",   "these",    "they",    "this",
      "those", "through", "to",    "too",    "under",   "until",  "up",      "very",     "was",     "we",
      "were",  "what",    "when",  "where",  "which",   "while",  "who",     "whom",     "why",     "will",
      "with",  "would",   "you",   "your",   "yours",   "tell",   "explain", "describe", "please",  "s"};
  return words.count(word) > 0;
}

std::string without_stop_words(std::string_view query) {
  std::vector<std::string> kept;
  bool any_dropped = false;
  size_t i = 0;
  auto is_word_byte = [](unsigned char c) {
    return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  };
  while (i < query.size()) {
    while (i < query.size() && !is_word_byte(static_cast<unsigned char>(query[i]))) ++i;
    size_t j = i;
    while (j < query.size() && is_word_byte(static_cast<unsigned char>(query[j]))) ++j;
    if (j > i) {
      std::string w(query.substr(i, j - i));
      std::string lower = w;
      for (auto& c : lower)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (is_stop_word(lower))
        any_dropped = true;
      else
        kept.push_back(std::move(w));
    }
    i = j;
  }
  if (kept.empty() || !any_dropped) return std::string(query);
  std::string out;
  for (const auto& w : kept) out += (out.empty() ? "" : " ") + w;
  return out;
}

}  // namespace xnai::rag::detail
