#include "rag/store/bm25_rank.h"

#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "core/error.h"
#include "rag/store/slot_filter.h"
#include "rag/store/sqlite_db.h"

namespace xnai::rag::store {
namespace {

constexpr double kK1 = kBm25K1, kB = kBm25B;

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
  Bm25TopK* top = nullptr;  // xnai_bm25_top's collector, read from its argument once
};

int count_row(const Fts5ExtensionApi*, Fts5Context*, void* user) {
  ++*static_cast<int64_t*>(user);
  return SQLITE_OK;
}

void free_query_data(void* p) { delete static_cast<QueryData*>(p); }

// Per-query data from the first row's call; `df_arg` (null or SQL NULL: absent) is a blob of
// one native int64 document frequency per phrase, precomputed by the caller. Without it each
// phrase's rows are counted with xQueryPhrase, a walk of its whole doclist. SQLITE_MISMATCH
// when the blob does not fit the query.
int query_data(const Fts5ExtensionApi* api, Fts5Context* fts, sqlite3_value* df_arg, QueryData** out) {
  auto* d = static_cast<QueryData*>(api->xGetAuxdata(fts, 0));
  if (d) {
    *out = d;
    return SQLITE_OK;
  }
  // The scored phrases: all, or the first ones the blob gives frequencies for (a pruned
  // query appends phrases that only restrict which rows match; bm25_search.h).
  int n_phrase = api->xPhraseCount(fts);
  const unsigned char* df = nullptr;
  if (df_arg && sqlite3_value_type(df_arg) != SQLITE_NULL) {
    df = static_cast<const unsigned char*>(sqlite3_value_blob(df_arg));
    const int bytes = sqlite3_value_bytes(df_arg);
    const int n = bytes / int(sizeof(int64_t));
    if (!df || n < 1 || n > n_phrase || bytes % int(sizeof(int64_t)) != 0) return SQLITE_MISMATCH;
    n_phrase = n;
  }
  d = new (std::nothrow) QueryData;
  if (!d) return SQLITE_NOMEM;
  d->idf.assign(size_t(n_phrase), 0);
  d->freq.assign(size_t(n_phrase), 0);
  sqlite3_int64 n_row = 0, n_token = 0;
  int rc = api->xRowCount(fts, &n_row);
  if (rc == SQLITE_OK) rc = api->xColumnTotalSize(fts, -1, &n_token);
  if (rc == SQLITE_OK && n_row > 0) d->avgdl = double(n_token) / double(n_row);
  for (int i = 0; rc == SQLITE_OK && i < n_phrase; ++i) {
    int64_t hits = 0;
    if (df)
      std::memcpy(&hits, df + sizeof(int64_t) * size_t(i), sizeof hits);  // SQLite's blob need not be aligned
    else
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

// FTS5's bm25() of the current row, higher-is-better.
int score_row(const Fts5ExtensionApi* api, Fts5Context* fts, QueryData* d, double* score) {
  int rc = SQLITE_OK;
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
  if (rc != SQLITE_OK) return rc;
  const double norm = kK1 * (1 - kB + kB * double(dl) / d->avgdl);
  double sum = 0;
  for (size_t i = 0; i < d->freq.size(); ++i)
    sum += d->idf[i] * (d->freq[i] * (kK1 + 1)) / (d->freq[i] + norm);
  *score = sum;
  return SQLITE_OK;
}

// A chunk not loaded yet was written after this search synced the table: not part of the
// state being searched.
bool keep_chunk(const KeepContext& k, int64_t seq) {
  SlotAttrs a;
  return k.table->attrs(seq, k.filter->uses_pages(), &a) && k.filter->accept_attrs(a);
}

void result_error(sqlite3_context* ctx, const char* fn, int rc) {
  if (rc == SQLITE_MISMATCH)
    sqlite3_result_error(
        ctx, (std::string(fn) + ": the document frequencies do not match the query's phrases").c_str(), -1);
  else
    sqlite3_result_error_code(ctx, rc);
}

void xnai_bm25(const Fts5ExtensionApi* api, Fts5Context* fts, sqlite3_context* ctx, int n_arg,
               sqlite3_value** args) {
  QueryData* d = nullptr;
  double score = 0;
  int rc = query_data(api, fts, n_arg >= 1 ? args[0] : nullptr, &d);
  if (rc == SQLITE_OK) rc = score_row(api, fts, d, &score);
  if (rc != SQLITE_OK)
    result_error(ctx, "xnai_bm25", rc);
  else
    sqlite3_result_double(ctx, score);
}

void xnai_bm25_top(const Fts5ExtensionApi* api, Fts5Context* fts, sqlite3_context* ctx, int n_arg,
                   sqlite3_value** args) {
  if (n_arg != 2) {
    sqlite3_result_error(ctx, "xnai_bm25_top: needs (chunks_fts, document frequencies, collector)", -1);
    return;
  }
  QueryData* d = nullptr;
  int rc = query_data(api, fts, args[0], &d);
  if (rc != SQLITE_OK) {
    result_error(ctx, "xnai_bm25_top", rc);
    return;
  }
  // The collector is the same for every row: read once (sqlite3_value_pointer compares type
  // strings), not per matching row.
  if (!d->top) {
    d->top = static_cast<Bm25TopK*>(sqlite3_value_pointer(args[1], kTopKPointerType));
    if (!d->top) {
      sqlite3_result_error(ctx, "xnai_bm25_top: no collector bound", -1);
      return;
    }
    d->top->idf = d->idf;
  }
  const int64_t seq = api->xRowid(fts);
  if (!d->top->keep || keep_chunk(*d->top->keep, seq)) {
    double score = 0;
    rc = score_row(api, fts, d, &score);
    if (rc != SQLITE_OK) {
      result_error(ctx, "xnai_bm25_top", rc);
      return;
    }
    d->top->offer(seq, score);
  }
  sqlite3_result_int(ctx, 0);
}

}  // namespace

void Bm25TopK::offer(int64_t seq, double score) {
  const ScoredChunk c{seq, score};
  if (heap_.size() < size_t(k_)) {
    heap_.push_back(c);
    std::push_heap(heap_.begin(), heap_.end(), better);
  } else if (k_ > 0 && better(c, heap_.front())) {
    std::pop_heap(heap_.begin(), heap_.end(), better);
    heap_.back() = c;
    std::push_heap(heap_.begin(), heap_.end(), better);
  }
}

std::vector<ScoredChunk> Bm25TopK::take_sorted() {
  std::sort_heap(heap_.begin(), heap_.end(), better);
  return std::move(heap_);
}

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
  rc = api->xCreateFunction(api, "xnai_bm25_top", const_cast<ChunkTable*>(table), xnai_bm25_top, nullptr);
  if (rc != SQLITE_OK) db.fail(rc, "registering xnai_bm25_top");
}

}  // namespace xnai::rag::store
