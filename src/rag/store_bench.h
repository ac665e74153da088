// Benchmark of the embedded store alone (part of `xnai bench rag`; bench/rag_store_bench.cpp
// runs it too): fills a new store with N synthetic chunks carrying 384-d vectors, then times
// adds, the vector-index build, checkpoint and reopen, and vector / BM25 / hybrid search
// latency (p50/p99, one query at a time), with recall@k of vector search against an exact
// scan of the same vectors, unfiltered and under filters.
//
// Synthetic data (seeded, so runs are comparable):
//   text    — words from a 30,000-word pseudo-vocabulary with Zipf(1) frequencies, as natural
//             text has; BM25 queries are 3 words of a chunk, skipping the 200 most frequent
//             words (what stop-word removal does to real queries).
//   vectors — sentence embeddings are far from uniformly random: they concentrate near a
//             low-dimensional set. Each vector is a random linear image (384 × latent_dim)
//             of a point drawn around one of `clusters` latent centres, plus isotropic noise,
//             L2-normalised. Queries are fresh draws from the same process, not stored
//             vectors. latent_dim = 0 gives uniformly random unit vectors (the worst case
//             for any ANN index, reported separately when asked for).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "rag/store.h"

namespace xnai::rag {

struct StoreBenchOptions {
  std::string data_dir;  // the store is created here; must not hold a store yet, unless reuse_store
  // Keep the filled store in data_dir and, when it holds one filled with the same corpus
  // options, time the searches on it without filling it again (add and build are not timed).
  bool reuse_store = false;
  int64_t chunks = 100000;
  int dim = 384;
  int chunks_per_document = 50;
  int words_per_chunk = 60;
  int latent_dim = 32;  // 0: uniformly random unit vectors
  int clusters = 1000;
  float noise = 0.3f;        // isotropic noise, relative to the signal's norm
  int queries = 1000;        // timed queries per search kind
  int recall_queries = 200;  // of which this many also run exactly, for recall
  int k = 10;
  int hybrid_candidates = 40;  // per-list depth fused by RRF for hybrid (as the retriever does)
  uint64_t seed = 1;
  EmbeddedStoreOptions store;                        // index tuning; data_dir is taken from above
  std::function<void(const std::string&)> progress;  // progress lines while filling
};

struct SearchLatency {
  double p50_ms = 0, p99_ms = 0, mean_ms = 0;
};

struct StoreBenchResult {
  int64_t chunks = 0, documents = 0;
  int dim = 0;
  std::string kernel;  // SIMD kernel of the vector index
  int index_threads = 0;
  double add_seconds = 0;          // upsert_document of everything: SQLite rows, FTS5, vector BLOBs
  double index_build_seconds = 0;  // the in-memory index catching up with all vectors (HNSW build)
  double checkpoint_seconds = 0;   // writing vectors.idx
  double reopen_seconds = 0;       // opening the filled store again (loads vectors.idx)
  std::string reopen_problem;      // why the reopen did not use vectors.idx ("" = it did)
  bool reused = false;          // the store of an earlier run was searched (add/build/checkpoint not timed)
  int64_t reopen_rebuilds = 0;  // full index rebuilds the reopen needed (0 expected)
  uint64_t db_bytes = 0, index_file_bytes = 0;
  uint64_t index_memory_bytes = 0, peak_rss_bytes = 0;
  SearchLatency vector, bm25, hybrid, vector_filtered, vector_selective, bm25_filtered;
  double recall = 0;             // recall@k of search_vector vs exact, no filter
  double recall_filtered = 0;    // under `type = pdf` (a quarter of the chunks)
  double recall_selective = 0;   // under `tags = rare` (0.5% of the chunks)
  double exact_ms = 0;           // one exact brute-force scan, for reference
  double bm25_mean_matches = 0;  // chunks matching a BM25 query, on average (sampled)
  double add_chunks_per_second() const { return add_seconds > 0 ? double(chunks) / add_seconds : 0; }
};

// The benchmark's synthetic vectors (see the file comment), for benchmarks of the index
// alone: the vectors of chunks [0, n) of the store benchmark, and n fresh query vectors,
// row-major n × dim.
std::vector<float> synthetic_chunk_vectors(const StoreBenchOptions& opts, int64_t n);
std::vector<float> synthetic_query_vectors(const StoreBenchOptions& opts, int n);

// Runs the whole benchmark. Throws Error for a bad directory or options.
StoreBenchResult run_store_bench(const StoreBenchOptions& opts);

// A readable multi-line report.
std::string format_store_bench(const StoreBenchResult& r);

}  // namespace xnai::rag
