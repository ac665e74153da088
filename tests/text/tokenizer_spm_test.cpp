// SentencePiece merging split into runs at U+2581 (an optimisation that relies on the vocabulary)
// against a plain single-pass implementation of llama.cpp's llm_tokenizer_spm_session over the
// whole text, written here from the public vocabulary accessors only.
#include <gtest/gtest.h>

#include <queue>
#include <random>

#include "tokenizer_test_data.h"

namespace xnai::test {
namespace {

std::vector<int32_t> reference_spm(const text::Tokenizer& tok, const std::string& raw) {
  std::string s = "\xE2\x96\x81";  // the space prefix of a text that starts the input
  for (char c : raw) s += c == ' ' ? std::string("\xE2\x96\x81") : std::string(1, c);
  struct Sym {
    int prev, next;
    size_t off, n;
  };
  std::vector<Sym> sym;
  for (size_t o = 0; o < s.size();) {
    const unsigned char b = static_cast<unsigned char>(s[o]);
    const size_t len = std::min<size_t>(b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1, s.size() - o);
    const int i = int(sym.size());
    sym.push_back({i - 1, o + len == s.size() ? -1 : i + 1, o, len});
    o += len;
  }
  struct Big {
    int l, r;
    float score;
    size_t size;
    bool operator<(const Big& o) const { return score < o.score || (score == o.score && l > o.l); }
  };
  std::priority_queue<Big> q;
  auto add = [&](int l, int r) {
    if (l < 0 || r < 0) return;
    const auto id = tok.find_token(s.substr(sym[l].off, sym[l].n + sym[r].n));
    if (id) q.push({l, r, tok.token_score(*id), sym[l].n + sym[r].n});
  };
  for (int i = 1; i < int(sym.size()); ++i) add(i - 1, i);
  while (!q.empty()) {
    const Big b = q.top();
    q.pop();
    if (sym[b.l].n == 0 || sym[b.r].n == 0 || sym[b.l].n + sym[b.r].n != b.size) continue;
    sym[b.l].n += sym[b.r].n;
    sym[b.r].n = 0;
    sym[b.l].next = sym[b.r].next;
    if (sym[b.r].next >= 0) sym[sym[b.r].next].prev = b.l;
    add(sym[b.l].prev, b.l);
    add(b.l, sym[b.l].next);
  }
  std::vector<int32_t> out;
  for (int i = 0; i != -1; i = sym[i].next) {
    const std::string piece = s.substr(sym[i].off, sym[i].n);
    if (const auto id = tok.find_token(piece)) {
      out.push_back(*id);
      continue;
    }
    for (unsigned char c : piece) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "<0x%02X>", c);
      out.push_back(tok.find_token(buf).value_or(-1));
    }
  }
  return out;
}

TEST(TokenizerSpm, RunSplittingMatchesWholeTextMerging) {
  static const char* const pool[] = {
      "a",    "b",  "the", "ing", " ",     " ",      "  ", "\t", "\n", ".",    ",",        "'",
      "0",    "7",  "é",   "ü",   "東",    "京",     "🍣",  "😊",  "—",  "\xFF", "\xE2\x96", "\xE2\x96\x81",
      "\xC3", "▁▁", "x▁",  "<s>", "Hello", " world", "ed"};
  for (const char* rel : {"vocab/ggml-vocab-llama-spm.gguf", "vocab/ggml-vocab-phi-3.gguf"}) {
    const auto p = testdata_file(rel);
    if (p.empty()) GTEST_SKIP() << "conformance data missing: " << (testdata_dir() / rel);
    const auto& tok = cached_tokenizer(p);
    std::mt19937 rng(99);
    std::uniform_int_distribution<int> len(0, 30);
    std::uniform_int_distribution<size_t> pick(0, std::size(pool) - 1);
    size_t failed = 0;
    for (int iter = 0; iter < 3000 && failed < 5; ++iter) {
      std::string s;
      for (int n = len(rng); n > 0; --n) s += pool[pick(rng)];
      if (s.empty()) continue;
      const auto got = tok.encode(s, false, false);
      const auto want = reference_spm(tok, s);
      if (got != want) {
        ++failed;
        ADD_FAILURE() << rel << " \"" << escape(s) << "\"\n  want: " << join(want)
                      << "\n  got:  " << join(got);
      }
    }
  }
}

}  // namespace
}  // namespace xnai::test
