#include <queue>
#include <vector>

#include "text/tokenizer_models.h"
#include "text/unicode_utf8.h"
#include "text/vocab.h"

namespace xnai::text {
namespace {

struct Symbol {
  int32_t prev;
  int32_t next;
  size_t offset;  // into the text; symbols always tile the text in order
  size_t n;       // bytes; 0 once merged into its left neighbour
};

struct Bigram {
  int32_t left;
  int32_t right;
  float score;
  size_t size;  // bytes of both symbols when queued; a mismatch later means the entry is stale
};

// Highest score first; on equal scores the leftmost pair.
struct BigramOrder {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

constexpr std::string_view kSpaceMark = "\xE2\x96\x81";  // U+2581

// Reused across the runs of one call.
struct Scratch {
  std::vector<Symbol> symbols;
  std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue;  // empty between runs
};

// One run of text, merged as llama.cpp's llm_tokenizer_spm_session does for its whole input.
void merge_run(const Vocab& vocab, std::string_view text, Scratch& scratch, std::vector<int32_t>& out) {
  auto& symbols = scratch.symbols;
  symbols.clear();
  for (size_t offs = 0; offs < text.size();) {
    const size_t len = std::min(utf8_seq_len(static_cast<uint8_t>(text[offs])), text.size() - offs);
    const int32_t index = int32_t(symbols.size());
    symbols.push_back({index - 1, offs + len == text.size() ? -1 : index + 1, offs, len});
    offs += len;
  }

  auto& queue = scratch.queue;
  const auto try_add = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const Symbol& l = symbols[size_t(left)];
    const Symbol& r = symbols[size_t(right)];
    const int32_t id = vocab.find(text.substr(l.offset, l.n + r.n));
    if (id < 0) return;
    queue.push({left, right, vocab.tokens[size_t(id)].score, l.n + r.n});
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

  // Every merged symbol is a token; a single character that is not one becomes byte tokens.
  for (int32_t i = symbols.empty() ? -1 : 0; i != -1; i = symbols[size_t(i)].next) {
    const Symbol& s = symbols[size_t(i)];
    const std::string_view piece = text.substr(s.offset, s.n);
    const int32_t id = vocab.find(piece);
    if (id >= 0) {
      out.push_back(id);
      continue;
    }
    for (char c : piece) {
      const int32_t byte_id = vocab.byte_token_spm(static_cast<uint8_t>(c));
      if (byte_id >= 0) {
        out.push_back(byte_id);
      } else if (vocab.unk >= 0) {
        out.push_back(vocab.unk);  // llama.cpp would throw here (no byte token at all)
      }
    }
  }
}

// A complete, well-formed UTF-8 character.
bool is_whole_char(std::string_view s) {
  if (s.empty() || utf8_seq_len(static_cast<uint8_t>(s[0])) != s.size()) return false;
  if (s.size() == 1) return static_cast<uint8_t>(s[0]) < 0x80;
  for (size_t i = 1; i < s.size(); ++i)
    if ((static_cast<uint8_t>(s[i]) & 0xC0) != 0x80) return false;
  return true;
}

}  // namespace

void spm_tokenize(const Vocab& vocab, std::string_view text, std::vector<int32_t>& out) {
  Scratch scratch;
  if (!vocab.spm_space_starts_piece) {
    merge_run(vocab, text, scratch, out);
    return;
  }
  // When no token has a character other than U+2581 right before a U+2581, no merge can join
  // such a pair, and the runs on either side merge independently of each other: the result is
  // the same as one pass over the whole text, with small queues instead of one huge one.
  size_t run_start = 0;
  std::string_view prev;
  for (size_t offs = 0; offs < text.size();) {
    const size_t len = std::min(utf8_seq_len(static_cast<uint8_t>(text[offs])), text.size() - offs);
    const std::string_view sym = text.substr(offs, len);
    if (sym == kSpaceMark && !prev.empty() && prev != kSpaceMark && is_whole_char(prev)) {
      merge_run(vocab, text.substr(run_start, offs - run_start), scratch, out);
      run_start = offs;
    }
    prev = sym;
    offs += len;
  }
  merge_run(vocab, text.substr(run_start), scratch, out);
}

}  // namespace xnai::text
