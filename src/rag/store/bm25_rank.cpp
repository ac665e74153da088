#include "rag/store/bm25_rank.h"

#include <sqlite3.h>

#include <cmath>
#include <mutex>
#include <new>
#include <vector>

#include "core/error.h"
#include "rag/store/slot_filter.h"
#include "rag/store/sqlite_db.h"

namespace xnai::rag::store {
namespace {

constexpr double kK1 = 1.2, kB = 0.75;  // FTS5's bm25() defaults

// SQLite's varint (big-endian 7-bit groups, the 9th byte whole): the %_docsize blob holds
// one per column.
bool read_varint(const uint8_t* p, size_t n, uint64_t& out) {
  out = 0;
  for (size_t i = 0; i < n && i < 9; ++i) {
    if (i == 8) {
      out = (out << 8) | p[i];
      return true;
    }
    out = (out << 7) | (p[i] & 0x7f);
    if (!(p[i] & 0x80)) return true;
  }
  return false;
}

// Per-query data, computed on the first row (as FTS5's bm25() does) and cached by FTS5.
struct QueryData {
  double avgdl = 1;
  std::vector<double> idf, freq;
};

int count_row(const Fts5ExtensionApi*, Fts5Context*, void* user) {
  ++*static_cast<int64_t*>(user);
  return SQLITE_OK;
}

void free_query_data(void* p) { delete static_cast<QueryData*>(p); }

int query_data(const Fts5ExtensionApi* api, Fts5Context* fts, QueryData** out) {
  auto* d = static_cast<QueryData*>(api->xGetAuxdata(fts, 0));
  if (d) {
    *out = d;
    return SQLITE_OK;
  }
  d = new (std::nothrow) QueryData;
  if (!d) return SQLITE_NOMEM;
  const int n_phrase = api->xPhraseCount(fts);
  d->idf.assign(size_t(n_phrase), 0);
  d->freq.assign(size_t(n_phrase), 0);
  sqlite3_int64 n_row = 0, n_token = 0;
  int rc = api->xRowCount(fts, &n_row);
  if (rc == SQLITE_OK) rc = api->xColumnTotalSize(fts, -1, &n_token);
  if (rc == SQLITE_OK && n_row > 0) d->avgdl = double(n_token) / double(n_row);
  for (int i = 0; rc == SQLITE_OK && i < n_phrase; ++i) {
    int64_t hits = 0;
    rc = api->xQueryPhrase(fts, i, &hits, count_row);
    const double idf = std::log((double(n_row) - double(hits) + 0.5) / (double(hits) + 0.5));
    d->idf[size_t(i)] = idf <= 0 ? 1e-6 : idf;
  }
  if (rc == SQLITE_OK)
    rc = api->xSetAuxdata(fts, d, free_query_data);  // frees d on failure too
  else
    delete d;
  if (rc == SQLITE_OK) *out = d;
  return rc;
}

void xnai_bm25(const Fts5ExtensionApi* api, Fts5Context* fts, sqlite3_context* ctx, int, sqlite3_value**) {
  QueryData* d = nullptr;
  int rc = query_data(api, fts, &d);
  if (rc != SQLITE_OK) {
    sqlite3_result_error_code(ctx, rc);
    return;
  }
  // Term frequencies by walking each phrase's own position list (xPhraseFirst/Next): unlike
  // xInstCount/xInst it does not build a merged, position-sorted array of all instances.
  for (size_t i = 0; rc == SQLITE_OK && i < d->freq.size(); ++i) {
    Fts5PhraseIter it;
    int col = 0, off = 0;
    double tf = 0;
    rc = api->xPhraseFirst(fts, int(i), &it, &col, &off);
    for (; rc == SQLITE_OK && col >= 0; api->xPhraseNext(fts, &it, &col, &off)) tf += 1.0;
    d->freq[i] = tf;
  }
  const auto* table = static_cast<const ChunkTable*>(api->xUserData(fts));
  int64_t dl = table->length(api->xRowid(fts));
  if (rc == SQLITE_OK && dl < 0) {
    int n = 0;
    rc = api->xColumnSize(fts, -1, &n);
    dl = n;
  }
  if (rc != SQLITE_OK) {
    sqlite3_result_error_code(ctx, rc);
    return;
  }
  const double norm = kK1 * (1 - kB + kB * double(dl) / d->avgdl);
  double score = 0;
  for (size_t i = 0; i < d->freq.size(); ++i)
    score += d->idf[i] * (d->freq[i] * (kK1 + 1)) / (d->freq[i] + norm);
  sqlite3_result_double(ctx, score);
}

void xnai_keep(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  const auto* k =
      argc == 2 ? static_cast<const KeepContext*>(sqlite3_value_pointer(argv[0], kKeepPointerType)) : nullptr;
  if (!k) {
    sqlite3_result_error(ctx, "xnai_keep: no filter bound", -1);
    return;
  }
  // A chunk not loaded yet was written after this search synced the table: not part of
  // the state being searched.
  SlotAttrs a;
  const bool known = k->table->attrs(sqlite3_value_int64(argv[1]), k->filter->uses_pages(), &a);
  sqlite3_result_int(ctx, known && k->filter->accept_attrs(a) ? 1 : 0);
}

}  // namespace

void ChunkTable::sync(Db& db) {
  std::unique_lock<std::shared_mutex> lk(mu_);
  auto s = db.prepare(
      "SELECT c.seq, c.doc, c.page_first, c.page_last, z.sz FROM chunks c "
      "JOIN chunks_fts_docsize z ON z.id = c.seq WHERE c.seq > ?1 ORDER BY c.seq");
  s.bind(1, max_seq_);
  while (s.step()) {
    const int64_t id = s.col_int(0);
    size_t n = 0;
    const auto* p = static_cast<const uint8_t*>(s.col_blob(4, &n));
    uint64_t len = 0;
    if (id < 0 || !p || !read_varint(p, n, len)) continue;
    if (uint64_t(id) >= len_.size()) {
      const size_t n_new = std::max<size_t>(size_t(id) + 1, len_.size() * 3 / 2);
      len_.resize(n_new, kUnknown);
      doc_.resize(n_new, 0);
      pages_.resize(n_new, {0, 0});
    }
    len_[size_t(id)] = uint16_t(std::min<uint64_t>(len, kUnknown - 1));
    doc_[size_t(id)] = uint32_t(s.col_int(1));
    pages_[size_t(id)] = {int32_t(s.col_int(2)), int32_t(s.col_int(3))};
    max_seq_ = std::max(max_seq_, id);
  }
}

void register_store_functions(Db& db, const ChunkTable* table) {
  fts5_api* api = nullptr;
  {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db.handle(), "SELECT fts5(?1)", -1, &st, nullptr) == SQLITE_OK) {
      sqlite3_bind_pointer(st, 1, static_cast<void*>(&api), "fts5_api_ptr", nullptr);
      sqlite3_step(st);
    }
    sqlite3_finalize(st);
  }
  if (!api || api->iVersion < 2)
    throw Error(ErrorKind::Unsupported,
                "store database " + db.path() + ": this SQLite has no FTS5 extension API");
  int rc = api->xCreateFunction(api, "xnai_bm25", const_cast<ChunkTable*>(table), xnai_bm25, nullptr);
  if (rc != SQLITE_OK) db.fail(rc, "registering xnai_bm25");
  rc = sqlite3_create_function_v2(db.handle(), "xnai_keep", 2, SQLITE_UTF8 | SQLITE_INNOCUOUS, nullptr,
                                  xnai_keep, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) db.fail(rc, "registering xnai_keep");
}

}  // namespace xnai::rag::store
