// The vector index file (vectors.idx) of the embedded store: a checkpoint of VectorIndex
// tagged with the store it belongs to and the SQLite generation it reflects, so a stale,
// foreign or torn file is detected on open (docs/store-format.md gives the byte layout).
//
// Writing goes to a temporary file that is fsynced and renamed over the old one, so readers
// only ever see a complete old or a complete new file; a checksum over everything still
// catches a file damaged in any other way.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "rag/store/vector_index.h"

namespace xnai::rag::store {

struct IndexFileTag {
  std::string store_uuid;  // meta.store_uuid of the database
  int64_t generation = 0;  // meta.generation the index reflects
};

class VectorIndexFile {
 public:
  // Writes `index` to `path` atomically (tmp + fsync + rename + fsync of the directory).
  // Throws Error(Io) naming the path on failure; the old file is then left untouched.
  static void save(const VectorIndex& index, const IndexFileTag& tag, const std::string& path);

  struct Loaded {
    std::unique_ptr<VectorIndex> index;  // null when the file could not be used
    IndexFileTag tag;
    std::string problem;  // why not (missing, torn, checksum, params …)
  };
  // Reads `path`. Never throws for a bad file: returns the reason in `problem`, so the
  // store rebuilds from the database instead. The file's dimension and graph degree must
  // equal `expect` (ef_construction is taken from `expect`).
  static Loaded load(const std::string& path, const IndexParams& expect);

  // Just the tag (and index parameters) from the header, or problem set. Cheap.
  static Loaded peek(const std::string& path);
};

}  // namespace xnai::rag::store
