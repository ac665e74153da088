// The parts of `xnai bench rag` above the store (the store itself is measured by
// rag/store_bench.h): ingest throughput of the whole pipeline over a synthetic corpus of
// files, and the latency of the retriever as `xnai search` / `xnai ask` run it — both
// searches, stop-word filtering, fusion, dedupe and fetching the hits — on a filled store.
//
// The corpus is seeded pseudo-text with Zipf-distributed word frequencies (as natural text
// has), half .txt, half .md with headings, so runs are comparable and need no downloads.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "rag/store.h"
#include "runtime/embedder.h"

namespace xnai::rag {

struct IngestBenchOptions {
  std::string work_dir;  // scratch folder: the corpus and the store are written under it
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

// Writes the corpus (reused when already there) and ingests it into a new store under
// work_dir, timing the ingest only.
IngestBenchResult bench_ingest(const IngestBenchOptions& opts);

struct LatencyStats {
  int n = 0;
  double p50_ms = 0, p99_ms = 0, mean_ms = 0, max_ms = 0;
};
LatencyStats latency_stats(std::vector<double> ms);

struct RetrieverBenchResult {
  // retrieve() in Hybrid mode on the first pass over the queries: every term's document
  // frequency still to count, its postings perhaps not in the page cache (a one-shot
  // `xnai search` in a cold process).
  LatencyStats hybrid_first;
  LatencyStats hybrid, bm25;  // then again in Hybrid and in Bm25 mode: a server's steady state
};

// Times retrieve() (top_k = k) on a store whose vectors come from `embedding_model`, with
// one query per row of `query_vectors` (n × dim, row-major). Each query's text is three
// words of the chunk nearest to its vector that are not among the 200 most frequent words
// of those chunks (what stop-word removal leaves of a real question); the query's vector is
// handed to the retriever by a stand-in embedder, so the model's own cost is left out.
RetrieverBenchResult bench_retriever(const Store& store, const std::string& embedding_model,
                                     const std::vector<float>& query_vectors, int dim, int k);

}  // namespace xnai::rag
