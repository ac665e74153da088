// The embedded store: the shared store suite (with the default planner, and with a planner
// forced onto the HNSW graph), plus what only this backend has: its files and pragmas, the
// vector index file as a checked cache (corrupt, torn, stale, foreign), deletion without
// rebuilds, several handles on one directory, concurrent searches and FAISS import.
#include "rag/store/embedded_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <thread>

#include "rag/store/bm25_query.h"
#include "store_suite.h"
#include "test_support.h"

namespace xnai::rag::test {
namespace {

namespace fs = std::filesystem;

struct EmbeddedDefault {
  static std::unique_ptr<Store> open(const fs::path& dir) {
    EmbeddedStoreOptions o;
    o.data_dir = dir.string();
    return open_embedded_store(o);
  }
};

// Every unfiltered search walks the graph, and checkpoints happen mid-ingest.
struct EmbeddedGraph {
  static EmbeddedStoreOptions options(const fs::path& dir) {
    EmbeddedStoreOptions o;
    o.data_dir = dir.string();
    o.exact_search_max = 0;
    o.graph_cost_per_ef = 0;  // filtered searches walk the graph too
    o.hnsw_m = 8;
    o.hnsw_ef_construction = 64;
    o.hnsw_ef_search = 32;
    o.index_threads = 2;
    o.index_checkpoint_changes = 500;
    o.bm25_split_min_chunks = 1;  // every BM25 query runs as two rowid ranges at once
    return o;
  }
  static std::unique_ptr<Store> open(const fs::path& dir) { return open_embedded_store(options(dir)); }
};

using Backends = ::testing::Types<EmbeddedDefault, EmbeddedGraph>;
INSTANTIATE_TYPED_TEST_SUITE_P(Embedded, StoreSuite, Backends);

// --- backend-specific tests ---------------------------------------------------------------

class EmbeddedStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int counter = 0;
    dir_ = fs::path(::testing::TempDir()) /
           ("xnai_emb_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::unique_ptr<EmbeddedStore> open(const fs::path& dir) {
    return std::make_unique<EmbeddedStore>(EmbeddedGraph::options(dir));
  }
  std::unique_ptr<EmbeddedStore> open() { return open(dir_); }
  static void add_all(Store& s, const std::vector<CorpusDoc>& corpus) {
    for (const auto& cd : corpus) s.upsert_document(cd.doc, cd.chunks, cd.vecs, "test-model");
  }
  // The single value of a query run directly on store.sqlite.
  std::string sql_value(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open((dir_ / "store.sqlite").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      const auto* t = sqlite3_column_text(st, 0);
      out = t ? reinterpret_cast<const char*>(t) : "";
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
  }
  void sql_exec(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "store.sqlite").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  // FTS5's own bm25() ranking of query text q (top k, optionally one document type only).
  std::vector<std::pair<std::string, double>> fts5_bm25(const std::string& q, int k,
                                                        const std::string& type) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open((dir_ / "store.sqlite").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(
        sqlite3_prepare_v2(db,
                           "SELECT c.id, -bm25(chunks_fts) FROM chunks_fts JOIN chunks c ON c.seq = "
                           "chunks_fts.rowid JOIN documents d ON d.seq = c.doc WHERE chunks_fts MATCH ?1 "
                           "AND (?3 = '' OR d.type = ?3) ORDER BY bm25(chunks_fts), c.seq LIMIT ?2",
                           -1, &st, nullptr),
        SQLITE_OK);
    const std::string m = store::fts5_match_expression(q);
    sqlite3_bind_text(st, 1, m.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, k);
    sqlite3_bind_text(st, 3, type.c_str(), -1, SQLITE_TRANSIENT);
    std::vector<std::pair<std::string, double>> out;
    while (sqlite3_step(st) == SQLITE_ROW)
      out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)),
                       sqlite3_column_double(st, 1));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
  }
  // A document of chunks with the given texts (no pages), with random vectors.
  static CorpusDoc doc_of_texts(int i, const std::vector<std::string>& texts, std::mt19937& rng) {
    CorpusDoc cd = make_doc(i, 16, 0);
    for (size_t j = 0; j < texts.size(); ++j) {
      Chunk c;
      char id[32];
      std::snprintf(id, sizeof id, "z%03d-c%03zu", i, j);
      c.id = id;
      c.doc_id = cd.doc.id;
      c.index = int(j);
      c.text = texts[j];
      c.begin = int64_t(cd.doc.text.size());
      cd.doc.text += c.text;
      c.end = int64_t(cd.doc.text.size());
      cd.doc.text += "\n\n";
      c.n_tokens = 8;
      cd.chunks.push_back(c);
      cd.vecs.push_back(random_unit(rng, 16));
    }
    cd.doc.pages.clear();
    return cd;
  }
  fs::path dir_;
};

TEST_F(EmbeddedStoreTest, FilesSchemaAndPragmas) {
  {
    auto s = open();
    add_all(*s, make_corpus(5, 16));
    EXPECT_TRUE(fs::exists(dir_ / "store.sqlite"));
  }
  EXPECT_TRUE(fs::exists(dir_ / "vectors.idx"));  // checkpointed on close
  EXPECT_EQ(sql_value("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(sql_value("PRAGMA user_version"), "1");
  EXPECT_EQ(sql_value("PRAGMA application_id"), std::to_string(0x784e4149));
  EXPECT_NE(sql_value("SELECT sql FROM sqlite_schema WHERE name = 'chunks_fts'").find("porter unicode61"),
            std::string::npos);
  EXPECT_EQ(sql_value("SELECT count(*) FROM vectors"), sql_value("SELECT count(*) FROM chunks"));
  EXPECT_EQ(sql_value("SELECT length(vec) FROM vectors LIMIT 1"), "64");
  EXPECT_EQ(sql_value("SELECT value FROM meta WHERE key = 'embedding_dim'"), "16");
  EXPECT_EQ(sql_value("PRAGMA integrity_check"), "ok");
  auto s = open();
  EXPECT_TRUE(s->verify().empty());
  const auto st = s->index_status();
  EXPECT_EQ(st.open_problem, "");
  EXPECT_EQ(st.full_rebuilds, 0);
  EXPECT_EQ(st.index_generation, st.db_generation);
}

TEST_F(EmbeddedStoreTest, NewerSchemaAndForeignDatabasesAreRefused) {
  { open(); }
  sql_exec("PRAGMA user_version = 99");
  try {
    open();
    FAIL() << "a newer schema must be refused";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Unsupported);
    EXPECT_NE(std::string(e.what()).find("99"), std::string::npos);
  }
  fs::remove_all(dir_);
  fs::create_directories(dir_);
  sql_exec("CREATE TABLE something_else(x)");
  try {
    open();
    FAIL() << "a foreign database must be refused";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidFormat);
  }
}

// Damages vectors.idx in place: flips one byte at `at` (from the end when negative).
void flip_byte(const fs::path& p, int64_t at) {
  std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(0, std::ios::end);
  const int64_t size = f.tellg();
  const int64_t pos = at >= 0 ? at : size + at;
  f.seekg(pos);
  char c;
  f.read(&c, 1);
  c = char(c ^ 0x5a);
  f.seekp(pos);
  f.write(&c, 1);
}

TEST_F(EmbeddedStoreTest, DamagedIndexFileIsDetectedAndRebuilt) {
  const auto corpus = make_corpus(30, 16);
  std::mt19937 rng(1);
  const auto q = random_unit(rng, 16);
  std::vector<std::string> want;
  {
    auto s = open();
    add_all(*s, corpus);
    want = hit_ids(s->search_vector(q, 10));
  }
  const fs::path idx = dir_ / "vectors.idx";
  struct Case {
    const char* name;
    std::function<void()> damage;
    const char* problem;
  };
  const std::vector<Case> cases = {
      {"flipped payload byte", [&] { flip_byte(idx, int64_t(fs::file_size(idx) / 2)); }, "checksum"},
      {"flipped header byte", [&] { flip_byte(idx, 20); }, ""},
      {"truncated", [&] { fs::resize_file(idx, fs::file_size(idx) - 100); }, "torn"},
      {"empty", [&] { fs::resize_file(idx, 0); }, "header"},
      {"missing", [&] { fs::remove(idx); }, "missing"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    c.damage();
    auto s = open();
    const auto st = s->index_status();
    EXPECT_NE(st.open_problem, "");
    EXPECT_NE(st.open_problem.find(c.problem), std::string::npos) << st.open_problem;
    EXPECT_EQ(st.full_rebuilds, 1);
    EXPECT_EQ(hit_ids(s->search_vector(q, 10)), want);
    EXPECT_TRUE(s->verify().empty());
  }  // each close writes a good file again
  auto s = open();
  EXPECT_EQ(s->index_status().open_problem, "");
}

TEST_F(EmbeddedStoreTest, StaleIndexFileIsCaughtUpNotRebuilt) {
  const auto corpus = make_corpus(40, 16);
  {
    auto s = open();
    add_all(*s, {corpus.begin(), corpus.begin() + 20});
  }
  const fs::path idx = dir_ / "vectors.idx", old = dir_ / "old.idx";
  fs::copy_file(idx, old);
  auto replaced = make_doc(5, 16, 3, 77);
  for (auto& c : replaced.chunks) c.id += "-v2";
  {
    auto s = open();
    add_all(*s, {corpus.begin() + 20, corpus.end()});
    for (int i = 0; i < 20; i += 3) s->delete_document(corpus[size_t(i)].doc.id);
    // Replace one document: its old vectors must disappear from the caught-up index.
    s->upsert_document(replaced.doc, replaced.chunks, replaced.vecs, "test-model");
  }
  fs::copy_file(old, idx, fs::copy_options::overwrite_existing);
  auto s = open();
  const auto st = s->index_status();
  EXPECT_EQ(st.open_problem, "");
  EXPECT_EQ(st.full_rebuilds, 0);
  EXPECT_GE(st.catch_ups + st.reconciles, 1);
  EXPECT_TRUE(s->verify().empty());
  for (int i = 0; i < 20; i += 3)
    for (const auto& h : s->search_vector(corpus[size_t(i)].vecs[0], 5))
      EXPECT_NE(h.document.id, corpus[size_t(i)].doc.id);
  std::set<std::string> old_ids;
  for (const auto& c : corpus[5].chunks) old_ids.insert(c.id);
  for (const auto& v : corpus[5].vecs)
    for (const auto& h : s->search_vector(v, 5)) EXPECT_EQ(old_ids.count(h.chunk.id), 0u) << h.chunk.id;
  EXPECT_EQ(s->search_vector(replaced.vecs[1], 1).at(0).chunk.id, replaced.chunks[1].id);
}

TEST_F(EmbeddedStoreTest, IndexFileOfAnotherStoreIsRejected) {
  const fs::path other = dir_.string() + "_other";
  {
    auto a = open(other);
    add_all(*a, make_corpus(10, 16, 1));
  }
  {
    auto s = open();
    add_all(*s, make_corpus(10, 16, 2));
  }
  fs::copy_file(other / "vectors.idx", dir_ / "vectors.idx", fs::copy_options::overwrite_existing);
  {
    auto s = open();
    EXPECT_NE(s->index_status().open_problem.find("another store"), std::string::npos);
    EXPECT_TRUE(s->verify().empty());
  }
  fs::remove_all(other);
}

TEST_F(EmbeddedStoreTest, DeletionsNeverRebuildAndKeepRecall) {
  auto s = open();
  std::vector<CorpusDoc> corpus;
  for (int i = 0; i < 300; ++i) corpus.push_back(make_doc(i, 16, 6));
  add_all(*s, corpus);
  std::mt19937 rng(4);
  std::vector<CorpusDoc> kept;
  for (int i = 0; i < 300; ++i) {
    if (i % 3 != 0) {  // delete two thirds, searching in between
      ASSERT_TRUE(s->delete_document(corpus[size_t(i)].doc.id));
      if (i % 20 == 1) (void)s->search_vector(random_unit(rng, 16), 5);
    } else {
      kept.push_back(corpus[size_t(i)]);
    }
  }
  double recall = 0;
  const int n_q = 50;
  for (int t = 0; t < n_q; ++t) {
    const auto q = random_unit(rng, 16);
    const auto want = as_set(ref_top_k(kept, q, 10, Filter{}));
    int found = 0;
    for (const auto& h : s->search_vector(q, 10)) found += int(want.count(h.chunk.id));
    recall += found / 10.0;
  }
  EXPECT_GE(recall / n_q, 0.95);
  const auto st = s->index_status();
  EXPECT_EQ(st.full_rebuilds, 0);
  EXPECT_GE(st.consolidations, 1);
  EXPECT_EQ(st.live, kept.size() * 6);
  EXPECT_LE(st.slots, 300u * 6);  // freed slots were reused or the index never grew
  EXPECT_TRUE(s->verify().empty());
  // New documents reuse the freed slots.
  for (int i = 300; i < 400; ++i) add_all(*s, {make_doc(i, 16, 6)});
  (void)s->search_vector(random_unit(rng, 16), 5);
  EXPECT_LE(s->index_status().slots, 300u * 6);
  EXPECT_TRUE(s->verify().empty());
}

TEST_F(EmbeddedStoreTest, TwoHandlesOnOneDirectoryStayConsistent) {
  auto a = open();
  auto b = open();
  const auto corpus = make_corpus(30, 16);
  add_all(*a, {corpus.begin(), corpus.begin() + 15});
  // b sees a's writes at its next search.
  EXPECT_EQ(b->search_vector(corpus[3].vecs[1], 1).at(0).chunk.id, corpus[3].chunks[1].id);
  EXPECT_EQ(b->search_bm25("uniq4", 10).size(), corpus[4].chunks.size());
  a->delete_document(corpus[3].doc.id);
  for (const auto& h : b->search_vector(corpus[3].vecs[1], 5)) EXPECT_NE(h.document.id, corpus[3].doc.id);
  // a checkpoints (pruning the deletion log) while b lags behind: b must reconcile.
  add_all(*a, {corpus.begin() + 15, corpus.end()});
  a->delete_document(corpus[20].doc.id);
  a->checkpoint();
  for (const auto& h : b->search_vector(corpus[20].vecs[0], 5)) EXPECT_NE(h.document.id, corpus[20].doc.id);
  EXPECT_GE(b->index_status().reconciles, 1);
  EXPECT_TRUE(a->verify().empty());
  EXPECT_TRUE(b->verify().empty());
  // b writes too; a catches up.
  auto extra = make_doc(99, 16);
  b->upsert_document(extra.doc, extra.chunks, extra.vecs, "test-model");
  EXPECT_EQ(a->search_vector(extra.vecs[0], 1).at(0).chunk.id, extra.chunks[0].id);
}

TEST_F(EmbeddedStoreTest, ConcurrentSearchesAgreeWithSerialOnes) {
  auto s = open();
  const auto corpus = make_corpus(200, 16);
  add_all(*s, corpus);
  std::mt19937 rng(8);
  std::vector<std::vector<float>> qs;
  for (int i = 0; i < 40; ++i) qs.push_back(random_unit(rng, 16));
  const Filter f = parse_filter("type in [md, pdf] or tags = home");
  std::vector<std::vector<std::string>> want_vec, want_bm25;
  for (const auto& q : qs) {
    want_vec.push_back(hit_ids(s->search_vector(q, 8, f)));
    want_bm25.push_back(hit_ids(s->search_bm25("running common uniq" + std::to_string(qs.size()), 8, f)));
  }
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 5; ++round)
        for (size_t i = 0; i < qs.size(); ++i) {
          const size_t j = (i + size_t(t) * 7) % qs.size();
          if (hit_ids(s->search_vector(qs[j], 8, f)) != want_vec[j]) ++mismatches;
          if (hit_ids(s->search_bm25("running common uniq" + std::to_string(qs.size()), 8, f)) !=
              want_bm25[j])
            ++mismatches;
        }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST_F(EmbeddedStoreTest, DeletingEverythingLeavesAWorkingEmptyStore) {
  auto s = open();
  const auto corpus = make_corpus(10, 16);
  add_all(*s, corpus);
  for (const auto& cd : corpus) s->delete_document(cd.doc.id);
  EXPECT_TRUE(s->search_vector(corpus[0].vecs[0], 5).empty());
  EXPECT_TRUE(s->search_bm25("common", 5).empty());
  EXPECT_TRUE(s->verify().empty());
  s.reset();
  s = open();
  EXPECT_TRUE(s->search_vector(corpus[0].vecs[0], 5).empty());
  add_all(*s, {corpus[1]});
  EXPECT_EQ(s->search_vector(corpus[1].vecs[0], 1).at(0).chunk.id, corpus[1].chunks[0].id);
}

// Our BM25 (lengths from memory) must rank and score exactly like FTS5's own bm25().
TEST_F(EmbeddedStoreTest, Bm25ScoresEqualFts5Bm25) {
  auto s = open();
  add_all(*s, make_corpus(60, 16));
  auto check = [&](const std::string& q) {
    SCOPED_TRACE(q);
    const auto want = fts5_bm25(q, 25, "");
    const auto got = s->search_bm25(q, 25);
    ASSERT_EQ(got.size(), want.size());
    ASSERT_FALSE(got.empty());
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_NEAR(got[i].score, want[i].second, 1e-5 * std::max(1.0, std::fabs(want[i].second)));
      EXPECT_EQ(got[i].chunk.id, want[i].first);
    }
  };
  for (const char* q :
       {"common", "running fox", "uniq7 c7x0 lazy", "C++ templates words", "dogs uniq12 uniq13 c13x1"})
    check(q);
  // Documents added and replaced after the lengths were loaded.
  add_all(*s, {make_doc(70, 16, 9), make_doc(3, 16, 1)});
  check("common");
  check("uniq70 running");
}

// A query split into three uneven rowid ranges returns exactly what one query does, with
// and without a filter, also after chunks past the last split point were added.
TEST_F(EmbeddedStoreTest, SplitBm25QueryEqualsOneQuery) {
  EmbeddedStoreOptions one = EmbeddedGraph::options(dir_), three = one;
  one.bm25_split_min_chunks = int64_t(1) << 40;
  three.index_threads = 3;
  auto whole = std::make_unique<EmbeddedStore>(one);
  auto split = std::make_unique<EmbeddedStore>(three);
  add_all(*whole, make_corpus(50, 7));
  Filter even;  // half the documents
  even.op = Filter::Op::In;
  even.field = "type";
  even.values = {std::string("pdf"), std::string("md")};
  auto check = [&](const std::string& q, const Filter& f) {
    SCOPED_TRACE(q);
    const auto want = whole->search_bm25(q, 12, f);
    const auto got = split->search_bm25(q, 12, f);
    ASSERT_FALSE(want.empty());
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].chunk.id, want[i].chunk.id) << i;
      EXPECT_EQ(got[i].score, want[i].score) << i;
    }
  };
  for (const char* q : {"common", "running fox uniq3", "lazy dogs c40x2", "uniq49 common"}) {
    check(q, {});
    check(q, even);
  }
  add_all(*split, {make_doc(80, 7, 2), make_doc(81, 7, 3)});
  check("uniq80 common", {});
  check("uniq81 running", even);
}

// Max-score pruning (bm25_search.h) must return exactly FTS5's own ranking. Terms of very
// different frequencies, repeated within chunks, so that queries mixing a common term with
// rarer ones are answered by the pruned query (counted by the store) and others are not.
TEST_F(EmbeddedStoreTest, PrunedBm25EqualsFts5Bm25) {
  auto s = open();
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> u(0, 1);
  const struct {
    const char* word;
    double p;
  } kTerms[] = {{"alpha", 0.7}, {"beta", 0.12}, {"gamma", 0.04}, {"delta", 0.015}, {"omega", 0.3}};
  for (int d = 0; d < 40; ++d) {
    std::vector<std::string> texts;
    for (int j = 0; j < 20; ++j) {
      std::string t = "filler";
      for (const auto& term : kTerms)
        for (int rep = 0; rep < 3 && u(rng) < term.p; ++rep) t += std::string(" ") + term.word;
      for (int f = int(u(rng) * 12); f > 0; --f) t += " words";  // varied lengths
      texts.push_back(t);
    }
    const CorpusDoc cd = doc_of_texts(d, texts, rng);
    s->upsert_document(cd.doc, cd.chunks, cd.vecs, "test-model");
  }
  auto check = [&](const std::string& q, int k, const std::string& type) {
    SCOPED_TRACE(q + " k=" + std::to_string(k) + " type=" + type);
    Filter f;
    if (!type.empty()) {
      f.op = Filter::Op::Eq;
      f.field = "type";
      f.values = {type};
    }
    const auto want = fts5_bm25(q, k, type);
    const auto got = s->search_bm25(q, k, f);
    ASSERT_FALSE(want.empty());
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].chunk.id, want[i].first) << i;
      EXPECT_NEAR(got[i].score, want[i].second, 1e-5 * std::max(1.0, std::fabs(want[i].second))) << i;
    }
  };
  for (const char* q : {"alpha beta", "alpha gamma", "alpha beta gamma delta", "alpha omega delta",
                        "omega gamma", "beta delta", "alpha"})
    for (int k : {1, 5, 10, 40})
      for (const char* type : {"", "pdf"}) check(q, k, type);
  EXPECT_GT(s->index_status().bm25_pruned, 0);  // the pruned path answered some of them
  // And after the frequencies changed (the cache is per generation).
  s->delete_document(make_doc(3, 16, 0).doc.id);
  const int64_t before = s->index_status().bm25_pruned;
  check("alpha beta", 10, "");
  check("alpha gamma delta", 5, "pdf");
  EXPECT_GT(s->index_status().bm25_pruned, before);
}

// When the k-th chunk holding an essential term scores below the common terms' bound, the
// pruned answer is not provably right and the full query must answer. Here the rare term's
// chunks are all long (low scores) while short chunks repeating the common term score higher.
TEST_F(EmbeddedStoreTest, PrunedBm25FallsBackWhenTheBoundIsNotMet) {
  auto s = open();
  std::mt19937 rng(5);
  std::string long_tail;
  for (int w = 0; w < 59; ++w) long_tail += " filler";
  for (int d = 0; d < 20; ++d) {
    std::vector<std::string> texts;
    for (int j = 0; j < 20; ++j) {
      const int i = d * 20 + j;
      texts.push_back(i < 10 ? "rare" + long_tail : i % 4 == 0 ? "com com com" : "filler");
    }
    const CorpusDoc cd = doc_of_texts(d, texts, rng);
    s->upsert_document(cd.doc, cd.chunks, cd.vecs, "test-model");
  }
  const auto want = fts5_bm25("com rare", 10, "");
  const auto got = s->search_bm25("com rare", 10);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].chunk.id, want[i].first) << i;
  EXPECT_EQ(s->index_status().bm25_pruned, 0);
}

// --- FAISS import -------------------------------------------------------------------------

fs::path faiss_fixture(const std::string& name) {
  return fs::path(__FILE__).parent_path() / "data" / "faiss" / name;
}

TEST_F(EmbeddedStoreTest, ImportsVectorsFromAFaissFile) {
  auto s = open();
  // 60 chunks without embeddings; the FAISS ids (1000 + 7 i²) map to them.
  CorpusDoc cd = make_doc(1, 0, 60);
  s->upsert_document(cd.doc, cd.chunks, {}, "");
  auto r = s->import_faiss(faiss_fixture("idmap2_hnsw_flat_l2.faiss").string(), "faiss-model",
                           [&](int64_t id) -> std::optional<std::string> {
                             for (int i = 0; i < 60; ++i)
                               if (1000 + 7 * int64_t(i) * i == id && i != 59) return cd.chunks[size_t(i)].id;
                             return std::nullopt;  // the last one is left out on purpose
                           });
  EXPECT_EQ(r.index_type, "IxM2/IHNf/IxF2");
  EXPECT_EQ(r.imported, 59);
  EXPECT_EQ(r.skipped, 1);
  EXPECT_EQ(s->stats().n_vectors, 59);
  EXPECT_EQ(s->stats().embedding_model, "faiss-model");
  // Each imported vector finds its own chunk.
  std::ifstream f(faiss_fixture("vectors.f32"), std::ios::binary);
  std::vector<float> xb(60 * 16);
  f.read(reinterpret_cast<char*>(xb.data()), std::streamsize(xb.size() * 4));
  for (int i = 0; i < 59; ++i) {
    std::vector<float> v(xb.begin() + i * 16, xb.begin() + (i + 1) * 16);
    EXPECT_EQ(s->search_vector(v, 1).at(0).chunk.id, cd.chunks[size_t(i)].id);
  }
  EXPECT_TRUE(s->verify().empty());
  // A second import with another model is refused like an upsert would be.
  EXPECT_THROW(
      s->import_faiss(faiss_fixture("flat_ip.faiss").string(), "other",
                      [&](int64_t id) { return std::optional<std::string>(cd.chunks[size_t(id)].id); }),
      Error);
}

}  // namespace
}  // namespace xnai::rag::test
