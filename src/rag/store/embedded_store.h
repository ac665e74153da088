// The embedded store backend (open_embedded_store() in rag/store.h returns one): SQLite for
// documents, chunks, metadata, vectors and the FTS5 BM25 index, plus an in-memory vector
// index (HNSW + exact scans) that is a derived cache of the vector BLOBs, checkpointed to
// vectors.idx. docs/store-format.md describes the files and the crash-safety argument.
//
// This header adds what only the embedded backend has: checkpoints, index status,
// consistency verification and FAISS import. Thread-safety as in rag/store.h; every method
// here may run concurrently with searches.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rag/store.h"

namespace xnai::rag {

struct EmbeddedIndexStatus {
  std::string kernel;            // SIMD kernel in use: "avx512", "avx2" or "scalar"
  int64_t db_generation = 0;     // meta.generation in store.sqlite
  int64_t index_generation = 0;  // the generation the in-memory index reflects
  int64_t file_generation = -1;  // the generation in vectors.idx (-1: none)
  size_t live = 0, tombstones = 0, slots = 0;
  size_t memory_bytes = 0;  // of the in-memory index
  // Counters since open.
  int64_t full_rebuilds = 0, catch_ups = 0, reconciles = 0, consolidations = 0, checkpoints = 0;
  int64_t bm25_pruned = 0;   // BM25 queries answered by max-score pruning (bm25_search.h)
  std::string open_problem;  // why vectors.idx was not used at open ("" when it was or none was needed)
};

struct FaissImportResult {
  int64_t imported = 0;    // vectors attached to chunks
  int64_t skipped = 0;     // ids with no chunk (mapping gave none, or the chunk is not stored)
  std::string index_type;  // e.g. "IxM2/IHNf/IxFI"
};

class EmbeddedStore : public Store {
 public:
  static constexpr const char* kDatabaseFile = "store.sqlite";
  static constexpr const char* kIndexFile = "vectors.idx";

  // Opens or creates the store in opts.data_dir; reads vectors.idx when it matches the
  // database, otherwise catches it up or rebuilds it from the BLOBs. Throws Error(Io) when
  // the directory or database cannot be used, Error(Unsupported) for a newer schema.
  explicit EmbeddedStore(const EmbeddedStoreOptions& opts);
  // Checkpoints the vector index when it changed (errors are swallowed: the file is only a cache).
  ~EmbeddedStore() override;

  std::string backend_name() const override { return "embedded"; }
  void upsert_document(const Document& doc, const std::vector<Chunk>& chunks,
                       const std::vector<std::vector<float>>& embeddings,
                       const std::string& embedding_model) override;
  bool delete_document(const std::string& doc_id) override;
  std::optional<DocumentInfo> find_document(const std::string& doc_id) const override;
  std::optional<DocumentInfo> find_document_by_source(const std::string& source_path) const override;
  std::vector<DocumentInfo> list_documents(const Filter& filter = {}) const override;
  std::optional<Chunk> get_chunk(const std::string& chunk_id) const override;
  std::vector<Hit> search_vector(const std::vector<float>& query, int k,
                                 const Filter& filter = {}) const override;
  std::vector<Hit> search_bm25(const std::string& query, int k, const Filter& filter = {}) const override;
  StoreStats stats() const override;

  // Brings the in-memory index up to date (searches do this themselves) and writes vectors.idx.
  void checkpoint();
  EmbeddedIndexStatus index_status() const;
  // Full consistency check: PRAGMA integrity_check, FTS5 integrity-check, chunk/document
  // counts, and that the vector index holds exactly the vectors table's labels with equal
  // vectors and page/document attributes. Returns the problems found (empty = consistent).
  std::vector<std::string> verify() const;

  // Attaches the vectors of a FAISS index file to stored chunks in one transaction:
  // chunk_for_id maps each FAISS id to a chunk id (nullopt: skip). Replaces existing vectors
  // of those chunks; the dimension/model rules of upsert_document apply.
  FaissImportResult import_faiss(const std::string& faiss_path, const std::string& embedding_model,
                                 const std::function<std::optional<std::string>(int64_t)>& chunk_for_id);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace xnai::rag
