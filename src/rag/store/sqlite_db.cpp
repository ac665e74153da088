#include "rag/store/sqlite_db.h"

#include <sqlite3.h>

#include <mutex>

#include "core/error.h"

namespace xnai::rag::store {

Stmt::~Stmt() {
  if (!s_) return;
  if (owned_) {
    sqlite3_finalize(s_);
  } else {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
}

Stmt& Stmt::bind(int i, int64_t v) {
  if (int rc = sqlite3_bind_int64(s_, i, v); rc != SQLITE_OK) db_->fail(rc, sqlite3_sql(s_));
  return *this;
}

Stmt& Stmt::bind(int i, double v) {
  if (int rc = sqlite3_bind_double(s_, i, v); rc != SQLITE_OK) db_->fail(rc, sqlite3_sql(s_));
  return *this;
}

Stmt& Stmt::bind(int i, std::string_view v) {
  if (int rc = sqlite3_bind_text64(s_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8); rc != SQLITE_OK)
    db_->fail(rc, sqlite3_sql(s_));
  return *this;
}

Stmt& Stmt::bind_blob(int i, const void* data, size_t n) {
  if (int rc = sqlite3_bind_blob64(s_, i, data, n, SQLITE_TRANSIENT); rc != SQLITE_OK)
    db_->fail(rc, sqlite3_sql(s_));
  return *this;
}

Stmt& Stmt::bind_pointer(int i, void* p, const char* type) {
  if (int rc = sqlite3_bind_pointer(s_, i, p, type, nullptr); rc != SQLITE_OK) db_->fail(rc, sqlite3_sql(s_));
  return *this;
}

Stmt& Stmt::bind_null(int i) {
  if (int rc = sqlite3_bind_null(s_, i); rc != SQLITE_OK) db_->fail(rc, sqlite3_sql(s_));
  return *this;
}

void Stmt::reset() { sqlite3_reset(s_); }

bool Stmt::step() {
  const int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_->fail(rc, sqlite3_sql(s_));
}

int64_t Stmt::col_int(int i) const { return sqlite3_column_int64(s_, i); }
double Stmt::col_double(int i) const { return sqlite3_column_double(s_, i); }
bool Stmt::col_is_null(int i) const { return sqlite3_column_type(s_, i) == SQLITE_NULL; }

std::string Stmt::col_text(int i) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, i));
  const int n = sqlite3_column_bytes(s_, i);
  return p ? std::string(p, size_t(n)) : std::string();
}

const void* Stmt::col_blob(int i, size_t* n) const {
  const void* p = sqlite3_column_blob(s_, i);
  *n = size_t(sqlite3_column_bytes(s_, i));
  return p;
}

namespace {

// SQLite's allocation statistics take one process-wide mutex on every malloc and free; FTS5
// allocates per matching row, so two BM25 range queries on two threads spent their time
// handing that lock back and forth. Only possible before SQLite initialises; if something
// else initialised it first, the call fails harmlessly and the statistics stay on.
void disable_sqlite_memory_statistics() {
  static std::once_flag once;
  std::call_once(once, [] { (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

}  // namespace

Db::Db(const std::string& path, bool create) : path_(path) {
  disable_sqlite_memory_statistics();
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (create) flags |= SQLITE_OPEN_CREATE;
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error(ErrorKind::Io, "cannot open the store database " + path + ": " + msg);
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, 10000);
  // WAL: readers never block the writer and a crash leaves the last committed state.
  // synchronous=NORMAL is crash-safe in WAL mode (a power loss may drop the last commits,
  // never corrupt); kill -9 loses nothing that was committed.
  exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
  // Read the database through a memory map (no read() syscall and copy per page; the FTS5
  // doclists of a BM25 query touch many pages) and keep a larger page cache than the 2 MB
  // default. Both are per connection and cost address space, not committed memory.
  exec("PRAGMA mmap_size=68719476736; PRAGMA cache_size=-32768;");
}

Db::~Db() {
  for (auto& [sql, s] : cache_) sqlite3_finalize(s);
  if (db_) sqlite3_close(db_);
}

void Db::fail(int rc, std::string_view what) const {
  std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  throw Error(ErrorKind::Io,
              "store database " + path_ + ": " + msg + " (in: " + std::string(what.substr(0, 200)) + ")");
}

void Db::exec(const std::string& sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    throw Error(ErrorKind::Io, "store database " + path_ + ": " + msg + " (in: " + sql.substr(0, 200) + ")");
  }
}

Stmt Db::prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* s = nullptr;
    const int rc =
        sqlite3_prepare_v3(db_, sql.c_str(), int(sql.size()), SQLITE_PREPARE_PERSISTENT, &s, nullptr);
    if (rc != SQLITE_OK) fail(rc, sql);
    it = cache_.emplace(sql, s).first;
  }
  return Stmt(*this, it->second, false);
}

Stmt Db::prepare_once(const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.c_str(), int(sql.size()), &s, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(s);
    fail(rc, sql);
  }
  return Stmt(*this, s, true);
}

int64_t Db::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
int Db::changes() const { return sqlite3_changes(db_); }

std::optional<int64_t> Db::query_int(const std::string& sql) {
  auto s = prepare(sql);
  if (!s.step() || s.col_is_null(0)) return std::nullopt;
  return s.col_int(0);
}

std::optional<std::string> Db::query_text(const std::string& sql) {
  auto s = prepare(sql);
  if (!s.step() || s.col_is_null(0)) return std::nullopt;
  return s.col_text(0);
}

Transaction::Transaction(Db& db, bool write) : db_(db) {
  db_.exec(write ? "BEGIN IMMEDIATE" : "BEGIN");
  open_ = true;
}

Transaction::~Transaction() {
  if (open_) {
    try {
      db_.exec("ROLLBACK");
    } catch (...) {
      // The connection is unusable anyway; SQLite rolls back on close.
    }
  }
}

void Transaction::commit() {
  db_.exec("COMMIT");
  open_ = false;
}

}  // namespace xnai::rag::store
