// The SQLite schema of the embedded store and its migrations (docs/store-format.md has the
// tables in prose). PRAGMA user_version holds the schema version; application_id marks the
// file as an xnai store.
#pragma once
#include <cstdint>
#include <string>

namespace xnai::rag::store {

class Db;

inline constexpr int kSchemaVersion = 1;
inline constexpr int32_t kApplicationId = 0x784e4149;  // "xNAI"

// Creates the schema in an empty database or migrates an older one, in one transaction.
// Throws Error(Unsupported) for a newer schema version and Error(InvalidFormat) for a
// database that is not an xnai store (another application_id or foreign tables).
void ensure_schema(Db& db);

// Keys of the meta table.
namespace meta_key {
inline constexpr const char* kStoreUuid = "store_uuid";   // random, fixed at creation
inline constexpr const char* kGeneration = "generation";  // bumped by every write transaction
inline constexpr const char* kLogFloor = "log_floor";     // vector_deletes rows with gen <= this were pruned
inline constexpr const char* kEmbeddingDim = "embedding_dim";  // absent until the first vector
inline constexpr const char* kEmbeddingModel = "embedding_model";
}  // namespace meta_key

}  // namespace xnai::rag::store
