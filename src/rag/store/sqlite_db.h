// A thin RAII layer over the SQLite C API for the embedded store: one connection (Db), its
// cached prepared statements (Stmt), and a transaction guard. Every SQLite failure becomes
// xnai::Error naming the database file and the statement.
//
// Thread-safety: a Db (and its statements) is used by one thread at a time; the store keeps
// one writer connection and a pool of reader connections.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace xnai::rag::store {

class Db;

// A prepared statement, borrowed from Db's cache (reset on destruction so the cached
// statement is ready for the next user) or owned (finalized on destruction).
class Stmt {
 public:
  Stmt(Db& db, sqlite3_stmt* s, bool owned) : db_(&db), s_(s), owned_(owned) {}
  Stmt(Stmt&& o) noexcept : db_(o.db_), s_(o.s_), owned_(o.owned_) { o.s_ = nullptr; }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  // Bind by 1-based index.
  Stmt& bind(int i, int64_t v);
  Stmt& bind(int i, int v) { return bind(i, int64_t{v}); }
  Stmt& bind(int i, double v);
  Stmt& bind(int i, std::string_view v);  // copied by SQLite (SQLITE_TRANSIENT)
  Stmt& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Stmt& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  Stmt& bind_blob(int i, const void* data, size_t n);  // copied
  Stmt& bind_null(int i);
  // Binds a pointer for an application function (sqlite3_bind_pointer); `type` must be a
  // string literal. The pointee must outlive the statement's current run.
  Stmt& bind_pointer(int i, void* p, const char* type);

  // Advances; true while a row is available.
  bool step();
  // Runs a statement to completion (ignoring rows) and resets it for the next binding.
  void exec() {
    while (step()) {
    }
    reset();
  }
  // Makes the statement ready to bind and run again (bindings are kept).
  void reset();

  int64_t col_int(int i) const;
  double col_double(int i) const;
  std::string col_text(int i) const;
  bool col_is_null(int i) const;
  // Pointer valid until the next step()/reset(); n receives the byte count.
  const void* col_blob(int i, size_t* n) const;

 private:
  Db* db_;
  sqlite3_stmt* s_;
  bool owned_;
};

class Db {
 public:
  // Opens (creating when `create`) the database at `path` with WAL, foreign keys and a busy
  // timeout so concurrent processes wait rather than fail.
  Db(const std::string& path, bool create);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  const std::string& path() const { return path_; }
  sqlite3* handle() { return db_; }

  // Runs one or more statements with no parameters.
  void exec(const std::string& sql);
  // A cached prepared statement for `sql` (prepared on first use). Only for fixed SQL
  // texts: the cache is never trimmed.
  Stmt prepare(const std::string& sql);
  // A statement used once (SQL built at run time, e.g. from a filter).
  Stmt prepare_once(const std::string& sql);
  int64_t last_insert_rowid() const;
  int changes() const;

  // Single-value helpers: the first column of the first row, or nullopt when no row.
  std::optional<int64_t> query_int(const std::string& sql);
  std::optional<std::string> query_text(const std::string& sql);

  // Throws Error(Io) naming the file, the failing SQL and SQLite's message.
  [[noreturn]] void fail(int rc, std::string_view what) const;

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

// BEGIN IMMEDIATE … COMMIT, rolled back when destroyed without commit() (an exception).
// IMMEDIATE takes the write lock up front so two writers never deadlock mid-transaction.
class Transaction {
 public:
  explicit Transaction(Db& db, bool write = true);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Db& db_;
  bool open_ = false;
};

}  // namespace xnai::rag::store
