// Benchmarks of the RAG pipeline (`xnai bench rag`): ingest throughput over a synthetic
// corpus of files, and retrieval latency (vector, BM25, hybrid through the retriever) and
// vector recall@k against exact search, on a store filled with synthetic chunks.
//
// Synthetic data, so runs are comparable and need no downloads: text is drawn from a
// 20,000-word pseudo-vocabulary with Zipf-distributed frequencies (as natural text has);
// vectors are unit vectors around 1,000 random centres (real embeddings cluster by topic;
// uniformly random vectors would be an unrealistically hard case for any ANN index, and are
// available with clusters = 0). Everything is seeded: the same options give the same data.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "rag/store.h"
#include "runtime/embedder.h"

namespace xnai::rag {

struct IngestBenchOptions {
  std::string work_dir;      // scratch folder (files and store are written under it)
  int files = 200;
  int paragraphs_per_file = 40;
  int words_per_paragraph = 60;
  uint64_t seed = 1;
  runtime::Embedder* embedder = nullptr;  // null: BM25-only ingest
};

struct IngestBenchResult {
  int files = 0;
  int64_t chunks = 0, bytes = 0;
  double seconds = 0, embed_seconds = 0;
  double chunks_per_second() const { return seconds > 0 ? static_cast<double>(chunks) / seconds : 0; }
};

// Writes the corpus and ingests it into a new store under work_dir (timing the ingest only).
IngestBenchResult bench_ingest(const IngestBenchOptions& opts);

struct LatencyStats {
  int n = 0;
  double p50_ms = 0, p99_ms = 0, mean_ms = 0, max_ms = 0;
};
LatencyStats latency_stats(std::vector<double> ms);

struct SearchBenchOptions {
  int64_t chunks = 100000;
  int dim = 384;
  int clusters = 1000;       // 0: uniformly random unit vectors
  int chunks_per_document = 100;
  int words_per_chunk = 40;
  int queries = 500;
  int recall_queries = 200;  // of the queries, how many are also run exactly for recall
  int k = 10;
  uint64_t seed = 7;
  // Called with a line of progress ("filling store 40%") while the store is built.
  std::function<void(const std::string&)> progress;
};

struct SearchBenchResult {
  int64_t chunks = 0;
  int dim = 0;
  double build_seconds = 0;  // filling the store (documents, FTS, vectors, index)
  LatencyStats vector, bm25, hybrid;
  double recall_at_k = 0;    // mean over recall_queries of |ANN top-k ∩ exact top-k| / k
  double exact_ms = 0;       // mean time of one exact (brute-force) search, for reference
};

// Fills `store` (which must be empty) with synthetic documents, chunks and vectors, then
// times search_vector, search_bm25 and the hybrid retriever (top_k = k), and measures the
// recall of search_vector against an exact scan of the same vectors.
SearchBenchResult bench_search(Store& store, const SearchBenchOptions& opts);

}  // namespace xnai::rag
