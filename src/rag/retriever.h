// Retrieval: the question → the chunks worth reading. Vector search and BM25 search each
// return their top N candidates (with the metadata filter applied inside both searches, so
// a selective filter still yields top_k hits), then reciprocal rank fusion merges the two
// ranked lists, duplicates are dropped, the score threshold applied and top_k kept.
//
// The BM25 query is the question without English stop words ("what", "is", "the" …): they
// match most chunks, so they slow full-text search down and add nothing to the ranking.
//
// Modes: Hybrid (both searches, fused), Vector only, BM25 only. With no embedder the mode is
// always BM25 — retrieval works with no model files at all.
//
// Scores (RetrievedHit::score, the value the threshold compares against):
//   Hybrid: normalised RRF, Σ_lists (k+1)/(k+rank) / n_lists, in (0, 1]: 1.0 = first in every
//           list, 0.5 = first in one list and absent from the other.
//   Vector: the cosine similarity, in [-1, 1].
//   BM25:   the store's BM25 score (≥ 0, unbounded; higher is better).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "rag/document.h"
#include "rag/store.h"
#include "runtime/embedder.h"

namespace xnai::rag {

enum class RetrievalMode { Hybrid, Vector, Bm25 };

const char* retrieval_mode_name(RetrievalMode mode);  // "hybrid", "vector", "bm25"

struct RetrieveOptions {
  int top_k = 5;
  std::optional<double> score_threshold;       // hits scoring below (see the file comment) are dropped
  Filter filter;                               // pushed into both searches
  RetrievalMode mode = RetrievalMode::Hybrid;  // Hybrid/Vector need an embedder, else BM25
  int candidates = 0;                          // per-list depth before fusion; 0 = max(4 * top_k, 40)
  int rrf_k = 60;                              // the RRF constant (Cormack et al. 2009)
  bool dedupe_text = true;                     // drop a hit whose text equals a better hit's (copied files)
};

struct RetrievedHit {
  Hit hit;                  // chunk + document, hit.score = `score` below
  double score = 0;         // see the file comment
  int vector_rank = 0;      // 1-based rank in the vector list, 0 = absent
  int bm25_rank = 0;        // 1-based rank in the BM25 list, 0 = absent
  double vector_score = 0;  // cosine (valid when vector_rank > 0)
  double bm25_score = 0;    // BM25 (valid when bm25_rank > 0)
};

struct RetrieveResult {
  RetrievalMode mode = RetrievalMode::Bm25;  // the mode actually used
  std::vector<RetrievedHit> hits;            // best first, at most top_k
};

// One ranked list entering fusion: chunk ids best first.
struct RankedList {
  std::vector<std::string> ids;
};

// Reciprocal rank fusion of ranked lists: each id scores Σ 1/(k + rank) over the lists that
// hold it (rank 1-based); returned best first as (id, raw RRF score). Ties keep the order of
// first appearance (list 0 first), so the result is deterministic. An id repeated within one
// list counts at its best rank only.
std::vector<std::pair<std::string, double>> reciprocal_rank_fusion(const std::vector<RankedList>& lists,
                                                                   int k = 60);

// The mode to use with this store and embedder, decided once per session (it reads
// store.stats(), which may count rows): BM25 when there is no embedder or the store holds no
// vectors yet, else `requested`. `note` (if not null) receives a line worth showing the user,
// or "": the store has vectors but no embedder was given, or an embedder but no vectors. Throws
// Error(InvalidArgument) when the store's vectors come from another embedding model than
// `embedder`, naming both (mixing models silently ruins search).
RetrievalMode plan_retrieval(const Store& store, const runtime::Embedder* embedder, RetrievalMode requested,
                             std::string* note = nullptr);

// Runs one retrieval in opts.mode (BM25 whenever `embedder` is null). Throws
// Error(InvalidArgument) when top_k < 1 or a Vector search is asked without an embedder.
// An empty (or all-punctuation) query returns no hits.
RetrieveResult retrieve(const Store& store, runtime::Embedder* embedder, const std::string& query,
                        const RetrieveOptions& opts);

}  // namespace xnai::rag
