// Top-k BM25 over chunks_fts, with the work split by rowid range across threads on large
// stores. A ranking query must visit every chunk that matches any query term (the top k is
// only known at the end), so at 1M chunks a query with common terms walks hundreds of
// thousands of postings; disjoint rowid ranges on separate connections share that walk.
// The split changes nothing in the result: every range scores with the same whole-table
// statistics (the document frequencies below; FTS5's xRowCount and xColumnTotalSize ignore
// rowid constraints), so every chunk gets the score the single query gives it, and the merge
// keeps the single query's order (score descending, then rowid).
//
// Document frequencies are counted once per term and store generation and then reused:
// left to xnai_bm25, FTS5's xQueryPhrase walks every term's whole doclist on every query
// (measured at 1M chunks: ~40% of a query, and not shared by a split).
#pragma once
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "rag/store/bm25_rank.h"

namespace xnai::rag::store {

class Db;
struct KeepContext;

// What one BM25 query needs: the MATCH expression of `terms` (bm25_query.h) and each
// term's document frequency, in the same order.
struct Bm25Query {
  std::vector<std::string> terms;
  std::string match;
  std::vector<int64_t> df;
};

// Document frequencies of terms by store generation: all are dropped when it changes.
class DocFrequencyCache {
 public:
  // Fills q.df, counting the terms not cached over rowids 1..max_rowid split into
  // dbs.size() ranges, one per connection, at once (as bm25_top_k_split). `gen` must be the
  // generation of the snapshot every connection reads (each inside a read transaction).
  void lookup(const std::vector<Db*>& dbs, int64_t gen, int64_t max_rowid, Bm25Query& q);

 private:
  static constexpr size_t kMaxTerms = 100000;  // then start over: bounded memory
  std::mutex mu_;
  int64_t gen_ = -1;
  std::unordered_map<std::string, int64_t> df_;
};

// The best k of one query, and the idf of each scored phrase (empty when no row matched).
struct Bm25Result {
  std::vector<ScoredChunk> top;
  std::vector<double> idf;
};

// The top k chunks of one connection's query over first <= rowid <= last; `keep` (may be
// null) filters inside the query. The caller holds the ChunkTable lock that xnai_bm25 needs.
Bm25Result bm25_top_k(Db& db, const Bm25Query& q, int k, int64_t first, int64_t last,
                      const KeepContext* keep);

// The top k over rowids 1..max_rowid, split into dbs.size() equal ranges run at once, one per
// connection (dbs[0] on the calling thread). Same result as one bm25_top_k over the whole table.
Bm25Result bm25_top_k_split(const std::vector<Db*>& dbs, const Bm25Query& q, int k, int64_t max_rowid,
                            const KeepContext* keep);

// bm25_top_k_split, first tried with max-score pruning, which is exact. A term adds less
// than idf * (k1 + 1) to any chunk's score, so a chunk holding none of the query's rarer
// ("essential") terms scores below B, the sum of that bound over the common terms. The best
// k among chunks holding an essential term are therefore the answer when the k-th of them
// scores at least B: that query (full scoring, matching restricted to the essential terms)
// only seeks into the common terms' long doclists instead of walking them. When the check
// fails, the full query runs as well. *pruned (may be null) tells which answered.
std::vector<ScoredChunk> bm25_search(const std::vector<Db*>& dbs, const Bm25Query& q, int k,
                                     int64_t max_rowid, const KeepContext* keep, bool* pruned = nullptr);

// How many ranges a query over a table of max_rowid chunks is worth splitting into, given
// n_threads (at most 4): one below min_chunks, where thread start-up would outweigh the
// shared walk (measured: BM25 p99 is ~1 ms at 100k chunks, ~9 ms at 1M).
int bm25_split_parts(int64_t max_rowid, int64_t min_chunks, int n_threads);

}  // namespace xnai::rag::store
