// EmbeddedStore: opening, documents and chunks in SQLite, BM25 through FTS5, hit assembly.
// The vector index half lives in embedded_store_index.cpp.
#include "rag/store/embedded_store.h"

#include <signal.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <set>
#include <unordered_map>

#include "core/error.h"
#include "core/thread_pool.h"
#include "rag/store/bm25_query.h"
#include "rag/store/bm25_search.h"
#include "rag/store/embedded_store_impl.h"
#include "rag/store/faiss_index_file.h"
#include "rag/store/filter_sql.h"
#include "rag/store/schema.h"
#include "rag/store/slot_filter.h"
#include "rag/store/vector_kernels.h"

namespace xnai::rag {

using store::Db;
using store::Stmt;
using store::Transaction;

namespace store {

std::vector<float> normalized(const std::vector<float>& v, const std::string& what) {
  double ss = 0;
  for (float x : v) {
    if (!std::isfinite(x)) throw Error(ErrorKind::InvalidArgument, what + " contains NaN or infinity");
    ss += double(x) * x;
  }
  std::vector<float> out(v);
  if (ss > 0) {
    const float inv = float(1.0 / std::sqrt(ss));
    for (float& x : out) x *= inv;
  }
  return out;
}

}  // namespace store

namespace {

constexpr const char* kChunkColumns =
    "c.seq, c.id, c.idx, c.\"begin\", c.\"end\", c.page_first, c.page_last, c.heading_path, c.text, "
    "c.n_tokens, "
    "c.doc, d.id";
constexpr const char* kDocColumns =
    "d.seq, d.id, d.source_path, d.title, d.type, d.mtime, d.content_hash, d.n_chunks, d.n_pages";

Chunk read_chunk(const Stmt& s, int at) {
  Chunk c;
  c.id = s.col_text(at + 1);
  c.index = int(s.col_int(at + 2));
  c.begin = s.col_int(at + 3);
  c.end = s.col_int(at + 4);
  c.page_first = int(s.col_int(at + 5));
  c.page_last = int(s.col_int(at + 6));
  c.heading_path = s.col_text(at + 7);
  c.text = s.col_text(at + 8);
  c.n_tokens = int(s.col_int(at + 9));
  c.doc_id = s.col_text(at + 11);
  return c;
}

// Reads kDocColumns starting at column `at`, then the document's metadata.
DocumentInfo read_doc(Db& db, const Stmt& s, int at) {
  DocumentInfo d;
  const int64_t seq = s.col_int(at);
  d.id = s.col_text(at + 1);
  d.source_path = s.col_text(at + 2);
  d.title = s.col_text(at + 3);
  d.type = s.col_text(at + 4);
  d.mtime = s.col_int(at + 5);
  d.content_hash = s.col_text(at + 6);
  d.n_chunks = int(s.col_int(at + 7));
  d.n_pages = int(s.col_int(at + 8));
  auto m = db.prepare("SELECT key, value FROM metadata WHERE doc = ?1");
  m.bind(1, seq);
  while (m.step()) d.metadata.emplace(m.col_text(0), m.col_text(1));
  return d;
}

std::optional<double> parse_number(const std::string& s) {
  if (s.empty() || s.size() > 64) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (*end || !std::isfinite(v)) return std::nullopt;
  for (char c : s)  // plain decimal only (strtod also takes "inf", hex …)
    if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E'))
      return std::nullopt;
  return v;
}

std::vector<std::string> split_tags(const std::string& s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = s.find(',', i);
    if (j == std::string::npos) j = s.size();
    size_t a = i, b = j;
    while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
    while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
    if (b > a) out.emplace_back(s.substr(a, b - a));
    i = j + 1;
  }
  return out;
}

// Removes index files a crashed writer left half-written (their process is gone).
void remove_stale_temp_files(const std::filesystem::path& dir, const std::string& base) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    const std::string prefix = base + ".tmp.";
    if (name.rfind(prefix, 0) != 0) continue;
    const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
    if (pid > 0 && ::kill(pid_t(pid), 0) == 0) continue;  // a live process is writing it
    std::filesystem::remove(e.path(), ec);
  }
}

int64_t bump_generation(Db& db) {
  db.prepare("UPDATE meta SET value = value + 1 WHERE key = 'generation'").exec();
  return db.query_int("SELECT value FROM meta WHERE key = 'generation'").value_or(0);
}

// Records the store's embedding dimension/model on first use; afterwards a different one
// is an error naming both, since mixing models silently ruins search.
void check_embedding(Db& db, int dim, const std::string& model, const std::string& what) {
  auto s = db.prepare(
      "SELECT (SELECT value FROM meta WHERE key = 'embedding_dim'), "
      "(SELECT value FROM meta WHERE key = 'embedding_model')");
  s.step();
  if (s.col_is_null(0)) {
    s.reset();
    db.prepare("INSERT INTO meta(key, value) VALUES ('embedding_dim', ?1), ('embedding_model', ?2)")
        .bind(1, int64_t(dim))
        .bind(2, model)
        .exec();
    return;
  }
  const int64_t have_dim = s.col_int(0);
  const std::string have_model = s.col_text(1);
  if (have_dim != dim || have_model != model)
    throw Error(ErrorKind::InvalidArgument,
                "embedding mismatch: the store holds " + std::to_string(have_dim) +
                    "-d vectors from model '" + have_model + "', but " + what + " has " +
                    std::to_string(dim) + "-d vectors from model '" + model +
                    "' (mixing models ruins search: use another data directory, or re-ingest everything)");
}

}  // namespace

// --- Impl basics -------------------------------------------------------------------------

EmbeddedStore::Impl::Reader::~Reader() {
  if (!db_) return;
  std::lock_guard<std::mutex> g(im_.pool_mu);
  im_.readers.push_back(std::move(db_));
}

EmbeddedStore::Impl::Reader EmbeddedStore::Impl::reader() {
  {
    std::lock_guard<std::mutex> g(pool_mu);
    if (!readers.empty()) {
      auto db = std::move(readers.back());
      readers.pop_back();
      return Reader(*this, std::move(db));
    }
  }
  auto db = std::make_unique<Db>(db_path.string(), false);
  store::register_store_functions(*db, &chunk_table);
  return Reader(*this, std::move(db));
}

int64_t EmbeddedStore::Impl::db_generation(Db& db) {
  return db.query_int("SELECT value FROM meta WHERE key = 'generation'").value_or(0);
}

// --- open / close ------------------------------------------------------------------------

EmbeddedStore::EmbeddedStore(const EmbeddedStoreOptions& opts) : impl_(std::make_unique<Impl>()) {
  Impl& im = *impl_;
  im.opts = opts;
  if (opts.data_dir.empty())
    throw Error(ErrorKind::InvalidArgument, "embedded store: no data directory given");
  im.dir = opts.data_dir;
  std::error_code ec;
  std::filesystem::create_directories(im.dir, ec);
  if (ec || !std::filesystem::is_directory(im.dir))
    throw Error(ErrorKind::Io, "cannot create the store directory " + im.dir.string() + ": " + ec.message());
  im.db_path = im.dir / kDatabaseFile;
  im.index_path = im.dir / kIndexFile;
  im.n_threads = opts.index_threads > 0 ? opts.index_threads : default_thread_count();
  im.writer = std::make_unique<Db>(im.db_path.string(), true);
  store::ensure_schema(*im.writer);
  im.uuid = im.writer->query_text("SELECT value FROM meta WHERE key = 'store_uuid'").value_or("");
  remove_stale_temp_files(im.dir, kIndexFile);
  im.open_index();
}

EmbeddedStore::~EmbeddedStore() {
  try {
    std::lock_guard<std::mutex> g(impl_->write_mu);
    if (impl_->unsaved_changes > 0 || (impl_->index && impl_->index_gen != impl_->saved_gen))
      impl_->checkpoint_locked();
  } catch (...) {
    // vectors.idx is a cache: the next open catches up from the database.
  }
}

void EmbeddedStore::checkpoint() {
  std::lock_guard<std::mutex> g(impl_->write_mu);
  impl_->checkpoint_locked();
}

// --- writes ------------------------------------------------------------------------------

void EmbeddedStore::upsert_document(const Document& doc, const std::vector<Chunk>& chunks,
                                    const std::vector<std::vector<float>>& embeddings,
                                    const std::string& embedding_model) {
  Impl& im = *impl_;
  if (doc.id.empty()) throw Error(ErrorKind::InvalidArgument, "upsert_document: the document has no id");
  if (!embeddings.empty() && embeddings.size() != chunks.size())
    throw Error(ErrorKind::InvalidArgument, "upsert_document " + doc.source_path + ": " +
                                                std::to_string(embeddings.size()) + " embeddings for " +
                                                std::to_string(chunks.size()) + " chunks");
  std::set<std::string> ids;
  for (const auto& c : chunks) {
    if (c.id.empty())
      throw Error(ErrorKind::InvalidArgument, "upsert_document " + doc.source_path + ": a chunk has no id");
    if (!c.doc_id.empty() && c.doc_id != doc.id)
      throw Error(ErrorKind::InvalidArgument, "upsert_document " + doc.source_path + ": chunk " + c.id +
                                                  " belongs to document " + c.doc_id + ", not " + doc.id);
    if (!ids.insert(c.id).second)
      throw Error(ErrorKind::InvalidArgument,
                  "upsert_document " + doc.source_path + ": duplicate chunk id " + c.id);
  }
  const int dim = embeddings.empty() ? 0 : int(embeddings[0].size());
  std::vector<std::vector<float>> vecs;
  vecs.reserve(embeddings.size());
  for (size_t i = 0; i < embeddings.size(); ++i) {
    if (int(embeddings[i].size()) != dim || dim == 0)
      throw Error(ErrorKind::InvalidArgument, "upsert_document " + doc.source_path + ": embedding " +
                                                  std::to_string(i) + " has " +
                                                  std::to_string(embeddings[i].size()) +
                                                  " dimensions, embedding 0 has " + std::to_string(dim));
    vecs.push_back(store::normalized(
        embeddings[i], "upsert_document " + doc.source_path + ": embedding " + std::to_string(i)));
  }

  std::lock_guard<std::mutex> g(im.write_mu);
  Db& db = *im.writer;
  Transaction tx(db);
  const int64_t gen = bump_generation(db);
  if (dim > 0) check_embedding(db, dim, embedding_model, "document " + doc.source_path);

  int64_t removed = 0;
  {
    auto s = db.prepare("SELECT n_chunks FROM documents WHERE id = ?1");
    s.bind(1, doc.id);
    if (s.step()) removed = s.col_int(0);
  }
  // Cascades remove the old chunks (their FTS rows by trigger), vectors (logged by
  // trigger for the index), metadata and tags.
  db.prepare("DELETE FROM documents WHERE id = ?1").bind(1, doc.id).exec();
  db.prepare(
        "INSERT INTO documents(id, source_path, title, type, mtime, content_hash, n_pages, n_chunks, "
        "first_chunk) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0)")
      .bind(1, doc.id)
      .bind(2, doc.source_path)
      .bind(3, doc.title)
      .bind(4, doc.type)
      .bind(5, doc.mtime)
      .bind(6, doc.content_hash)
      .bind(7, int64_t(doc.pages.size()))
      .bind(8, int64_t(chunks.size()))
      .exec();
  const int64_t doc_seq = db.last_insert_rowid();

  int64_t first = 0;
  {
    auto ins = db.prepare(
        "INSERT INTO chunks(id, doc, idx, \"begin\", \"end\", page_first, page_last, heading_path, text, "
        "n_tokens) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    auto vec = db.prepare("INSERT INTO vectors(chunk, gen, vec) VALUES (?1, ?2, ?3)");
    for (size_t i = 0; i < chunks.size(); ++i) {
      const Chunk& c = chunks[i];
      ins.bind(1, c.id)
          .bind(2, doc_seq)
          .bind(3, int64_t(c.index))
          .bind(4, c.begin)
          .bind(5, c.end)
          .bind(6, int64_t(c.page_first))
          .bind(7, int64_t(c.page_last))
          .bind(8, c.heading_path)
          .bind(9, c.text)
          .bind(10, int64_t(c.n_tokens))
          .exec();
      const int64_t seq = db.last_insert_rowid();
      if (i == 0) first = seq;
      // The document's chunks must be the seq range [first, first + n): filters and the
      // vector index rely on it. AUTOINCREMENT under one writer guarantees it.
      if (seq != first + int64_t(i))
        throw Error(ErrorKind::Internal,
                    "store: chunk seq numbers of " + doc.source_path + " are not consecutive");
      if (!vecs.empty())
        vec.bind(1, seq).bind(2, gen).bind_blob(3, vecs[i].data(), vecs[i].size() * 4).exec();
    }
  }
  db.prepare("UPDATE documents SET first_chunk = ?1 WHERE seq = ?2").bind(1, first).bind(2, doc_seq).exec();
  {
    auto m = db.prepare("INSERT INTO metadata(doc, key, value, num) VALUES (?1, ?2, ?3, ?4)");
    for (const auto& [k, v] : doc.metadata) {
      m.bind(1, doc_seq).bind(2, k).bind(3, v);
      if (auto num = parse_number(v))
        m.bind(4, *num);
      else
        m.bind_null(4);
      m.exec();
    }
    if (auto it = doc.metadata.find("tags"); it != doc.metadata.end()) {
      auto t = db.prepare("INSERT OR IGNORE INTO tags(doc, tag) VALUES (?1, ?2)");
      for (const auto& tag : split_tags(it->second)) t.bind(1, doc_seq).bind(2, tag).exec();
    }
  }
  tx.commit();

  im.unsaved_changes += removed + int64_t(vecs.size());
  if (im.opts.index_checkpoint_changes > 0 && im.unsaved_changes >= im.opts.index_checkpoint_changes)
    im.checkpoint_locked();
}

bool EmbeddedStore::delete_document(const std::string& doc_id) {
  Impl& im = *impl_;
  std::lock_guard<std::mutex> g(im.write_mu);
  Db& db = *im.writer;
  Transaction tx(db);
  int64_t removed = 0;
  {
    auto s = db.prepare("SELECT n_chunks FROM documents WHERE id = ?1");
    s.bind(1, doc_id);
    if (!s.step()) return false;  // rolls back; nothing changed
    removed = s.col_int(0);
  }
  bump_generation(db);
  db.prepare("DELETE FROM documents WHERE id = ?1").bind(1, doc_id).exec();
  tx.commit();
  im.unsaved_changes += removed;
  if (im.opts.index_checkpoint_changes > 0 && im.unsaved_changes >= im.opts.index_checkpoint_changes)
    im.checkpoint_locked();
  return true;
}

// --- reads -------------------------------------------------------------------------------

std::optional<DocumentInfo> EmbeddedStore::find_document(const std::string& doc_id) const {
  auto r = impl_->reader();
  auto s = r.db().prepare(std::string("SELECT ") + kDocColumns + " FROM documents d WHERE d.id = ?1");
  s.bind(1, doc_id);
  if (!s.step()) return std::nullopt;
  return read_doc(r.db(), s, 0);
}

std::optional<DocumentInfo> EmbeddedStore::find_document_by_source(const std::string& source_path) const {
  auto r = impl_->reader();
  auto s = r.db().prepare(std::string("SELECT ") + kDocColumns +
                          " FROM documents d WHERE d.source_path = ?1 ORDER BY d.seq LIMIT 1");
  s.bind(1, source_path);
  if (!s.step()) return std::nullopt;
  return read_doc(r.db(), s, 0);
}

std::vector<DocumentInfo> EmbeddedStore::list_documents(const Filter& filter) const {
  const auto cond = store::compile_filter_sql(filter, store::FilterScope::Document);
  auto r = impl_->reader();
  auto s = r.db().prepare_once(std::string("SELECT ") + kDocColumns + " FROM documents d WHERE " + cond.sql +
                               " ORDER BY d.source_path, d.id");
  store::bind_params(s, cond.params, 1);
  std::vector<DocumentInfo> out;
  while (s.step()) out.push_back(read_doc(r.db(), s, 0));
  return out;
}

std::optional<Chunk> EmbeddedStore::get_chunk(const std::string& chunk_id) const {
  auto r = impl_->reader();
  auto s = r.db().prepare(std::string("SELECT ") + kChunkColumns +
                          " FROM chunks c JOIN documents d ON d.seq = c.doc WHERE c.id = ?1");
  s.bind(1, chunk_id);
  if (!s.step()) return std::nullopt;
  return read_chunk(s, 0);
}

namespace {

// Hits for (chunk seq, score) pairs, best first as given. A chunk deleted since the index
// search (another writer) is skipped, so a hit never points at a missing chunk.
std::vector<Hit> make_hits(Db& db, const std::vector<std::pair<int64_t, float>>& scored) {
  std::vector<Hit> hits;
  hits.reserve(scored.size());
  std::unordered_map<int64_t, DocumentInfo> docs;
  auto s = db.prepare(std::string("SELECT ") + kChunkColumns + ", " + kDocColumns +
                      " FROM chunks c JOIN documents d ON d.seq = c.doc WHERE c.seq = ?1");
  for (const auto& [seq, score] : scored) {
    s.bind(1, seq);
    if (s.step()) {
      Hit h;
      h.chunk = read_chunk(s, 0);
      const int64_t doc_seq = s.col_int(12);
      auto it = docs.find(doc_seq);
      if (it == docs.end()) it = docs.emplace(doc_seq, read_doc(db, s, 12)).first;
      h.document = it->second;
      h.score = score;
      hits.push_back(std::move(h));
    }
    s.reset();
  }
  return hits;
}

}  // namespace

std::vector<Hit> EmbeddedStore::search_vector(const std::vector<float>& query, int k,
                                              const Filter& filter) const {
  if (k <= 0) return {};
  auto r = impl_->reader();
  const auto scored = impl_->vector_search(r.db(), query, k, filter);
  return make_hits(r.db(), scored);
}

std::vector<Hit> EmbeddedStore::search_bm25(const std::string& query, int k, const Filter& filter) const {
  if (k <= 0) return {};
  store::Bm25Query q;
  q.terms = store::fts5_query_terms(query);
  q.match = store::fts5_match_expression(q.terms);
  if (q.match.empty()) return {};
  auto r = impl_->reader();
  Db& db = r.db();
  impl_->chunk_table.sync(db);
  int64_t max_seq = 0;
  {
    std::shared_lock<std::shared_mutex> lock(impl_->chunk_table.mutex());
    max_seq = impl_->chunk_table.max_seq();
  }
  // On a large store the query runs as rowid ranges on several connections (bm25_search.h).
  const int parts = store::bm25_split_parts(max_seq, impl_->opts.bm25_split_min_chunks, impl_->n_threads);
  std::vector<Impl::Reader> more;
  more.reserve(size_t(parts));
  std::vector<Db*> dbs{&db};
  for (int p = 1; p < parts; ++p) dbs.push_back(&more.emplace_back(impl_->reader()).db());
  int64_t gen = 0;
  {
    // The frequencies are those of generation `gen`, counted on every connection when all
    // of them read that generation (a writer may commit in between: then on `db` alone).
    std::vector<std::unique_ptr<store::Transaction>> reads;
    for (Db* d : dbs) reads.push_back(std::make_unique<store::Transaction>(*d, false));
    gen = impl_->db_generation(db);
    std::vector<Db*> counting = dbs;
    for (size_t i = 1; i < dbs.size(); ++i)
      if (impl_->db_generation(*dbs[i]) != gen) counting = {&db};
    impl_->df_cache.lookup(counting, gen, max_seq, q);
    for (auto& t : reads) t->commit();
  }
  std::optional<store::CompiledSlotFilter> compiled;
  if (!filter.is_all())
    compiled.emplace(
        filter, [&](const store::SqlCondition& c) { return impl_->doc_set(db, c, gen); }, nullptr);
  std::shared_lock<std::shared_mutex> lengths_lock(impl_->chunk_table.mutex());
  const store::KeepContext keep{compiled ? &*compiled : nullptr, &impl_->chunk_table};
  max_seq = impl_->chunk_table.max_seq();
  bool pruned = false;
  const auto top = store::bm25_search(dbs, q, k, max_seq, compiled ? &keep : nullptr, &pruned);
  if (pruned) ++impl_->n_bm25_pruned;
  std::vector<std::pair<int64_t, float>> scored;
  for (const auto& c : top) scored.emplace_back(c.seq, float(c.score));
  lengths_lock.unlock();
  return make_hits(db, scored);
}

StoreStats EmbeddedStore::stats() const {
  auto r = impl_->reader();
  Db& db = r.db();
  StoreStats st;
  st.n_documents = db.query_int("SELECT count(*) FROM documents").value_or(0);
  st.n_chunks = db.query_int("SELECT count(*) FROM chunks").value_or(0);
  st.n_vectors = db.query_int("SELECT count(*) FROM vectors").value_or(0);
  st.embedding_dim = int(db.query_int("SELECT value FROM meta WHERE key = 'embedding_dim'").value_or(0));
  st.embedding_model = db.query_text("SELECT value FROM meta WHERE key = 'embedding_model'").value_or("");
  return st;
}

// --- verification and import -------------------------------------------------------------

std::vector<std::string> EmbeddedStore::verify() const {
  Impl& im = *impl_;
  std::vector<std::string> problems;
  {
    std::lock_guard<std::mutex> g(im.write_mu);
    Db& db = *im.writer;
    auto s = db.prepare("PRAGMA integrity_check");
    while (s.step())
      if (s.col_text(0) != "ok") problems.push_back("integrity_check: " + s.col_text(0));
    auto fk = db.prepare("PRAGMA foreign_key_check");
    while (fk.step()) problems.push_back("foreign key violation in table " + fk.col_text(0));
    try {
      // rank 1: also compare the index with the external content table.
      db.exec("INSERT INTO chunks_fts(chunks_fts, rank) VALUES ('integrity-check', 1)");
    } catch (const Error& e) {
      problems.push_back(std::string("FTS5 index disagrees with the chunks table: ") + e.what());
    }
    auto docs = db.prepare(
        "SELECT d.id, d.n_chunks, d.first_chunk, count(c.seq), min(c.seq), max(c.seq) "
        "FROM documents d LEFT JOIN chunks c ON c.doc = d.seq GROUP BY d.seq");
    while (docs.step()) {
      const int64_t n = docs.col_int(1), first = docs.col_int(2), cnt = docs.col_int(3);
      if (cnt != n || (n > 0 && (docs.col_int(4) != first || docs.col_int(5) != first + n - 1)))
        problems.push_back("document " + docs.col_text(0) +
                           ": chunk rows disagree with n_chunks/first_chunk");
    }
    const int64_t dim = db.query_int("SELECT value FROM meta WHERE key = 'embedding_dim'").value_or(0);
    auto bad_vec = db.prepare("SELECT count(*) FROM vectors WHERE length(vec) != ?1");
    bad_vec.bind(1, dim * 4);
    if (bad_vec.step() && bad_vec.col_int(0) > 0)
      problems.push_back(std::to_string(bad_vec.col_int(0)) + " vectors have the wrong size");
  }
  auto r = im.reader();
  im.verify_index(r.db(), problems);
  return problems;
}

FaissImportResult EmbeddedStore::import_faiss(
    const std::string& faiss_path, const std::string& embedding_model,
    const std::function<std::optional<std::string>(int64_t)>& chunk_for_id) {
  Impl& im = *impl_;
  const FaissIndexData data = read_faiss_index(faiss_path);
  FaissImportResult res;
  res.index_type = data.type;
  std::lock_guard<std::mutex> g(im.write_mu);
  Db& db = *im.writer;
  Transaction tx(db);
  const int64_t gen = bump_generation(db);
  if (!data.ids.empty()) check_embedding(db, data.dim, embedding_model, "FAISS index " + faiss_path);
  auto find = db.prepare("SELECT seq FROM chunks WHERE id = ?1");
  auto put = db.prepare(
      "INSERT INTO vectors(chunk, gen, vec) VALUES (?1, ?2, ?3) "
      "ON CONFLICT(chunk) DO UPDATE SET gen = excluded.gen, vec = excluded.vec");
  std::vector<float> v(size_t(data.dim));
  for (size_t i = 0; i < data.ids.size(); ++i) {
    const auto chunk_id = chunk_for_id(data.ids[i]);
    int64_t seq = -1;
    if (chunk_id) {
      find.bind(1, *chunk_id);
      if (find.step()) seq = find.col_int(0);
      find.reset();
    }
    if (seq < 0) {
      ++res.skipped;
      continue;
    }
    v.assign(data.vectors.begin() + ptrdiff_t(i * size_t(data.dim)),
             data.vectors.begin() + ptrdiff_t((i + 1) * size_t(data.dim)));
    const auto n = store::normalized(v, "FAISS index " + faiss_path + ": vector " + std::to_string(i));
    put.bind(1, seq).bind(2, gen).bind_blob(3, n.data(), n.size() * 4).exec();
    ++res.imported;
  }
  tx.commit();
  im.unsaved_changes += res.imported;
  return res;
}

EmbeddedIndexStatus EmbeddedStore::index_status() const {
  Impl& im = *impl_;
  EmbeddedIndexStatus st;
  {
    auto r = im.reader();
    st.db_generation = im.db_generation(r.db());
  }
  std::shared_lock<std::shared_mutex> lk(im.index_mu);
  st.kernel = store::vector_kernels().name;
  st.index_generation = im.index_gen;
  st.file_generation = im.saved_gen;
  if (im.index) {
    st.live = im.index->size();
    st.tombstones = im.index->n_deleted();
    st.slots = im.index->n_slots();
    st.memory_bytes = im.index->memory_bytes();
  }
  st.full_rebuilds = im.n_rebuilds;
  st.catch_ups = im.n_catch_ups;
  st.reconciles = im.n_reconciles;
  st.consolidations = im.n_consolidations;
  st.checkpoints = im.n_checkpoints;
  st.bm25_pruned = im.n_bm25_pruned;
  st.open_problem = im.open_problem;
  return st;
}

std::unique_ptr<Store> open_embedded_store(const EmbeddedStoreOptions& opts) {
  return std::make_unique<EmbeddedStore>(opts);
}

}  // namespace xnai::rag
