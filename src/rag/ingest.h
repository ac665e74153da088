// The ingest pipeline: files → documents → chunks → embeddings → store.
//
// For each file find_documents() yields: when the store already holds that source path with
// the same content hash (sha256 of the file's bytes) — and, with an embedder, vectors of the
// same model — the file is skipped without being parsed; otherwise it is loaded, chunked (the
// embedder's token counter bounds the chunks when there is one), embedded in batches and
// stored with one atomic upsert_document (a changed file's old chunks are replaced). A file
// that fails to load (broken, encrypted, unsupported) is recorded with its reason and the
// ingest goes on; errors of the store or the embedder stop it (they would fail every file).
//
// Pruning (opt-in): documents stored from under one of the given paths whose files no longer
// exist are deleted. Documents from elsewhere are never touched.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "rag/store.h"
#include "runtime/embedder.h"

namespace xnai::rag {

struct IngestProgress {
  size_t files_done = 0, files_total = 0;
  std::string current;      // the file being processed ("" once done)
  int64_t chunks_done = 0;  // chunks stored so far
};

struct IngestOptions {
  int max_chunk_tokens = 0;  // 0 = the chunker's default, capped by the embedder's input size
  int overlap_tokens = -1;   // < 0 = the chunker's default
  int embed_batch = 32;      // texts per Embedder::embed call
  bool prune = false;        // delete stored documents whose files vanished (see above)
  // Called after each file (and before the first); on the calling thread.
  std::function<void(const IngestProgress&)> progress;
};

struct IngestFailure {
  std::string path;
  std::string reason;
};

struct IngestSummary {
  std::vector<std::string> added, updated, skipped;  // source paths
  std::vector<IngestFailure> failed;
  std::vector<std::string> pruned;  // source paths of deleted documents
  int64_t chunks_added = 0;         // chunks stored by this run (added + updated documents)
  int64_t bytes_read = 0;           // of the files parsed
  double seconds = 0;               // wall time of the whole run
  double embed_seconds = 0;         // of which spent embedding
};

// Runs the pipeline over `paths` (files and folders; see find_documents). `embedder` may be
// null: chunks are stored without vectors and search is BM25 only. Throws
// Error(InvalidArgument) when the store's vectors come from another model than `embedder`,
// or when the store holds vectors and no embedder is given (new chunks would lack vectors).
IngestSummary ingest(Store& store, runtime::Embedder* embedder, const std::vector<std::string>& paths,
                     const IngestOptions& opts = {});

}  // namespace xnai::rag
