#include <queue>
#include <string>
#include <vector>

#include "text/pre_tokenizer.h"
#include "text/tokenizer_models.h"
#include "text/unicode_utf8.h"
#include "text/vocab.h"

namespace xnai::text {
namespace {

struct Symbol {
  int32_t prev;
  int32_t next;
  size_t offset;  // into the word; live symbols tile the word in order
  size_t n;       // bytes; 0 once merged into its left neighbour
};

struct Bigram {
  int32_t left;
  int32_t right;
  int32_t rank;
  size_t size;  // bytes of both symbols when queued; a mismatch later means the entry is stale
};

// Lowest rank first; on equal ranks the leftmost pair.
struct BigramOrder {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

// Reused across the words of one call so that long texts do not allocate per word.
struct Scratch {
  std::vector<Symbol> symbols;
  std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue;  // empty between words
};

void merge_word(const Vocab& vocab, std::string_view word, Scratch& s, std::vector<int32_t>& out) {
  if (vocab.ignore_merges) {
    const int32_t id = vocab.find(word);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }
  auto& symbols = s.symbols;
  symbols.clear();
  for (size_t offs = 0; offs < word.size();) {
    const size_t len = std::min(utf8_seq_len(static_cast<uint8_t>(word[offs])), word.size() - offs);
    const int32_t index = int32_t(symbols.size());
    symbols.push_back({index - 1, offs + len == word.size() ? -1 : index + 1, offs, len});
    offs += len;
  }

  auto& queue = s.queue;
  const auto try_add = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const Symbol& l = symbols[size_t(left)];
    const Symbol& r = symbols[size_t(right)];
    const int32_t rank = vocab.merges.rank(word.substr(l.offset, l.n), word.substr(r.offset, r.n));
    if (rank < 0) return;
    queue.push({left, right, rank, l.n + r.n});
  };
  for (int32_t i = 1; i < int32_t(symbols.size()); ++i) try_add(i - 1, i);

  while (!queue.empty()) {
    const Bigram b = queue.top();
    queue.pop();
    Symbol& l = symbols[size_t(b.left)];
    Symbol& r = symbols[size_t(b.right)];
    if (l.n == 0 || r.n == 0 || l.n + r.n != b.size) continue;
    l.n += r.n;
    r.n = 0;
    l.next = r.next;
    if (r.next >= 0) symbols[size_t(r.next)].prev = b.left;
    try_add(l.prev, b.left);
    try_add(b.left, l.next);
  }

  // A final symbol that is not a token falls back to its single bytes, where those are tokens.
  for (int32_t i = symbols.empty() ? -1 : 0; i != -1; i = symbols[size_t(i)].next) {
    const Symbol& sym = symbols[size_t(i)];
    const std::string_view piece = word.substr(sym.offset, sym.n);
    const int32_t id = vocab.find(piece);
    if (id >= 0) {
      out.push_back(id);
      continue;
    }
    for (size_t k = 0; k < piece.size(); ++k) {
      const int32_t byte_id = vocab.find(piece.substr(k, 1));
      if (byte_id >= 0) out.push_back(byte_id);
    }
  }
}

}  // namespace

void bpe_tokenize(const Vocab& vocab, std::string_view text, std::vector<int32_t>& out) {
  std::vector<std::string> words;
  pre_tokenize(vocab.pre_type, text, words);
  Scratch scratch;
  for (const std::string& w : words) merge_word(vocab, w, scratch, out);
}

}  // namespace xnai::text
