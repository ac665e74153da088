// Fast BM25 ranking and filtering for the chunks_fts table, as FTS5 auxiliary functions
// registered on each connection:
//
//   xnai_bm25(chunks_fts)   FTS5 auxiliary function: exactly FTS5's bm25() (k1 = 1.2,
//                           b = 0.75, idf = ln((N - n + 0.5) / (n + 0.5)) floored at 1e-6)
//                           but higher-is-better, with each chunk's token count taken from
//                           ChunkTable instead of a lookup of the %_docsize shadow table per
//                           matching row (measured: ~85% of bm25()'s cost at 100k chunks).
//   xnai_bm25(chunks_fts, df)  the same with each phrase's document frequency given as a
//                           blob of native int64s in phrase order (see bm25_search.h),
//                           instead of counted per query with xQueryPhrase. Only the first
//                           phrases the blob covers are scored: a pruned query appends
//                           phrases that only restrict which rows match.
//   xnai_bm25_top(chunks_fts, df, top)
//                           scores the row as xnai_bm25 does and offers it to the Bm25TopK
//                           bound as `top`; returns 0. In a WHERE clause it replaces SQL's
//                           ORDER BY … LIMIT, which builds a record and runs a sorter step
//                           per matching row (measured at 1M chunks: retriever BM25 p99
//                           7.3–7.7 → 5.8–6.6 ms). The collector's KeepContext filter is
//                           tested first, from ChunkTable (the chunk's document and pages),
//                           instead of joins to chunks/documents per matching row (measured:
//                           23 ms → a few ms per query at 1M chunks).
#pragma once
#include <cstdint>
#include <shared_mutex>
#include <utility>
#include <vector>

#include "rag/store/vector_index.h"

namespace xnai::rag::store {

class Db;
class CompiledSlotFilter;

// Per-chunk data the functions need, by chunk seq: FTS5 token count, document, pages.
// Chunk rows are never updated and their seq numbers only grow (AUTOINCREMENT), so loading
// rows past the last seq seen keeps the table complete; rows of deleted chunks stay but are
// never looked up (FTS5 no longer matches them).
class ChunkTable {
 public:
  // Loads chunks newer than the last load. Takes the lock exclusively.
  void sync(Db& db);
  // Searches hold this shared while SQLite calls the functions.
  std::shared_mutex& mutex() const { return mu_; }
  // Token count of chunk `seq` (saturating at 65534), or -1 when not loaded. Caller holds mutex().
  int64_t length(int64_t seq) const { return known(seq) ? int64_t(len_[size_t(seq)]) : -1; }
  // The highest chunk seq loaded. Caller holds mutex().
  int64_t max_seq() const { return max_seq_; }
  // Document and (when with_pages) pages of chunk `seq`; false when not loaded. Caller holds mutex().
  bool attrs(int64_t seq, bool with_pages, SlotAttrs* out) const {
    if (!known(seq)) return false;
    out->doc = int64_t(doc_[size_t(seq)]);
    if (with_pages) {
      out->page_first = pages_[size_t(seq)].first;
      out->page_last = pages_[size_t(seq)].second;
    }
    return true;
  }

 private:
  // Separate narrow arrays: a query touches one entry per matching chunk in rowid order, so
  // the bytes per chunk decide how many of those touches miss the cache (measured: a
  // 24-byte row per chunk made the lookup 85% of xnai_bm25's time at 1M chunks).
  static constexpr uint16_t kUnknown = 0xffff;
  bool known(int64_t seq) const {
    return seq >= 0 && uint64_t(seq) < len_.size() && len_[size_t(seq)] != kUnknown;
  }
  mutable std::shared_mutex mu_;
  std::vector<uint16_t> len_;
  std::vector<uint32_t> doc_;
  std::vector<std::pair<int32_t, int32_t>> pages_;
  int64_t max_seq_ = 0;
};

// A compiled filter and the table its per-chunk tests read.
struct KeepContext {
  const CompiledSlotFilter* filter;
  const ChunkTable* table;
};

inline constexpr double kBm25K1 = 1.2, kBm25B = 0.75;  // FTS5's bm25() defaults

// A chunk and its BM25 score; better() is the result order: score descending, then seq.
struct ScoredChunk {
  int64_t seq = 0;
  double score = 0;
};
inline bool better(const ScoredChunk& a, const ScoredChunk& b) {
  return a.score != b.score ? a.score > b.score : a.seq < b.seq;
}

// The k best chunks offered, for xnai_bm25_top; bound as a pointer of type kTopKPointerType.
class Bm25TopK {
 public:
  Bm25TopK(int k, const KeepContext* keep_filter) : keep(keep_filter), k_(k) {}
  void offer(int64_t seq, double score);
  std::vector<ScoredChunk> take_sorted();  // best first; empties the collector
  const KeepContext* keep;                 // null: every chunk
  std::vector<double> idf;                 // of each scored phrase, set at the first matching row

 private:
  int k_;
  std::vector<ScoredChunk> heap_;  // the worst kept chunk on top
};
inline constexpr const char* kTopKPointerType = "xnai_bm25_top_k";

// Registers xnai_bm25 and xnai_bm25_top on `db`; `table` must outlive the connection.
void register_store_functions(Db& db, const ChunkTable* table);

}  // namespace xnai::rag::store
