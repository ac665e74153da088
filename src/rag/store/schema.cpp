#include "rag/store/schema.h"

#include <random>
#include <vector>

#include "core/error.h"
#include "rag/store/sqlite_db.h"

namespace xnai::rag::store {
namespace {

// Version 1. Integer keys ("seq", the rowid) join tables; the hex ids of rag/document.h are
// UNIQUE text columns. A document's chunks get consecutive seq values (one transaction, one
// writer, AUTOINCREMENT), recorded as documents.first_chunk/n_chunks, so a document's chunks
// are the seq range [first_chunk, first_chunk + n_chunks).
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE meta(
  key TEXT PRIMARY KEY,
  value NOT NULL
) WITHOUT ROWID;

CREATE TABLE documents(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  source_path TEXT NOT NULL,
  title TEXT NOT NULL,
  type TEXT NOT NULL,
  mtime INTEGER NOT NULL,
  content_hash TEXT NOT NULL,
  n_pages INTEGER NOT NULL,
  n_chunks INTEGER NOT NULL,
  first_chunk INTEGER NOT NULL
);
CREATE INDEX documents_source ON documents(source_path);
CREATE INDEX documents_type ON documents(type);
CREATE INDEX documents_mtime ON documents(mtime);

CREATE TABLE metadata(
  doc INTEGER NOT NULL REFERENCES documents(seq) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  num REAL,
  PRIMARY KEY(doc, key)
) WITHOUT ROWID;
CREATE INDEX metadata_key_value ON metadata(key, value);
CREATE INDEX metadata_key_num ON metadata(key, num);

CREATE TABLE tags(
  doc INTEGER NOT NULL REFERENCES documents(seq) ON DELETE CASCADE,
  tag TEXT NOT NULL,
  PRIMARY KEY(doc, tag)
) WITHOUT ROWID;
CREATE INDEX tags_tag ON tags(tag, doc);

CREATE TABLE chunks(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  doc INTEGER NOT NULL REFERENCES documents(seq) ON DELETE CASCADE,
  idx INTEGER NOT NULL,
  "begin" INTEGER NOT NULL,
  "end" INTEGER NOT NULL,
  page_first INTEGER NOT NULL,
  page_last INTEGER NOT NULL,
  heading_path TEXT NOT NULL,
  text TEXT NOT NULL,
  n_tokens INTEGER NOT NULL
);
CREATE INDEX chunks_doc ON chunks(doc, idx);

CREATE TABLE vectors(
  chunk INTEGER PRIMARY KEY REFERENCES chunks(seq) ON DELETE CASCADE,
  gen INTEGER NOT NULL,
  vec BLOB NOT NULL
);
CREATE INDEX vectors_gen ON vectors(gen);

CREATE TABLE vector_deletes(
  gen INTEGER NOT NULL,
  chunk INTEGER NOT NULL
);
CREATE INDEX vector_deletes_gen ON vector_deletes(gen);

CREATE VIRTUAL TABLE chunks_fts USING fts5(
  text, content='chunks', content_rowid='seq', tokenize='porter unicode61'
);

CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN
  INSERT INTO chunks_fts(rowid, text) VALUES (new.seq, new.text);
END;
CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN
  INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.seq, old.text);
END;
CREATE TRIGGER chunks_fts_update AFTER UPDATE OF text ON chunks BEGIN
  INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.seq, old.text);
  INSERT INTO chunks_fts(rowid, text) VALUES (new.seq, new.text);
END;

CREATE TRIGGER vectors_log_delete AFTER DELETE ON vectors BEGIN
  INSERT INTO vector_deletes(gen, chunk)
    VALUES ((SELECT value FROM meta WHERE key = 'generation'), old.chunk);
END;
CREATE TRIGGER vectors_log_update AFTER UPDATE OF vec ON vectors BEGIN
  UPDATE vectors SET gen = (SELECT value FROM meta WHERE key = 'generation') WHERE chunk = new.chunk;
END;
)sql";

std::string random_uuid() {
  std::random_device rd;
  std::mt19937_64 rng((uint64_t(rd()) << 32) ^ rd());
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 2; ++i) {
    uint64_t v = rng();
    for (int j = 0; j < 16; ++j, v >>= 4) s.push_back(hex[v & 15]);
  }
  return s;
}

// Migrations from version i to i+1 live at index i-1. None yet: version 1 is the first.
const std::vector<const char*> kMigrations = {};

}  // namespace

void ensure_schema(Db& db) {
  Transaction tx(db);
  const int64_t version = db.query_int("PRAGMA user_version").value_or(0);
  const int64_t app_id = db.query_int("PRAGMA application_id").value_or(0);
  if (version > kSchemaVersion)
    throw Error(ErrorKind::Unsupported, "store database " + db.path() + " has schema version " +
                                            std::to_string(version) + ", newer than this xnai supports (" +
                                            std::to_string(kSchemaVersion) + ")");
  if (version == 0) {
    const int64_t n_tables = db.query_int("SELECT count(*) FROM sqlite_schema").value_or(0);
    if (n_tables != 0 || app_id != 0)
      throw Error(ErrorKind::InvalidFormat,
                  "store database " + db.path() + " is not an xnai store (it holds other tables)");
    db.exec(kSchemaV1);
    auto s = db.prepare("INSERT INTO meta(key, value) VALUES (?1, ?2)");
    s.bind(1, meta_key::kStoreUuid).bind(2, random_uuid()).exec();
    db.exec("INSERT INTO meta(key, value) VALUES ('generation', 0), ('log_floor', 0)");
    db.exec("PRAGMA application_id = " + std::to_string(kApplicationId));
    db.exec("PRAGMA user_version = " + std::to_string(kSchemaVersion));
  } else {
    if (app_id != kApplicationId)
      throw Error(ErrorKind::InvalidFormat, "store database " + db.path() +
                                                " is not an xnai store (application_id " +
                                                std::to_string(app_id) + ")");
    for (int64_t v = version; v < kSchemaVersion; ++v) db.exec(kMigrations[size_t(v - 1)]);
    if (version != kSchemaVersion) db.exec("PRAGMA user_version = " + std::to_string(kSchemaVersion));
  }
  tx.commit();
}

}  // namespace xnai::rag::store
