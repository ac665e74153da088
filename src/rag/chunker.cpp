// chunk_document: sections → paragraphs → sentences → words, packed greedily under a token
// budget, with sentence overlap (the rules are stated in chunker.h).
#include "rag/chunker.h"

#include <algorithm>
#include <deque>
#include <utility>

#include "core/error.h"
#include "text/sentence_splitter.h"
#include "rag/sha256.h"

namespace xnai::rag {
namespace {

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// A piece of text the packer moves as a whole.
struct Group {
  int64_t b = 0, e = 0;
  int tokens = 0;           // estimate: count_tokens minus the counter's fixed overhead
  bool splittable = false;  // a whole paragraph of several sentences (may still be split)
};

struct Section {
  int64_t b = 0, e = 0;
  int level = 0;  // of its heading (0: text before the first heading)
  std::string path;
};

class Chunker {
 public:
  Chunker(const Document& doc, const ChunkerOptions& opts)
      : doc_(doc),
        text_(doc.text),
        max_(opts.max_tokens),
        overlap_(opts.overlap_tokens),
        count_fn_(opts.count_tokens) {
    if (!count_fn_) count_fn_ = approx_token_count;
    base_ = std::max(0, count_fn_(std::string_view()));
    for (const auto& p : doc.pages)
      if (p.end > p.begin) pages_.push_back(p);
    std::sort(pages_.begin(), pages_.end(),
              [](const PageSpan& a, const PageSpan& b) { return a.begin < b.begin; });
  }

  std::vector<Chunk> run() {
    if (base_ >= max_)
      throw Error(ErrorKind::InvalidArgument,
                  "chunker: max_tokens (" + std::to_string(max_) +
                      ") leaves no room after the token counter's fixed overhead (" + std::to_string(base_) +
                      ")");
    find_paragraph_starts();
    sentences_ = text::sentence_starts(text_);
    sentences_.insert(sentences_.end(), paragraphs_.begin(), paragraphs_.end());
    std::sort(sentences_.begin(), sentences_.end());
    sentences_.erase(std::unique(sentences_.begin(), sentences_.end()), sentences_.end());
    std::erase_if(sentences_, [&](int64_t p) { return p >= size() || is_ws(text_[static_cast<size_t>(p)]); });
    for (const Section& s : sections()) pack(s);
    return std::move(out_);
  }

 private:
  int64_t size() const { return static_cast<int64_t>(text_.size()); }
  std::string_view slice(int64_t b, int64_t e) const {
    return text_.substr(static_cast<size_t>(b), static_cast<size_t>(e - b));
  }
  int count(int64_t b, int64_t e) const { return std::max(0, count_fn_(slice(b, e))); }
  int estimate(int64_t b, int64_t e) const { return std::max(0, count(b, e) - base_); }

  // [b, e) without leading/trailing whitespace (b == e when nothing is left).
  std::pair<int64_t, int64_t> trim(int64_t b, int64_t e) const {
    while (b < e && is_ws(text_[static_cast<size_t>(b)])) ++b;
    while (e > b && is_ws(text_[static_cast<size_t>(e - 1)])) --e;
    return {b, e};
  }

  // A structure offset from the document is used only where it cannot cut a word: at a
  // visible character that starts the text or follows whitespace.
  bool usable_start(int64_t p) const {
    if (p < 0 || p >= size()) return false;
    const char c = text_[static_cast<size_t>(p)];
    return !is_ws(c) && !is_continuation(c) && (p == 0 || is_ws(text_[static_cast<size_t>(p - 1)]));
  }

  // Paragraph starts: the loader's hints, blank-line breaks, headings, and the first visible
  // character.
  void find_paragraph_starts() {
    bool after_blank = true, line_blank = true;
    for (int64_t i = 0; i < size(); ++i) {
      const char c = text_[static_cast<size_t>(i)];
      if (c == '\n') {
        if (line_blank) after_blank = true;
        line_blank = true;
      } else if (!is_ws(c)) {
        if (after_blank) paragraphs_.push_back(i);
        after_blank = line_blank = false;
      }
    }
    for (int64_t p : doc_.paragraph_starts)
      if (usable_start(p)) paragraphs_.push_back(p);
    for (const auto& h : doc_.headings)
      if (usable_start(h.begin)) paragraphs_.push_back(h.begin);
    std::sort(paragraphs_.begin(), paragraphs_.end());
    paragraphs_.erase(std::unique(paragraphs_.begin(), paragraphs_.end()), paragraphs_.end());
  }

  bool has_paragraph_inside(int64_t b, int64_t e) const {
    auto it = std::upper_bound(paragraphs_.begin(), paragraphs_.end(), b);
    return it != paragraphs_.end() && *it < e && trim(*it, e).first < e;
  }

  std::vector<Section> sections() const {
    std::vector<HeadingSpan> hs;
    for (const auto& h : doc_.headings)
      if (usable_start(h.begin)) hs.push_back(h);
    std::stable_sort(hs.begin(), hs.end(),
                     [](const HeadingSpan& a, const HeadingSpan& b) { return a.begin < b.begin; });
    hs.erase(std::unique(hs.begin(), hs.end(),
                         [](const HeadingSpan& a, const HeadingSpan& b) { return a.begin == b.begin; }),
             hs.end());

    std::vector<Section> raw;
    if (hs.empty() || hs.front().begin > 0) raw.push_back({0, hs.empty() ? size() : hs.front().begin, 0, ""});
    std::vector<const HeadingSpan*> stack;
    for (size_t k = 0; k < hs.size(); ++k) {
      while (!stack.empty() && stack.back()->level >= hs[k].level) stack.pop_back();
      stack.push_back(&hs[k]);
      std::string path;
      for (const HeadingSpan* h : stack) {
        if (!path.empty()) path += " > ";
        path += h->title;
      }
      raw.push_back(
          {hs[k].begin, k + 1 < hs.size() ? hs[k + 1].begin : size(), hs[k].level, std::move(path)});
    }
    // A section that is only its heading line joins the deeper section after it.
    std::vector<Section> out;
    int64_t carry = -1;
    for (size_t k = 0; k < raw.size(); ++k) {
      Section s = raw[k];
      const bool heading_only = s.level > 0 && !has_paragraph_inside(s.b, s.e);
      if (heading_only && k + 1 < raw.size() && raw[k + 1].level > s.level) {
        if (carry < 0) carry = s.b;
        continue;
      }
      if (carry >= 0) s.b = carry;
      carry = -1;
      out.push_back(std::move(s));
    }
    return out;
  }

  // Sentence starts strictly inside (b, e).
  std::pair<std::vector<int64_t>::const_iterator, std::vector<int64_t>::const_iterator> sentences_inside(
      int64_t b, int64_t e) const {
    return {std::upper_bound(sentences_.begin(), sentences_.end(), b),
            std::lower_bound(sentences_.begin(), sentences_.end(), e)};
  }

  // Runs of words of [b, e) (a sentence longer than max_tokens), each within the budget
  // unless it is a single word.
  void word_groups(int64_t b, int64_t e, std::vector<Group>& out) const {
    const std::vector<int64_t> wb = text::word_boundaries(text_, b, e);
    struct Seg {
      int64_t b, e;
      int tokens;
    };
    std::vector<Seg> segs;
    for (size_t i = 0; i + 1 < wb.size(); ++i) {
      const auto [sb, se] = trim(wb[i], wb[i + 1]);
      if (sb < se) segs.push_back({sb, se, estimate(sb, se)});
    }
    size_t i = 0;
    while (i < segs.size()) {
      size_t j = i + 1;
      int total = base_ + segs[i].tokens;
      while (j < segs.size() && total + segs[j].tokens <= max_) total += segs[j++].tokens;
      int n = count(segs[i].b, segs[j - 1].e);
      while (n > max_ && j - 1 > i) n = count(segs[i].b, segs[--j - 1].e);  // non-additive counter
      out.push_back({segs[i].b, segs[j - 1].e, std::max(0, n - base_), false});
      i = j;
    }
  }

  // Sentences of [b, e), each within the budget (longer ones as runs of words).
  void sentence_groups(int64_t b, int64_t e, std::vector<Group>& out) const {
    std::vector<int64_t> starts{b};
    const auto [lo, hi] = sentences_inside(b, e);
    starts.insert(starts.end(), lo, hi);
    starts.push_back(e);
    for (size_t k = 0; k + 1 < starts.size(); ++k) {
      const auto [sb, se] = trim(starts[k], starts[k + 1]);
      if (sb >= se) continue;
      const int n = count(sb, se);
      if (n <= max_)
        out.push_back({sb, se, std::max(0, n - base_), false});
      else
        word_groups(sb, se, out);
    }
  }

  std::vector<Group> section_groups(const Section& s) const {
    std::vector<int64_t> starts{s.b};
    for (auto it = std::upper_bound(paragraphs_.begin(), paragraphs_.end(), s.b);
         it != paragraphs_.end() && *it < s.e; ++it)
      starts.push_back(*it);
    starts.push_back(s.e);
    std::vector<Group> groups;
    for (size_t k = 0; k + 1 < starts.size(); ++k) {
      const auto [pb, pe] = trim(starts[k], starts[k + 1]);
      if (pb >= pe) continue;
      const int n = count(pb, pe);
      if (n <= max_) {
        const auto [lo, hi] = sentences_inside(pb, pe);
        groups.push_back({pb, pe, std::max(0, n - base_), lo != hi});
      } else {
        sentence_groups(pb, pe, groups);
      }
    }
    return groups;
  }

  // Start of the overlap repeated from the previous chunk [cb, ce) and its token estimate;
  // -1 when there is none (see chunker.h for the rule).
  std::pair<int64_t, int> choose_overlap(int64_t cb, int64_t ce) const {
    const int cap = std::min(2 * overlap_, max_ / 2);
    // The latest candidate whose tail still holds >= overlap_ tokens (tails shrink as the
    // start moves right, so a binary search finds it).
    auto latest_enough = [&](const std::vector<int64_t>& cand, int& tokens) -> int64_t {
      size_t lo = 0, hi = cand.size();  // answer in [lo, hi) shifted: last index with enough
      int64_t found = -1;
      while (lo < hi) {
        const size_t mid = (lo + hi) / 2;
        const int t = estimate(cand[mid], ce);
        if (t >= overlap_) {
          found = static_cast<int64_t>(mid);
          tokens = t;
          lo = mid + 1;
        } else {
          hi = mid;
        }
      }
      return found;
    };
    const auto [lo, hi] = sentences_inside(cb, ce);
    const std::vector<int64_t> sent(lo, hi);
    int tokens = 0;
    if (const int64_t k = latest_enough(sent, tokens); k >= 0 && tokens <= cap)
      return {sent[static_cast<size_t>(k)], tokens};
    // Fall back to whole words: starts of words (after whitespace) inside (cb, ce).
    std::vector<int64_t> words;
    for (int64_t w : text::word_boundaries(text_, cb, ce))
      if (w > cb && w < ce && usable_start(w)) words.push_back(w);
    if (words.empty()) return {-1, 0};
    const int64_t k = latest_enough(words, tokens);
    if (k >= 0)
      return tokens <= cap ? std::pair{words[static_cast<size_t>(k)], tokens} : std::pair{int64_t{-1}, 0};
    return {words.front(), estimate(words.front(), ce)};  // the whole previous chunk is short
  }

  void pack(const Section& s) {
    const std::vector<Group> groups = section_groups(s);
    std::deque<Group> queue(groups.begin(), groups.end());
    int64_t prev_b = -1, prev_e = -1;
    while (!queue.empty()) {
      int64_t ov = -1;
      int ov_tokens = 0;
      if (prev_b >= 0 && overlap_ > 0) {
        std::tie(ov, ov_tokens) = choose_overlap(prev_b, prev_e);
        if (ov >= 0 && base_ + ov_tokens + queue.front().tokens > max_) ov = -1;
        if (ov < 0) ov_tokens = 0;
      }
      std::vector<Group> taken{queue.front()};
      queue.pop_front();
      int total = base_ + ov_tokens + taken.front().tokens;
      while (!queue.empty()) {
        const Group g = queue.front();
        if (total + g.tokens <= max_) {
          total += g.tokens;
          taken.push_back(g);
          queue.pop_front();
        } else if (g.splittable && 2 * total < max_) {  // fill a mostly empty chunk by sentences
          std::vector<Group> parts;
          sentence_groups(g.b, g.e, parts);
          queue.pop_front();
          for (auto it = parts.rbegin(); it != parts.rend(); ++it) queue.push_front(*it);
        } else {
          break;
        }
      }
      // The estimate is a sum of parts; the budget holds for the real count of the span.
      int64_t b = ov >= 0 ? ov : taken.front().b;
      int n = count(b, taken.back().e);
      while (n > max_) {
        if (taken.size() > 1) {
          queue.push_front(taken.back());
          taken.pop_back();
        } else if (ov >= 0) {
          ov = -1;
          b = taken.front().b;
        } else {
          break;  // one word longer than the budget
        }
        n = count(b, taken.back().e);
      }
      emit(b, taken.back().e, n, s.path);
      prev_b = b;
      prev_e = taken.back().e;
    }
  }

  int page_of(int64_t pos, bool is_begin) const {
    if (pages_.empty()) return 0;
    auto it = std::upper_bound(pages_.begin(), pages_.end(), pos,
                               [](int64_t p, const PageSpan& s) { return p < s.begin; });
    if (it == pages_.begin()) return pages_.front().page;
    const PageSpan& page = *std::prev(it);
    if (pos < page.end || !is_begin || it == pages_.end()) return page.page;
    return it->page;  // between pages: a begin belongs to the next one
  }

  void emit(int64_t b, int64_t e, int n_tokens, const std::string& path) {
    Chunk c;
    c.doc_id = doc_.id;
    c.index = static_cast<int>(out_.size());
    c.begin = b;
    c.end = e;
    c.page_first = page_of(b, true);
    c.page_last = page_of(e - 1, false);
    c.heading_path = path;
    c.text = std::string(slice(b, e));
    c.n_tokens = n_tokens;
    c.id = make_chunk_id(doc_.id, b, e, c.text);
    out_.push_back(std::move(c));
  }

  const Document& doc_;
  std::string_view text_;
  int max_, overlap_;
  std::function<int(std::string_view)> count_fn_;
  int base_ = 0;                 // tokens the counter gives an empty text (special tokens)
  std::vector<PageSpan> pages_;  // non-empty pages by begin
  std::vector<int64_t> paragraphs_;
  std::vector<int64_t> sentences_;  // sentence starts ∪ paragraph starts, at visible characters
  std::vector<Chunk> out_;
};

}  // namespace

std::string make_chunk_id(const std::string& doc_id, int64_t begin, int64_t end, std::string_view text) {
  std::string key = doc_id;
  key += '\n';
  key += std::to_string(begin);
  key += '\n';
  key += std::to_string(end);
  key += '\n';
  key += text;
  return sha256_hex(key).substr(0, 32);
}

std::vector<Chunk> chunk_document(const Document& doc, const ChunkerOptions& opts) {
  if (opts.max_tokens < 1)
    throw Error(ErrorKind::InvalidArgument,
                "chunker: max_tokens must be at least 1 (got " + std::to_string(opts.max_tokens) + ")");
  if (opts.overlap_tokens < 0 || opts.overlap_tokens > opts.max_tokens / 2)
    throw Error(ErrorKind::InvalidArgument, "chunker: overlap_tokens must be between 0 and max_tokens/2 = " +
                                                std::to_string(opts.max_tokens / 2) + " (got " +
                                                std::to_string(opts.overlap_tokens) + ")");
  return Chunker(doc, opts).run();
}

}  // namespace xnai::rag
