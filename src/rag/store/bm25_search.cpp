#include "rag/store/bm25_search.h"

#include <algorithm>
#include <cmath>
#include <future>
#include <limits>

#include "rag/store/bm25_query.h"
#include "rag/store/bm25_rank.h"
#include "rag/store/sqlite_db.h"

namespace xnai::rag::store {
namespace {

constexpr int64_t kMaxRowid = std::numeric_limits<int64_t>::max();

// Range p of `parts` over rowids 1..max_rowid is [first, last]; the outer ranges are
// open-ended so that no rowid, even one written after max_rowid was read, falls outside.
std::pair<int64_t, int64_t> rowid_range(int64_t p, int64_t parts, int64_t max_rowid) {
  const int64_t first = p == 0 ? std::numeric_limits<int64_t>::min() : max_rowid * p / parts + 1;
  const int64_t last = p == parts - 1 ? kMaxRowid : max_rowid * (p + 1) / parts;
  return {first, last};
}

// How many chunks in [first, last] hold each term. A count walks the term's doclist
// without position lists or ranking, several times cheaper than xQueryPhrase.
std::vector<int64_t> count_in_range(Db& db, const std::vector<std::string>& terms, int64_t first,
                                    int64_t last) {
  auto s = db.prepare(
      "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?1 AND rowid >= ?2 AND rowid <= ?3");
  std::vector<int64_t> n;
  n.reserve(terms.size());
  for (const auto& t : terms) {
    s.bind(1, fts5_match_expression(std::vector<std::string>{t})).bind(2, first).bind(3, last);
    n.push_back(s.step() ? s.col_int(0) : 0);
    s.reset();
  }
  return n;
}

}  // namespace

void DocFrequencyCache::lookup(const std::vector<Db*>& dbs, int64_t gen, int64_t max_rowid, Bm25Query& q) {
  q.df.assign(q.terms.size(), -1);
  std::vector<size_t> missing;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (gen != gen_) {
      df_.clear();
      gen_ = gen;
    }
    for (size_t i = 0; i < q.terms.size(); ++i) {
      auto it = df_.find(q.terms[i]);
      if (it != df_.end())
        q.df[i] = it->second;
      else
        missing.push_back(i);
    }
  }
  if (missing.empty()) return;
  // Counted outside the lock, so other searches go on meanwhile, and split by rowid range
  // across the connections: a new term's count is a walk of its whole doclist (~40 ns a
  // posting; ~1 ms for a term in 2% of 1M chunks), which a one-shot `xnai search` pays
  // for every term.
  std::vector<std::string> terms;
  for (size_t i : missing) terms.push_back(q.terms[i]);
  const int64_t parts = int64_t(std::max<size_t>(dbs.size(), 1));
  std::vector<std::future<std::vector<int64_t>>> rest;
  for (int64_t p = 1; p < parts; ++p)
    rest.push_back(std::async(std::launch::async, [&, p] {
      const auto [first, last] = rowid_range(p, parts, max_rowid);
      return count_in_range(*dbs[size_t(p)], terms, first, last);
    }));
  const auto [first, last] = rowid_range(0, parts, max_rowid);
  std::vector<int64_t> total = count_in_range(*dbs.at(0), terms, first, last);
  for (auto& f : rest) {
    const std::vector<int64_t> part = f.get();
    for (size_t j = 0; j < total.size(); ++j) total[j] += part[j];
  }
  for (size_t j = 0; j < missing.size(); ++j) q.df[missing[j]] = total[j];
  std::lock_guard<std::mutex> g(mu_);
  if (gen != gen_) return;  // the store moved on while counting: these counts are stale
  if (df_.size() + missing.size() > kMaxTerms) df_.clear();
  for (size_t i : missing) df_.emplace(q.terms[i], q.df[i]);
}

Bm25Result bm25_top_k(Db& db, const Bm25Query& q, int k, int64_t first, int64_t last,
                      const KeepContext* keep) {
  if (k <= 0 || first > last) return {};
  // xnai_bm25_top scores each matching row (FTS5's bm25() with the given frequencies and
  // chunk lengths from memory), applies the filter from memory and keeps the best k itself
  // (bm25_rank.h). FTS5 seeks the rowid bounds.
  Bm25TopK top(k, keep);
  auto s = db.prepare(
      "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?1 AND rowid >= ?2 AND rowid <= ?3 "
      "AND xnai_bm25_top(chunks_fts, ?4, ?5)");
  s.bind(1, q.match).bind(2, first).bind(3, last);
  if (q.df.size() == q.terms.size())
    s.bind_blob(4, q.df.data(), q.df.size() * sizeof(int64_t));
  else
    s.bind_null(4);  // xnai_bm25_top counts them itself
  s.bind_pointer(5, &top, kTopKPointerType);
  while (s.step()) {
  }
  return {top.take_sorted(), top.idf};
}

Bm25Result bm25_top_k_split(const std::vector<Db*>& dbs, const Bm25Query& q, int k, int64_t max_rowid,
                            const KeepContext* keep) {
  const int64_t parts = int64_t(std::max<size_t>(dbs.size(), 1));
  if (parts == 1) return bm25_top_k(*dbs.at(0), q, k, std::numeric_limits<int64_t>::min(), kMaxRowid, keep);
  std::vector<std::future<Bm25Result>> rest;
  for (int64_t p = 1; p < parts; ++p)
    rest.push_back(std::async(std::launch::async, [&, p] {
      const auto [first, last] = rowid_range(p, parts, max_rowid);
      return bm25_top_k(*dbs[size_t(p)], q, k, first, last, keep);
    }));
  // An error in any range propagates; the futures of std::async wait for their threads when
  // destroyed, so no range outlives this call.
  const auto [first, last] = rowid_range(0, parts, max_rowid);
  Bm25Result all = bm25_top_k(*dbs[0], q, k, first, last, keep);
  for (auto& f : rest) {
    Bm25Result part = f.get();
    all.top.insert(all.top.end(), part.top.begin(), part.top.end());
    if (all.idf.empty()) all.idf = std::move(part.idf);  // the same in every range that matched
  }
  const size_t n = std::min(all.top.size(), size_t(k));
  std::partial_sort(all.top.begin(), all.top.begin() + std::ptrdiff_t(n), all.top.end(), better);
  all.top.resize(n);
  return all;
}

namespace {

// Which terms to prune: the m most frequent, for the largest m whose bound B looks beatable.
// Estimated from the document frequencies, with max_rowid standing in for the row count
// (the check after the query uses FTS5's exact idf): B must not exceed the idf of the most
// frequent essential term (about what a chunk holding it once scores), the essential terms
// must match at least k chunks, and the pruned doclists must hold at least twice the
// postings of the essential ones (else the saving does not pay for the risk of running the
// full query after it). Empty: do not prune.
std::vector<bool> terms_to_prune(const Bm25Query& q, int k, int64_t max_rowid) {
  const size_t n = q.terms.size();
  if (n < 2 || q.df.size() != n || max_rowid < 1) return {};
  auto idf = [&](int64_t df) {
    const double v = std::log((double(max_rowid) - double(df) + 0.5) / (double(df) + 0.5));
    return v <= 0 ? 1e-6 : v;
  };
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return q.df[a] > q.df[b]; });
  for (size_t m = n - 1; m >= 1; --m) {
    double bound = 0;
    int64_t pruned_df = 0, essential_df = 0;
    for (size_t j = 0; j < m; ++j) bound += idf(q.df[order[j]]) * (kBm25K1 + 1), pruned_df += q.df[order[j]];
    for (size_t j = m; j < n; ++j) essential_df += q.df[order[j]];
    if (bound <= idf(q.df[order[m]]) && essential_df >= k && pruned_df >= 2 * essential_df) {
      std::vector<bool> prune(n, false);
      for (size_t j = 0; j < m; ++j) prune[order[j]] = true;
      return prune;
    }
  }
  return {};
}

}  // namespace

std::vector<ScoredChunk> bm25_search(const std::vector<Db*>& dbs, const Bm25Query& q, int k,
                                     int64_t max_rowid, const KeepContext* keep, bool* pruned) {
  if (pruned) *pruned = false;
  const std::vector<bool> prune = k > 0 ? terms_to_prune(q, k, max_rowid) : std::vector<bool>{};
  if (!prune.empty()) {
    std::vector<std::string> essential;
    for (size_t i = 0; i < q.terms.size(); ++i)
      if (!prune[i]) essential.push_back(q.terms[i]);
    Bm25Query restricted = q;  // the same scored phrases first, then the restriction
    restricted.match = "(" + q.match + ") AND (" + fts5_match_expression(essential) + ")";
    Bm25Result r = bm25_top_k_split(dbs, restricted, k, max_rowid, keep);
    if (r.top.size() == size_t(k) && r.idf.size() == q.terms.size()) {
      double bound = 0;  // from FTS5's own idf values: the check is exact
      for (size_t i = 0; i < prune.size(); ++i)
        if (prune[i]) bound += r.idf[i] * (kBm25K1 + 1);
      if (r.top.back().score >= bound) {
        if (pruned) *pruned = true;
        return std::move(r.top);
      }
    }
  }
  return bm25_top_k_split(dbs, q, k, max_rowid, keep).top;
}

int bm25_split_parts(int64_t max_rowid, int64_t min_chunks, int n_threads) {
  if (max_rowid < std::max<int64_t>(min_chunks, 1)) return 1;
  return std::max(1, std::min(n_threads, 4));
}

}  // namespace xnai::rag::store
