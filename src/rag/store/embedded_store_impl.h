// Private state of EmbeddedStore, shared by embedded_store.cpp (documents, chunks, BM25)
// and embedded_store_index.cpp (the vector index: sync, checkpoints, vector search).
//
// Locking: write_mu serialises writers (and owns the writer connection); index_mu guards
// the in-memory index (shared for searches, exclusive to change it); readers lease their own
// connection from a pool. Lock order: write_mu before index_mu, never the reverse.
#pragma once
#include <atomic>
#include <filesystem>
#include <list>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "rag/store/bm25_rank.h"
#include "rag/store/bm25_search.h"
#include "rag/store/embedded_store.h"
#include "rag/store/slot_filter.h"
#include "rag/store/sqlite_db.h"
#include "rag/store/vector_index.h"

namespace xnai::rag {

struct EmbeddedStore::Impl {
  EmbeddedStoreOptions opts;
  std::filesystem::path dir, db_path, index_path;
  std::string uuid;
  int n_threads = 1;

  std::mutex write_mu;
  std::unique_ptr<store::Db> writer;
  int64_t unsaved_changes = 0;  // vector adds + removes written since the last checkpoint (write_mu)

  std::mutex pool_mu;
  std::vector<std::unique_ptr<store::Db>> readers;
  store::ChunkTable chunk_table;      // for xnai_bm25 / xnai_bm25_top, registered on every reader
  store::DocFrequencyCache df_cache;  // of BM25 query terms, for the current generation

  std::shared_mutex index_mu;
  std::unique_ptr<store::VectorIndex> index;  // null while the store holds no vectors
  int64_t index_gen = -1;                     // the generation `index` reflects
  bool no_vectors_at_index_gen = false;       // index is null because the store had no vectors then
  int64_t saved_gen = -1;                     // the generation in vectors.idx (-1: none)
  int dim = 0;                                // the store's embedding dimension (0: none yet)
  std::string open_problem;
  std::atomic<int64_t> n_bm25_pruned{0}, n_rebuilds{0}, n_catch_ups{0}, n_reconciles{0}, n_consolidations{0},
      n_checkpoints{0};

  // Document sets of recent filters (the SQL part of a vector-search filter), reused while
  // the generation stays the same: filters repeat far more often than the store changes.
  std::mutex doc_set_mu;
  int64_t doc_set_gen = -1;
  std::list<std::pair<std::string, std::shared_ptr<const store::DocSet>>> doc_sets;  // most recent first
  std::shared_ptr<const store::DocSet> doc_set(store::Db& db, const store::SqlCondition& cond, int64_t gen);

  // A reader connection on loan, returned to the pool on destruction.
  class Reader {
   public:
    Reader(Impl& im, std::unique_ptr<store::Db> db) : im_(im), db_(std::move(db)) {}
    Reader(Reader&&) = default;
    ~Reader();
    store::Db& db() { return *db_; }

   private:
    Impl& im_;
    std::unique_ptr<store::Db> db_;
  };
  Reader reader();

  int64_t db_generation(store::Db& db);

  // --- embedded_store_index.cpp ---
  // Opens vectors.idx if it belongs to this database, then syncs. Called once from the constructor.
  void open_index();
  // Makes `index` reflect the database's current generation: applies logged deletions and
  // new vectors, reconciles when the log was pruned past us, rebuilds when there is no
  // usable index. Caller holds index_mu exclusively.
  void sync_index(store::Db& db);
  // Holds a shared lock on index_mu on return, with the index synced to at least the
  // generation the database had on entry.
  std::shared_lock<std::shared_mutex> synced_shared_lock(store::Db& db);
  // Syncs and writes vectors.idx, then prunes the deletion log. Caller holds write_mu.
  void checkpoint_locked();
  std::vector<std::pair<int64_t, float>> vector_search(store::Db& db, const std::vector<float>& query, int k,
                                                       const Filter& filter);
  void verify_index(store::Db& db, std::vector<std::string>& problems);

 private:
  void rebuild_index(store::Db& db);
  void add_rows(store::Db& db, const std::string& sql, int64_t after_gen);
};

// Helpers shared by the two implementation files.
namespace store {
// L2-normalised copy of v; throws Error(InvalidArgument) naming `what` for NaN/Inf.
std::vector<float> normalized(const std::vector<float>& v, const std::string& what);
}  // namespace store

}  // namespace xnai::rag
