// The store interface: documents, chunks, their embeddings, a BM25 index and a vector
// index behind one API. The embedded backend (SQLite + our vector index, one data
// directory) is the default; a Qdrant backend implements the same interface, and one test
// suite (tests/rag/store_suite.h) runs against every backend.
//
// Consistency contract: upsert_document() and delete_document() are atomic — after a crash
// at any point (kill -9) a reopened store holds either the old or the new state of that
// document, never a mix, and search never returns a chunk whose document is gone.
// Thread-safety: one writer at a time; searches may run concurrently with each other.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rag/document.h"

namespace xnai::rag {

struct DocumentInfo {
  std::string id, source_path, title, type, content_hash;
  int64_t mtime = 0;
  int n_chunks = 0;
  int n_pages = 0;
  std::map<std::string, std::string> metadata;
};

struct Hit {
  Chunk chunk;            // with text and offsets
  DocumentInfo document;  // the chunk's document (source path, title, type, mtime …)
  double score = 0;       // higher is better; meaning depends on the search kind
};

struct StoreStats {
  int64_t n_documents = 0, n_chunks = 0, n_vectors = 0;
  int embedding_dim = 0;        // 0 until the first embedding is stored
  std::string embedding_model;  // the model the vectors came from ("" when none)
};

class Store {
 public:
  virtual ~Store() = default;
  virtual std::string backend_name() const = 0;

  // Replaces everything stored for doc.id with this document and its chunks, atomically.
  // `embeddings` is empty (no embedding model) or holds one vector per chunk, all of the
  // store's dimension (the first upsert fixes it; a different dimension or model name is an
  // Error naming both, since mixing models silently ruins search).
  virtual void upsert_document(const Document& doc, const std::vector<Chunk>& chunks,
                               const std::vector<std::vector<float>>& embeddings,
                               const std::string& embedding_model) = 0;
  // Returns false when no such document exists.
  virtual bool delete_document(const std::string& doc_id) = 0;

  virtual std::optional<DocumentInfo> find_document(const std::string& doc_id) const = 0;
  virtual std::optional<DocumentInfo> find_document_by_source(const std::string& source_path) const = 0;
  virtual std::vector<DocumentInfo> list_documents(const Filter& filter = {}) const = 0;
  virtual std::optional<Chunk> get_chunk(const std::string& chunk_id) const = 0;

  // Top-k by cosine similarity (vectors are L2-normalised, so inner product), filter applied
  // inside the search: k hits come back whenever k matching chunks exist.
  virtual std::vector<Hit> search_vector(const std::vector<float>& query, int k,
                                         const Filter& filter = {}) const = 0;
  // Top-k by BM25 over chunk text (score: higher is better), filter applied inside.
  virtual std::vector<Hit> search_bm25(const std::string& query, int k, const Filter& filter = {}) const = 0;

  virtual StoreStats stats() const = 0;
};

struct EmbeddedStoreOptions {
  std::string data_dir;  // created when missing
  // Vector index tuning (docs/store-format.md). The defaults meet recall@10 >= 0.95 on the
  // 1M-chunk benchmark; tests lower exact_search_max to exercise the graph on small data.
  int exact_search_max = 20000;  // collections / filtered candidate sets up to this size are searched exactly
  int hnsw_m = 16;               // graph degree (2*m on the bottom layer)
  int hnsw_ef_construction = 100;  // candidate list while inserting
  int hnsw_ef_search = 64;         // candidate list while searching (at least k; scaled up under filters)
  int index_threads = 0;  // threads for bulk index builds and split BM25 queries; 0 = one per physical core
  // BM25 queries over more chunks than this run as rowid ranges on index_threads connections
  // at once (rag/store/bm25_search.h); tests lower it to exercise the split on small data.
  int64_t bm25_split_min_chunks = 200000;
  // Filtered searches scan the candidates exactly unless a graph walk is estimated cheaper:
  // this is the walk's cost per unit of ef in exact dot products (docs/store-format.md).
  // 0 makes every filtered search that exceeds exact_search_max walk the graph (tests).
  double graph_cost_per_ef = 50;
  // The vector index file is rewritten (a checkpoint) once this many vector changes have
  // accumulated since the last one, and when the store is closed; 0 = only when closed.
  int64_t index_checkpoint_changes = 200000;
};

// The default backend: SQLite (documents, chunks, metadata, FTS5) + the vector index, in data_dir.
std::unique_ptr<Store> open_embedded_store(const EmbeddedStoreOptions& opts);

}  // namespace xnai::rag
