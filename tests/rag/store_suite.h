// The backend-independent test suite of rag::Store (src/rag/store.h). Every backend runs it:
//
//   struct MyBackend {
//     static std::unique_ptr<xnai::rag::Store> open(const std::filesystem::path& dir);  // open or reopen
//   };
//   INSTANTIATE_TYPED_TEST_SUITE_P(My, StoreSuite, ::testing::Types<MyBackend>);
//
// `dir` is a fresh, empty directory per test (a backend that keeps no files there may map
// it to a collection name); open() is called again on the same dir to test persistence.
//
// The expectations come from an independent reference: the corpus below is plain data,
// filters are evaluated by a small reference evaluator written from the semantics stated in
// rag/document.h, and vector rankings by brute-force cosine, never by the store itself.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "rag/document.h"
#include "rag/filter_parse.h"
#include "rag/store.h"

namespace xnai::rag::test {

// --- a corpus with known answers -----------------------------------------------------------

struct CorpusDoc {
  Document doc;
  std::vector<Chunk> chunks;
  std::vector<std::vector<float>> vecs;  // one per chunk (may be empty: no embeddings)
};

inline std::vector<float> random_unit(std::mt19937& rng, int dim) {
  std::normal_distribution<float> g;
  std::vector<float> v(static_cast<size_t>(dim));
  double ss = 0;
  for (auto& x : v) {
    x = g(rng);
    ss += double(x) * x;
  }
  for (auto& x : v) x = float(x / std::sqrt(ss));
  return v;
}

// Epoch seconds of 00:00 UTC on a day (independent of the parser under test).
inline int64_t day(int y, int m, int d) {
  std::tm t{};
  t.tm_year = y - 1900;
  t.tm_mon = m - 1;
  t.tm_mday = d;
  return int64_t(timegm(&t));
}

// Document i: type cycles txt/md/html/pdf; source under /corpus/{notes,work,misc}/; mtime
// 3 days apart from 2024-01-01; tags, author, priority metadata in patterns; pdf chunks
// carry pages (the last chunk spans two pages). Every chunk's text holds the word "common",
// "uniq<i>" (its document) and "c<i>x<j>" (itself).
inline CorpusDoc make_doc(int i, int dim, int n_chunks = -1, uint32_t seed = 7) {
  static const char* kTypes[] = {"txt", "md", "html", "pdf"};
  static const char* kAreas[] = {"notes", "work", "misc"};
  static const char* kTags[] = {"work", "work,urgent", "home", "", "work, home", "rare"};
  static const char* kAuthors[] = {"Alice", "Bob", "Carol"};
  CorpusDoc cd;
  Document& d = cd.doc;
  char id[32];
  std::snprintf(id, sizeof id, "doc%05d", i);
  d.id = id;
  d.type = kTypes[i % 4];
  d.source_path = std::string("/corpus/") + kAreas[i % 3] + "/file" + std::to_string(i) + "." + d.type;
  d.title = "Report " + std::to_string(i);
  d.mtime = day(2024, 1, 1) + int64_t(i) * 3 * 86400 + 3600;
  d.content_hash = "hash" + std::to_string(i);
  if (std::string t = kTags[i % 6]; !t.empty()) d.metadata["tags"] = t;
  if (i % 5 != 4) d.metadata["author"] = kAuthors[i % 3];
  d.metadata["priority"] = std::to_string(i % 4);
  const int n = n_chunks >= 0 ? n_chunks : 2 + i % 4;
  std::mt19937 rng(seed * 7919u + uint32_t(i));
  const bool paged = d.type == "pdf";
  for (int j = 0; j < n; ++j) {
    Chunk c;
    std::snprintf(id, sizeof id, "doc%05d-c%03d", i, j);
    c.id = id;
    c.doc_id = d.id;
    c.index = j;
    c.text = "common words uniq" + std::to_string(i) + " c" + std::to_string(i) + "x" + std::to_string(j) +
             (j % 2 ? " running fox" : " lazy dogs") + (i % 7 == 0 ? " C++ templates" : "");
    c.begin = int64_t(d.text.size());
    d.text += c.text;
    c.end = int64_t(d.text.size());
    d.text += "\n\n";
    if (paged) {
      c.page_first = j + 1;
      c.page_last = j == n - 1 ? j + 2 : j + 1;
    }
    c.heading_path = "Part " + std::to_string(j / 2);
    c.n_tokens = 8;
    cd.chunks.push_back(c);
    if (dim > 0) cd.vecs.push_back(random_unit(rng, dim));
  }
  if (paged)
    for (int p = 1; p <= n + 1; ++p) d.pages.push_back({p, 0, int64_t(d.text.size())});
  return cd;
}

inline std::vector<CorpusDoc> make_corpus(int n_docs, int dim, uint32_t seed = 7) {
  std::vector<CorpusDoc> out;
  for (int i = 0; i < n_docs; ++i) out.push_back(make_doc(i, dim, -1, seed));
  return out;
}

// --- the reference filter evaluator ---------------------------------------------------------

inline std::vector<std::string> ref_tags(const Document& d) {
  std::vector<std::string> out;
  auto it = d.metadata.find("tags");
  if (it == d.metadata.end()) return out;
  std::string cur;
  for (char ch : it->second + ",") {
    if (ch == ',') {
      while (!cur.empty() && cur.front() == ' ') cur.erase(cur.begin());
      while (!cur.empty() && cur.back() == ' ') cur.pop_back();
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(ch);
    }
  }
  return out;
}

inline std::string ref_text(const FilterValue& v) {
  if (auto s = std::get_if<std::string>(&v)) return *s;
  const double d = std::get<double>(v);
  return d == std::floor(d) ? std::to_string(int64_t(d)) : std::to_string(d);
}

// page(c) decides page leaves: for a chunk, its own range; for a document (list_documents),
// "some chunk of the document".
template <class PageTest>
bool ref_match(const Filter& f, const Document& d, const PageTest& page) {
  using Op = Filter::Op;
  switch (f.op) {
    case Op::All:
      return true;
    case Op::And:
      return std::all_of(f.children.begin(), f.children.end(),
                         [&](const Filter& c) { return ref_match(c, d, page); });
    case Op::Or:
      return std::any_of(f.children.begin(), f.children.end(),
                         [&](const Filter& c) { return ref_match(c, d, page); });
    case Op::Not:
      return !ref_match(f.children.at(0), d, page);
    case Op::Ne: {
      Filter eq = f;
      eq.op = Op::Eq;
      return !ref_match(eq, d, page);
    }
    default:
      break;
  }
  const std::string& field = f.field;
  if (field == "page") {
    return page([&](int first, int last) {
      if (first <= 0) return false;
      if (f.op == Op::Range) return (!f.max || first <= *f.max) && (!f.min || last >= *f.min);
      for (const auto& v : f.values) {
        const double p = std::get<double>(v);
        if (first <= p && p <= last) return true;
      }
      return false;
    });
  }
  // Each candidate value the field has for this document, as text and (maybe) number.
  std::vector<std::string> vals;
  if (field == "source")
    vals = {d.source_path};
  else if (field == "type")
    vals = {d.type};
  else if (field == "title")
    vals = {d.title};
  else if (field == "doc_id")
    vals = {d.id};
  else if (field == "tags")
    vals = ref_tags(d);
  else if (field == "date")
    vals = {std::to_string(d.mtime)};
  else if (auto it = d.metadata.find(field); it != d.metadata.end())
    vals = {it->second};
  auto num_of = [](const std::string& s, double& out) {
    char* end = nullptr;
    out = std::strtod(s.c_str(), &end);
    return !s.empty() && *end == 0;
  };
  auto eq = [&](const std::string& have, const FilterValue& want) {
    if (field == "date") {
      double t;
      num_of(have, t);
      if (auto s = std::get_if<std::string>(&want)) {
        auto span = parse_iso_time(*s);
        return span && t >= double(span->first) && t <= double(span->second);
      }
      return t == std::get<double>(want);
    }
    if (auto w = std::get_if<double>(&want); w && field != "source" && field != "type" && field != "title" &&
                                             field != "doc_id" && field != "tags") {
      double h;
      return num_of(have, h) && h == *w;
    }
    return have == ref_text(want);
  };
  for (const auto& have : vals) {
    switch (f.op) {
      case Op::Eq:
        if (eq(have, f.values.at(0))) return true;
        break;
      case Op::In:
        for (const auto& w : f.values)
          if (eq(have, w)) return true;
        break;
      case Op::Contains:
        if (have.find(ref_text(f.values.at(0))) != std::string::npos) return true;
        break;
      case Op::Range: {
        double h;
        if (num_of(have, h) && (!f.min || h >= *f.min) && (!f.max || h <= *f.max)) return true;
        break;
      }
      default:
        break;
    }
  }
  return false;
}

inline bool ref_chunk_match(const Filter& f, const CorpusDoc& cd, const Chunk& c) {
  return ref_match(f, cd.doc, [&](auto test) { return test(c.page_first, c.page_last); });
}

inline bool ref_doc_match(const Filter& f, const CorpusDoc& cd) {
  return ref_match(f, cd.doc, [&](auto test) {
    return std::any_of(cd.chunks.begin(), cd.chunks.end(),
                       [&](const Chunk& c) { return test(c.page_first, c.page_last); });
  });
}

inline double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += double(a[i]) * b[i];
  return s;
}

inline std::vector<float> unit(std::vector<float> v) {
  double ss = 0;
  for (float x : v) ss += double(x) * x;
  for (float& x : v) x = float(x / std::sqrt(ss));
  return v;
}

// The true top-k chunk ids for q among chunks matching f (brute force over the corpus).
inline std::vector<std::string> ref_top_k(const std::vector<CorpusDoc>& corpus, const std::vector<float>& q,
                                          int k, const Filter& f) {
  std::vector<std::pair<double, std::string>> all;
  const auto qn = unit(q);
  for (const auto& cd : corpus)
    for (size_t j = 0; j < cd.vecs.size(); ++j)
      if (ref_chunk_match(f, cd, cd.chunks[j])) all.emplace_back(-dot(qn, cd.vecs[j]), cd.chunks[j].id);
  std::sort(all.begin(), all.end());
  std::vector<std::string> out;
  for (int i = 0; i < k && i < int(all.size()); ++i) out.push_back(all[size_t(i)].second);
  return out;
}

inline std::vector<std::string> hit_ids(const std::vector<Hit>& hits) {
  std::vector<std::string> out;
  for (const auto& h : hits) out.push_back(h.chunk.id);
  return out;
}

inline std::set<std::string> as_set(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

// --- the fixture ------------------------------------------------------------------------

template <class Backend>
class StoreSuite : public ::testing::Test {
 protected:
  static constexpr int kDim = 16;

  void SetUp() override {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::path(::testing::TempDir()) / ("xnai_store_" + std::to_string(::getpid()) + "_" +
                                                          std::to_string(counter++) + "_" + info->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    store_ = Backend::open(dir_);
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  void reopen() {
    store_.reset();
    store_ = Backend::open(dir_);
  }
  void add(const CorpusDoc& cd, const std::string& model = "test-model") {
    store_->upsert_document(cd.doc, cd.chunks, cd.vecs, model);
  }
  void add_all(const std::vector<CorpusDoc>& corpus) {
    for (const auto& cd : corpus) add(cd);
  }
  Store& store() { return *store_; }

  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
};

TYPED_TEST_SUITE_P(StoreSuite);

TYPED_TEST_P(StoreSuite, EmptyStore) {
  Store& s = this->store();
  EXPECT_FALSE(s.backend_name().empty());
  const StoreStats st = s.stats();
  EXPECT_EQ(st.n_documents, 0);
  EXPECT_EQ(st.n_chunks, 0);
  EXPECT_EQ(st.n_vectors, 0);
  EXPECT_EQ(st.embedding_dim, 0);
  EXPECT_TRUE(s.search_bm25("anything", 5).empty());
  EXPECT_TRUE(s.search_vector(std::vector<float>(this->kDim, 0.5f), 5).empty());
  EXPECT_FALSE(s.find_document("nope"));
  EXPECT_FALSE(s.find_document_by_source("/nope"));
  EXPECT_FALSE(s.get_chunk("nope"));
  EXPECT_TRUE(s.list_documents().empty());
  EXPECT_FALSE(s.delete_document("nope"));
}

TYPED_TEST_P(StoreSuite, UpsertAndReadBack) {
  const auto cd = make_doc(3, this->kDim, 4);  // a pdf with pages
  this->add(cd);
  Store& s = this->store();
  auto info = s.find_document(cd.doc.id);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->id, cd.doc.id);
  EXPECT_EQ(info->source_path, cd.doc.source_path);
  EXPECT_EQ(info->title, cd.doc.title);
  EXPECT_EQ(info->type, "pdf");
  EXPECT_EQ(info->mtime, cd.doc.mtime);
  EXPECT_EQ(info->content_hash, cd.doc.content_hash);
  EXPECT_EQ(info->n_chunks, 4);
  EXPECT_EQ(info->n_pages, int(cd.doc.pages.size()));
  EXPECT_EQ(info->metadata, cd.doc.metadata);
  auto by_source = s.find_document_by_source(cd.doc.source_path);
  ASSERT_TRUE(by_source);
  EXPECT_EQ(by_source->id, cd.doc.id);
  EXPECT_EQ(by_source->content_hash, "hash3");
  for (const auto& c : cd.chunks) {
    auto got = s.get_chunk(c.id);
    ASSERT_TRUE(got) << c.id;
    EXPECT_EQ(got->doc_id, cd.doc.id);
    EXPECT_EQ(got->index, c.index);
    EXPECT_EQ(got->begin, c.begin);
    EXPECT_EQ(got->end, c.end);
    EXPECT_EQ(got->page_first, c.page_first);
    EXPECT_EQ(got->page_last, c.page_last);
    EXPECT_EQ(got->heading_path, c.heading_path);
    EXPECT_EQ(got->text, c.text);
    EXPECT_EQ(got->text, cd.doc.text.substr(size_t(c.begin), size_t(c.end - c.begin)));
    EXPECT_EQ(got->n_tokens, c.n_tokens);
  }
  const StoreStats st = s.stats();
  EXPECT_EQ(st.n_documents, 1);
  EXPECT_EQ(st.n_chunks, 4);
  EXPECT_EQ(st.n_vectors, 4);
  EXPECT_EQ(st.embedding_dim, this->kDim);
  EXPECT_EQ(st.embedding_model, "test-model");
  const auto docs = s.list_documents();
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0].id, cd.doc.id);
  // A hit carries the chunk and its document.
  const auto hits = s.search_vector(cd.vecs[2], 1);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].chunk.id, cd.chunks[2].id);
  EXPECT_EQ(hits[0].chunk.text, cd.chunks[2].text);
  EXPECT_EQ(hits[0].document.source_path, cd.doc.source_path);
  EXPECT_EQ(hits[0].document.metadata, cd.doc.metadata);
  EXPECT_NEAR(hits[0].score, 1.0, 1e-5);
}

TYPED_TEST_P(StoreSuite, UpsertReplacesChunksAndVectors) {
  Store& s = this->store();
  auto v1 = make_doc(5, this->kDim, 5, 1);
  this->add(v1);
  this->add(make_doc(6, this->kDim));
  // The same document re-ingested with other content: fewer chunks, new ids, new vectors.
  auto v2 = make_doc(5, this->kDim, 2, 2);
  for (auto& c : v2.chunks) {
    c.id += "-v2";
    c.text += " revised";
  }
  v2.doc.content_hash = "hash5-v2";
  this->add(v2);
  EXPECT_EQ(s.stats().n_documents, 2);
  EXPECT_EQ(s.find_document(v2.doc.id)->n_chunks, 2);
  EXPECT_EQ(s.find_document_by_source(v2.doc.source_path)->content_hash, "hash5-v2");
  for (const auto& c : v1.chunks) EXPECT_FALSE(s.get_chunk(c.id)) << c.id;
  for (const auto& c : v2.chunks) EXPECT_TRUE(s.get_chunk(c.id)) << c.id;
  // The old vectors are gone from vector search, the new ones found.
  std::set<std::string> v1_ids;
  for (const auto& c : v1.chunks) v1_ids.insert(c.id);
  for (const auto& v : v1.vecs)
    for (const auto& h : s.search_vector(v, 20)) EXPECT_EQ(v1_ids.count(h.chunk.id), 0u) << h.chunk.id;
  for (size_t j = 0; j < v2.vecs.size(); ++j) {
    auto hits = s.search_vector(v2.vecs[j], 1);
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(hits[0].chunk.id, v2.chunks[j].id);
  }
  // BM25 sees only the new text.
  auto hits = s.search_bm25("revised", 10);
  EXPECT_EQ(as_set(hit_ids(hits)), as_set({v2.chunks[0].id, v2.chunks[1].id}));
  EXPECT_EQ(s.stats().n_chunks, 2 + int64_t(make_doc(6, this->kDim).chunks.size()));
}

TYPED_TEST_P(StoreSuite, DeleteDocument) {
  Store& s = this->store();
  const auto corpus = make_corpus(6, this->kDim);
  this->add_all(corpus);
  const auto& gone = corpus[2];
  EXPECT_TRUE(s.delete_document(gone.doc.id));
  EXPECT_FALSE(s.delete_document(gone.doc.id));
  EXPECT_FALSE(s.find_document(gone.doc.id));
  EXPECT_FALSE(s.find_document_by_source(gone.doc.source_path));
  for (const auto& c : gone.chunks) EXPECT_FALSE(s.get_chunk(c.id));
  EXPECT_TRUE(s.search_bm25("uniq2", 10).empty());
  for (const auto& h : s.search_bm25("common", 1000)) EXPECT_NE(h.document.id, gone.doc.id);
  for (const auto& v : gone.vecs)
    for (const auto& h : s.search_vector(v, 50)) EXPECT_NE(h.document.id, gone.doc.id);
  int64_t chunks = 0;
  for (const auto& cd : corpus) chunks += cd.doc.id == gone.doc.id ? 0 : int64_t(cd.chunks.size());
  EXPECT_EQ(s.stats().n_chunks, chunks);
  EXPECT_EQ(s.stats().n_vectors, chunks);
  EXPECT_EQ(s.list_documents().size(), 5u);
}

TYPED_TEST_P(StoreSuite, VectorSearchRanksByCosine) {
  Store& s = this->store();
  const auto corpus = make_corpus(30, this->kDim);
  this->add_all(corpus);
  std::mt19937 rng(99);
  for (int t = 0; t < 20; ++t) {
    auto q = random_unit(rng, this->kDim);
    for (auto& x : q) x *= 3.5f;  // not normalised: the store must not care
    const auto want = ref_top_k(corpus, q, 10, Filter{});
    const auto hits = s.search_vector(q, 10);
    ASSERT_EQ(hits.size(), 10u);
    EXPECT_EQ(hit_ids(hits), want);
    for (size_t i = 0; i < hits.size(); ++i) {
      if (i > 0) {
        EXPECT_GE(hits[i - 1].score, hits[i].score);
      }
      const auto& cd = corpus[size_t(std::stoi(hits[i].document.id.substr(3)))];
      const auto& v = cd.vecs[size_t(hits[i].chunk.index)];
      EXPECT_NEAR(hits[i].score, dot(unit(q), v), 1e-4);
    }
  }
}

TYPED_TEST_P(StoreSuite, VectorSearchKLargerThanCollection) {
  Store& s = this->store();
  const auto corpus = make_corpus(3, this->kDim);
  this->add_all(corpus);
  size_t n = 0;
  for (const auto& cd : corpus) n += cd.chunks.size();
  EXPECT_EQ(s.search_vector(corpus[0].vecs[0], 1000).size(), n);
  EXPECT_TRUE(s.search_vector(corpus[0].vecs[0], 0).empty());
}

TYPED_TEST_P(StoreSuite, Bm25RanksMatchingChunks) {
  Store& s = this->store();
  this->add_all(make_corpus(12, this->kDim));
  // One chunk-unique term: exactly that chunk.
  auto hits = s.search_bm25("c4x1", 10);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].chunk.id, "doc00004-c001");
  EXPECT_GT(hits[0].score, 0);
  // Porter stemming: "run" finds "running".
  hits = s.search_bm25("run", 100);
  ASSERT_FALSE(hits.empty());
  for (const auto& h : hits) EXPECT_NE(h.chunk.text.find("running"), std::string::npos);
  // OR semantics, more matching terms rank higher: the chunk holding both terms is first.
  hits = s.search_bm25("uniq7 c7x0", 10);
  ASSERT_GE(hits.size(), 2u);
  EXPECT_EQ(hits[0].chunk.id, "doc00007-c000");
  for (const auto& h : hits) EXPECT_EQ(h.document.id, "doc00007");
  for (size_t i = 1; i < hits.size(); ++i) EXPECT_GE(hits[i - 1].score, hits[i].score);
  // k limits.
  EXPECT_EQ(s.search_bm25("common", 5).size(), 5u);
  EXPECT_TRUE(s.search_bm25("absentword", 5).empty());
}

TYPED_TEST_P(StoreSuite, Bm25EscapesQuerySyntax) {
  Store& s = this->store();
  this->add_all(make_corpus(8, this->kDim));
  const char* nasty[] = {"C++ \"quoted\" AND OR NEAR(",
                         "\"",
                         "\"\"",
                         "*",
                         "-foo",
                         "text:common",
                         "^common",
                         "common*",
                         "NEAR(common words, 2)",
                         "a AND",
                         "(",
                         ")",
                         "{common}",
                         "'",
                         "NOT",
                         "OR",
                         "\xff\xfe broken utf8 \xc3",
                         "   ",
                         "",
                         "common OR",
                         "+-*/:^$",
                         "ünïcödé 日本語"};
  for (const char* q : nasty) {
    EXPECT_NO_THROW({ (void)s.search_bm25(q, 5); }) << q;
    EXPECT_NO_THROW({ (void)s.search_bm25(q, 5, parse_filter("type = pdf")); }) << q;
  }
  // Quoting keeps the words: "C++" still finds the chunks saying C++ (doc 0 and 7).
  auto hits = s.search_bm25("C++ templates", 50);
  std::set<std::string> docs;
  for (const auto& h : hits) docs.insert(h.document.id);
  EXPECT_EQ(docs, (std::set<std::string>{"doc00000", "doc00007"}));
  // Keywords are plain words, not operators: "NOT common" is an OR of both words.
  EXPECT_FALSE(s.search_bm25("NOT common", 5).empty());
}

// Filters used by the filter tests: every field, every op, combinations.
inline std::vector<std::pair<std::string, Filter>> suite_filters() {
  auto eq = [](std::string f, FilterValue v) {
    Filter x;
    x.op = Filter::Op::Eq;
    x.field = std::move(f);
    x.values = {std::move(v)};
    return x;
  };
  auto op = [](Filter::Op o, std::string f, std::vector<FilterValue> v) {
    Filter x;
    x.op = o;
    x.field = std::move(f);
    x.values = std::move(v);
    return x;
  };
  auto range = [](std::string f, std::optional<double> lo, std::optional<double> hi) {
    Filter x;
    x.op = Filter::Op::Range;
    x.field = std::move(f);
    x.min = lo;
    x.max = hi;
    return x;
  };
  auto node = [](Filter::Op o, std::vector<Filter> kids) {
    Filter x;
    x.op = o;
    x.children = std::move(kids);
    return x;
  };
  using Op = Filter::Op;
  std::vector<std::pair<std::string, Filter>> v = {
      {"all", Filter{}},
      {"type eq", eq("type", "pdf")},
      {"type ne", op(Op::Ne, "type", {"pdf"})},
      {"type in", op(Op::In, "type", {"md", "html"})},
      {"source contains", op(Op::Contains, "source", {"/notes/"})},
      {"title eq", eq("title", "Report 7")},
      {"title number value", eq("title", 7.0)},
      {"doc_id eq", eq("doc_id", "doc00011")},
      {"doc_id in", op(Op::In, "doc_id", {"doc00001", "doc00002", "nope"})},
      {"date range from", range("date", double(day(2024, 2, 1)), std::nullopt)},
      {"date range to", range("date", std::nullopt, double(day(2024, 1, 20)))},
      {"date range both", range("date", double(day(2024, 1, 10)), double(day(2024, 2, 10)))},
      {"date eq iso day", eq("date", "2024-01-07")},
      {"date in iso days", op(Op::In, "date", {"2024-01-04", "2024-01-13", "2023-01-01"})},
      {"date ne iso day", op(Op::Ne, "date", {"2024-01-07"})},
      {"page eq", eq("page", 2.0)},
      {"page in", op(Op::In, "page", {1.0, 4.0})},
      {"page range", range("page", 2.0, 3.0)},
      {"page range open", range("page", 4.0, std::nullopt)},
      {"page ne", op(Op::Ne, "page", {1.0})},
      {"tags eq", eq("tags", "work")},
      {"tags eq spaced", eq("tags", "home")},
      {"tags in", op(Op::In, "tags", {"urgent", "rare"})},
      {"tags contains", op(Op::Contains, "tags", {"ur"})},
      {"tags ne", op(Op::Ne, "tags", {"work"})},
      {"meta string eq", eq("author", "Alice")},
      {"meta string in", op(Op::In, "author", {"Bob", "Carol"})},
      {"meta contains", op(Op::Contains, "author", {"aro"})},
      {"meta ne (missing key matches)", op(Op::Ne, "author", {"Alice"})},
      {"meta number eq", eq("priority", 2.0)},
      {"meta number in", op(Op::In, "priority", {1.0, 3.0})},
      {"meta number range", range("priority", 1.5, 3.0)},
      {"meta missing key", eq("reviewer", "x")},
      {"meta missing key ne", op(Op::Ne, "reviewer", {"x"})},
      {"empty in", op(Op::In, "type", {})},
      {"and", node(Op::And, {eq("type", "pdf"), eq("page", 2.0)})},
      {"or", node(Op::Or, {eq("type", "md"), eq("tags", "home")})},
      {"not", node(Op::Not, {node(Op::Or, {eq("type", "md"), eq("tags", "home")})})},
      {"or with page", node(Op::Or, {eq("page", 3.0), eq("type", "md")})},
      {"not page and doc",
       node(Op::And, {node(Op::Not, {eq("page", 1.0)}), op(Op::Contains, "source", {"work"})})},
      {"nested", node(Op::And, {node(Op::Or, {eq("tags", "work"), op(Op::Contains, "source", {"notes/"})}),
                                range("date", double(day(2024, 1, 15)), std::nullopt),
                                node(Op::Not, {eq("author", "Bob")})})},
      {"empty and", node(Op::And, {})},
      {"empty or", node(Op::Or, {})},
      {"parsed",
       parse_filter("type=pdf and (tags=work or source~notes/) and date>=2024-01-01 and page in [1,2,3]")},
  };
  return v;
}

TYPED_TEST_P(StoreSuite, FiltersOnEveryFieldAndOp) {
  Store& s = this->store();
  const auto corpus = make_corpus(40, this->kDim);
  this->add_all(corpus);
  std::mt19937 rng(5);
  const auto q = random_unit(rng, this->kDim);
  for (const auto& [name, f] : suite_filters()) {
    SCOPED_TRACE(name + ": " + format_filter(f));
    std::set<std::string> want_chunks, want_docs;
    for (const auto& cd : corpus) {
      if (ref_doc_match(f, cd)) want_docs.insert(cd.doc.id);
      for (const auto& c : cd.chunks)
        if (ref_chunk_match(f, cd, c)) want_chunks.insert(c.id);
    }
    // Every chunk says "common" and has a vector: both searches return exactly the matches.
    EXPECT_EQ(as_set(hit_ids(s.search_bm25("common", 10000, f))), want_chunks);
    EXPECT_EQ(as_set(hit_ids(s.search_vector(q, 10000, f))), want_chunks);
    // Top-k under the filter is the true top-k of the matching chunks.
    EXPECT_EQ(hit_ids(s.search_vector(q, 5, f)), ref_top_k(corpus, q, 5, f));
    std::set<std::string> got_docs;
    for (const auto& d : s.list_documents(f)) got_docs.insert(d.id);
    EXPECT_EQ(got_docs, want_docs);
  }
}

TYPED_TEST_P(StoreSuite, SelectiveFilterStillReturnsK) {
  Store& s = this->store();
  constexpr int kDocs = 600;
  std::vector<CorpusDoc> corpus;
  for (int i = 0; i < kDocs; ++i) corpus.push_back(make_doc(i, this->kDim, 5));
  // Two documents are the only ones tagged "needle": 10 of 3000 chunks.
  corpus[17].doc.metadata["tags"] = "needle";
  corpus[444].doc.metadata["tags"] = "needle,work";
  this->add_all(corpus);
  Filter needle;
  needle.op = Filter::Op::Eq;
  needle.field = "tags";
  needle.values = {std::string("needle")};
  Filter most = parse_filter("type != pdf");  // 75% of chunks
  Filter pages = parse_filter("page = 3");    // pdf chunks on page 3: 150 of 3000
  std::mt19937 rng(11);
  double recall_sum = 0;
  int recall_n = 0;
  for (int t = 0; t < 10; ++t) {
    const auto q = random_unit(rng, this->kDim);
    auto hits = s.search_vector(q, 10, needle);
    ASSERT_EQ(hits.size(), 10u);
    EXPECT_EQ(hit_ids(hits), ref_top_k(corpus, q, 10, needle));
    hits = s.search_vector(q, 20, needle);
    EXPECT_EQ(hits.size(), 10u);  // all there are
    hits = s.search_bm25("common", 10, needle);
    ASSERT_EQ(hits.size(), 10u);
    for (const auto& h : hits) EXPECT_TRUE(h.document.id == "doc00017" || h.document.id == "doc00444");
    for (const Filter* f : {&most, &pages}) {
      hits = s.search_vector(q, 10, *f);
      ASSERT_EQ(hits.size(), 10u);
      const auto want = as_set(ref_top_k(corpus, q, 10, *f));
      int found = 0;
      for (const auto& h : hits) {
        EXPECT_TRUE(ref_chunk_match(*f, corpus[size_t(std::stoi(h.document.id.substr(3)))], h.chunk))
            << h.chunk.id;
        found += int(want.count(h.chunk.id));
      }
      recall_sum += found / 10.0;
      ++recall_n;
      EXPECT_EQ(s.search_bm25("common", 10, *f).size(), 10u);
    }
  }
  // Approximate backends may miss a few of the true top-10 under a filter, not many.
  EXPECT_GE(recall_sum / recall_n, 0.9);
}

TYPED_TEST_P(StoreSuite, EmbeddingMismatchesAreErrors) {
  Store& s = this->store();
  this->add(make_doc(1, this->kDim));
  auto wrong_dim = make_doc(2, this->kDim * 2);
  try {
    this->add(wrong_dim);
    FAIL() << "a different dimension must be refused";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(std::to_string(this->kDim)), std::string::npos) << msg;
    EXPECT_NE(msg.find(std::to_string(this->kDim * 2)), std::string::npos) << msg;
  }
  try {
    this->add(make_doc(3, this->kDim), "other-model");
    FAIL() << "a different model must be refused";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("test-model"), std::string::npos) << msg;
    EXPECT_NE(msg.find("other-model"), std::string::npos) << msg;
  }
  auto short_embeddings = make_doc(4, this->kDim);
  short_embeddings.vecs.pop_back();
  EXPECT_THROW(this->add(short_embeddings), Error);
  auto ragged = make_doc(5, this->kDim);
  ragged.vecs[1].push_back(0.f);
  EXPECT_THROW(this->add(ragged), Error);
  auto nan = make_doc(6, this->kDim);
  nan.vecs[0][0] = std::nanf("");
  EXPECT_THROW(this->add(nan), Error);
  EXPECT_THROW(s.search_vector(std::vector<float>(this->kDim + 1, 0.1f), 3), Error);
  // Nothing of the refused documents was stored.
  EXPECT_EQ(s.stats().n_documents, 1);
  EXPECT_FALSE(s.find_document(wrong_dim.doc.id));
}

TYPED_TEST_P(StoreSuite, MalformedFiltersAreErrors) {
  Store& s = this->store();
  this->add_all(make_corpus(4, this->kDim));
  Filter range_on_text;
  range_on_text.op = Filter::Op::Range;
  range_on_text.field = "title";
  range_on_text.min = 1;
  Filter not_two;
  not_two.op = Filter::Op::Not;
  not_two.children = {Filter{}, Filter{}};
  Filter bad_page;
  bad_page.op = Filter::Op::Eq;
  bad_page.field = "page";
  bad_page.values = {std::string("three")};
  Filter bad_date;
  bad_date.op = Filter::Op::Eq;
  bad_date.field = "date";
  bad_date.values = {std::string("yesterday")};
  Filter no_field;
  no_field.op = Filter::Op::Eq;
  no_field.values = {std::string("x")};
  for (const Filter* f : {&range_on_text, &not_two, &bad_page, &bad_date, &no_field}) {
    EXPECT_THROW((void)s.search_bm25("common", 5, *f), Error);
    EXPECT_THROW((void)s.search_vector(std::vector<float>(this->kDim, 0.2f), 5, *f), Error);
    EXPECT_THROW((void)s.list_documents(*f), Error);
  }
}

TYPED_TEST_P(StoreSuite, DocumentsWithoutEmbeddings) {
  Store& s = this->store();
  auto plain = make_doc(1, 0);  // no embedding model: BM25 only
  s.upsert_document(plain.doc, plain.chunks, {}, "");
  EXPECT_EQ(s.stats().n_vectors, 0);
  EXPECT_EQ(s.search_bm25("uniq1", 10).size(), plain.chunks.size());
  EXPECT_TRUE(s.search_vector(std::vector<float>(this->kDim, 0.3f), 5).empty());
  // Embedded documents added later are searchable by vector; the plain one still by BM25.
  auto embedded = make_doc(2, this->kDim);
  this->add(embedded);
  for (const auto& h : s.search_vector(embedded.vecs[0], 100)) EXPECT_EQ(h.document.id, embedded.doc.id);
  EXPECT_EQ(s.search_bm25("uniq1", 10).size(), plain.chunks.size());
}

TYPED_TEST_P(StoreSuite, ReopenPersists) {
  const auto corpus = make_corpus(20, this->kDim);
  this->add_all(corpus);
  this->store().delete_document(corpus[3].doc.id);
  std::mt19937 rng(3);
  const auto q = random_unit(rng, this->kDim);
  const auto before_vec = hit_ids(this->store().search_vector(q, 10));
  const auto before_bm25 = hit_ids(this->store().search_bm25("running fox", 10));
  this->reopen();
  Store& s = this->store();
  EXPECT_EQ(hit_ids(s.search_vector(q, 10)), before_vec);
  EXPECT_EQ(hit_ids(s.search_bm25("running fox", 10)), before_bm25);
  EXPECT_EQ(s.stats().n_documents, 19);
  EXPECT_EQ(s.stats().embedding_dim, this->kDim);
  EXPECT_EQ(s.stats().embedding_model, "test-model");
  EXPECT_FALSE(s.find_document(corpus[3].doc.id));
  EXPECT_TRUE(s.find_document_by_source(corpus[4].doc.source_path));
  // Writes after reopening work and are visible.
  this->add(make_doc(50, this->kDim));
  EXPECT_EQ(s.search_bm25("uniq50", 10).size(), make_doc(50, this->kDim).chunks.size());
  this->reopen();
  EXPECT_EQ(this->store().stats().n_documents, 20);
}

REGISTER_TYPED_TEST_SUITE_P(StoreSuite, EmptyStore, UpsertAndReadBack, UpsertReplacesChunksAndVectors,
                            DeleteDocument, VectorSearchRanksByCosine, VectorSearchKLargerThanCollection,
                            Bm25RanksMatchingChunks, Bm25EscapesQuerySyntax, FiltersOnEveryFieldAndOp,
                            SelectiveFilterStillReturnsK, EmbeddingMismatchesAreErrors,
                            MalformedFiltersAreErrors, DocumentsWithoutEmbeddings, ReopenPersists);

}  // namespace xnai::rag::test
