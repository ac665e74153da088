#include "rag/retriever.h"

#include <algorithm>
#include <cctype>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"
#include "rag/stop_words.h"

namespace xnai::rag {
namespace {

// Whitespace-collapsed text, so a chunk copied into two files with different line wrapping
// still counts as one.
std::string dedupe_key(const std::string& text) {
  std::string key;
  key.reserve(text.size());
  bool space = false;
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f') {
      space = !key.empty();
      continue;
    }
    if (space) key.push_back(' ');
    space = false;
    key.push_back(c);
  }
  return key;
}

bool has_word_character(const std::string& s) {
  for (unsigned char c : s)
    if (c >= 0x80 || std::isalnum(c)) return true;
  return false;
}

}  // namespace

const char* retrieval_mode_name(RetrievalMode mode) {
  switch (mode) {
    case RetrievalMode::Hybrid:
      return "hybrid";
    case RetrievalMode::Vector:
      return "vector";
    case RetrievalMode::Bm25:
      return "bm25";
  }
  return "?";
}

std::vector<std::pair<std::string, double>> reciprocal_rank_fusion(const std::vector<RankedList>& lists,
                                                                   int k) {
  std::vector<std::pair<std::string, double>> fused;
  std::unordered_map<std::string, size_t> where;
  for (const auto& list : lists) {
    std::unordered_set<std::string> seen_here;
    for (size_t r = 0; r < list.ids.size(); ++r) {
      const std::string& id = list.ids[r];
      if (!seen_here.insert(id).second) continue;
      const double s = 1.0 / (k + static_cast<double>(r + 1));
      auto [it, inserted] = where.emplace(id, fused.size());
      if (inserted)
        fused.emplace_back(id, s);
      else
        fused[it->second].second += s;
    }
  }
  std::stable_sort(fused.begin(), fused.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  return fused;
}

RetrievalMode plan_retrieval(const Store& store, const runtime::Embedder* embedder, RetrievalMode requested,
                             std::string* note) {
  if (note) note->clear();
  if (requested == RetrievalMode::Bm25) return requested;
  const StoreStats st = store.stats();
  if (!embedder) {
    if (note && st.n_vectors > 0)
      *note = "this store has vectors from embedding model '" + st.embedding_model +
              "': pass that model (--embed-model or XNAI_EMBED_MODEL) for hybrid search; BM25 only now";
    return RetrievalMode::Bm25;
  }
  if (st.n_vectors == 0 || st.embedding_model.empty()) {
    if (note) *note = "the store holds no vectors yet (ingest with an embedding model): BM25 search only";
    return RetrievalMode::Bm25;
  }
  if (st.embedding_model != embedder->model_name())
    throw Error(ErrorKind::InvalidArgument,
                "the store's vectors come from embedding model '" + st.embedding_model +
                    "' but the configured model is '" + embedder->model_name() +
                    "'; use the same model or ingest into another data directory");
  if (st.embedding_dim != 0 && st.embedding_dim != embedder->dim())
    throw Error(ErrorKind::InvalidArgument, "the store's vectors have dimension " +
                                                std::to_string(st.embedding_dim) + " but embedding model '" +
                                                embedder->model_name() + "' gives " +
                                                std::to_string(embedder->dim()));
  return requested;
}

RetrieveResult retrieve(const Store& store, runtime::Embedder* embedder, const std::string& query,
                        const RetrieveOptions& opts) {
  if (opts.top_k < 1)
    throw Error(ErrorKind::InvalidArgument, "top_k must be >= 1, got " + std::to_string(opts.top_k));
  RetrieveResult result;
  result.mode = embedder ? opts.mode : RetrievalMode::Bm25;
  if (!has_word_character(query)) return result;

  const bool use_vector = result.mode != RetrievalMode::Bm25;
  const bool use_bm25 = result.mode != RetrievalMode::Vector;
  // Deeper lists than top_k: fusion, dedupe and the threshold all remove candidates.
  const int n = opts.candidates > 0 ? opts.candidates : std::max(4 * opts.top_k, 40);

  std::vector<Hit> vec_hits, bm25_hits;
  if (use_vector) {
    auto q = embedder->embed({query});
    if (q.size() != 1)
      throw Error(ErrorKind::Internal,
                  "embedder returned " + std::to_string(q.size()) + " vectors for 1 text");
    vec_hits = store.search_vector(q[0], n, opts.filter);
  }
  if (use_bm25) bm25_hits = store.search_bm25(detail::without_stop_words(query), n, opts.filter);

  // Every candidate by chunk id, with its rank and score in each list; the lists keep the ids.
  std::unordered_map<std::string, RetrievedHit> by_id;
  auto note_list = [&](std::vector<Hit>& hits, bool vector) {
    RankedList list;
    int rank = 0;
    for (auto& h : hits) {
      ++rank;
      list.ids.push_back(h.chunk.id);
      const double score = h.score;
      auto [it, inserted] = by_id.try_emplace(h.chunk.id);
      RetrievedHit& rh = it->second;
      if (inserted) rh.hit = std::move(h);
      if (vector && rh.vector_rank == 0) rh.vector_rank = rank, rh.vector_score = score;
      if (!vector && rh.bm25_rank == 0) rh.bm25_rank = rank, rh.bm25_score = score;
    }
    return list;
  };
  const RankedList vec_list = note_list(vec_hits, true);
  const RankedList bm25_list = note_list(bm25_hits, false);

  std::vector<std::pair<std::string, double>> order;
  if (result.mode == RetrievalMode::Hybrid) {
    order = reciprocal_rank_fusion({vec_list, bm25_list}, opts.rrf_k);
    // Normalised so that first place in both lists is 1.0 (see the header).
    for (auto& entry : order) entry.second *= (opts.rrf_k + 1) / 2.0;
  } else {
    for (const auto& id : use_vector ? vec_list.ids : bm25_list.ids) {
      const auto& rh = by_id.at(id);
      order.emplace_back(id, use_vector ? rh.vector_score : rh.bm25_score);
    }
    std::stable_sort(order.begin(), order.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
  }

  std::unordered_set<std::string> seen_ids, seen_text;
  for (const auto& [id, s] : order) {
    if (static_cast<int>(result.hits.size()) >= opts.top_k) break;
    if (opts.score_threshold && s < *opts.score_threshold) break;  // `order` is sorted by score
    if (!seen_ids.insert(id).second) continue;
    RetrievedHit& rh = by_id.at(id);
    if (opts.dedupe_text && !seen_text.insert(dedupe_key(rh.hit.chunk.text)).second) continue;
    rh.score = s;
    rh.hit.score = s;
    result.hits.push_back(std::move(rh));
  }
  return result;
}

}  // namespace xnai::rag
