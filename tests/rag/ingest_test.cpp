// The ingest pipeline on real files (loaders, chunker, the embedded store): summaries,
// skipping unchanged files, replacing changed ones, a broken PDF among good files, pruning,
// embeddings, and — end to end — citations whose spans and pages point at the exact text.
#include "rag/ingest.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "rag/answer.h"
#include "rag/filter_parse.h"
#include "rag/loaders.h"
#include "rag/retriever.h"
#include "rag/store.h"
#include "rag_fakes.h"

namespace xnai::rag {
namespace {

namespace fs = std::filesystem;

void write_file(const fs::path& p, const std::string& bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << bytes;
}

// A PDF with one page per entry of `pages` (enscript + ps2pdf; a form feed starts a page).
bool make_pdf(const fs::path& out, const std::vector<std::string>& pages) {
  const fs::path txt = out.string() + ".src.txt";
  std::string all;
  for (size_t i = 0; i < pages.size(); ++i) all += (i ? "\f" : "") + pages[i] + "\n";
  write_file(txt, all);
  const std::string cmd =
      "enscript -q -B -p - '" + txt.string() + "' 2>/dev/null | ps2pdf - '" + out.string() + "' 2>/dev/null";
  const int rc = std::system(cmd.c_str());
  fs::remove(txt);
  return rc == 0 && fs::exists(out) && fs::file_size(out) > 0;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string abs_path(const fs::path& p) { return fs::absolute(p).lexically_normal().string(); }

const std::vector<std::string> kPdfPages = {
    "Volcano field guide. This booklet covers three volcanoes of the northern range.",
    "Mount Kessel last erupted in 1911. Its crater lake is acidic and warm all year.",
    "Mount Arrow is dormant. Hikers reach its summit in about five hours from the hut."};

struct IngestTest : ::testing::Test {
  void SetUp() override {
    root = fs::temp_directory_path() / ("xnai_ingest_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root);
    docs = root / "docs";
    write_file(
        docs / "notes.txt",
        "Shopping list for the weekend.\n\nThe spare house key is under the blue flower pot by the door.\n");
    write_file(docs / "guide.md",
               "# Espresso guide\n\nGrind the beans fine. Use 18 grams of coffee for a double shot.\n\n"
               "## Milk\n\nSteam the milk to about 60 degrees Celsius.\n");
    write_file(docs / "sub" / "broken.pdf", "%PDF-1.4\nthis is not really a pdf at all\n%%EOF\n");
    write_file(docs / "sub" / "truncated.pdf", "%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R");
    have_pdf = make_pdf(docs / "sub" / "volcanoes.pdf", kPdfPages);
    store = open_embedded_store({(root / "data").string()});
  }
  void TearDown() override {
    store.reset();
    fs::remove_all(root);
  }
  fs::path root, docs;
  bool have_pdf = false;
  std::unique_ptr<Store> store;
};

TEST_F(IngestTest, BrokenPdfIsReportedAndTheRestIngested) {
  ASSERT_TRUE(have_pdf) << "enscript/ps2pdf could not make the test PDF";
  std::vector<IngestProgress> seen;
  IngestOptions o;
  o.progress = [&](const IngestProgress& p) { seen.push_back(p); };
  const IngestSummary s = ingest(*store, nullptr, {docs.string()}, o);

  EXPECT_EQ(s.added.size(), 3u);
  EXPECT_TRUE(contains(s.added, abs_path(docs / "notes.txt")));
  EXPECT_TRUE(contains(s.added, abs_path(docs / "guide.md")));
  EXPECT_TRUE(contains(s.added, abs_path(docs / "sub" / "volcanoes.pdf")));
  EXPECT_TRUE(s.updated.empty());
  EXPECT_TRUE(s.skipped.empty());
  ASSERT_EQ(s.failed.size(), 2u);
  for (const auto& f : s.failed) {
    EXPECT_TRUE(f.path == abs_path(docs / "sub" / "broken.pdf") ||
                f.path == abs_path(docs / "sub" / "truncated.pdf"))
        << f.path;
    EXPECT_NE(f.reason.find(fs::path(f.path).filename().string()), std::string::npos) << f.reason;
    EXPECT_FALSE(store->find_document_by_source(f.path).has_value());
  }
  EXPECT_GT(s.chunks_added, 3);
  const StoreStats st = store->stats();
  EXPECT_EQ(st.n_documents, 3);
  EXPECT_EQ(st.n_chunks, s.chunks_added);
  EXPECT_EQ(st.n_vectors, 0);
  // Progress: once before the first file, then after each file.
  ASSERT_EQ(seen.size(), 6u);
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].files_done, i);
    EXPECT_EQ(seen[i].files_total, 5u);
  }
  EXPECT_EQ(seen.back().chunks_done, s.chunks_added);
}

TEST_F(IngestTest, ReingestSkipsUnchangedAndReplacesChanged) {
  const IngestSummary first = ingest(*store, nullptr, {docs.string()});
  const auto before = store->stats();
  const IngestSummary again = ingest(*store, nullptr, {docs.string()});
  EXPECT_TRUE(again.added.empty());
  EXPECT_TRUE(again.updated.empty());
  EXPECT_EQ(again.skipped.size(), first.added.size());
  EXPECT_EQ(again.chunks_added, 0);
  EXPECT_EQ(store->stats().n_chunks, before.n_chunks);

  // Change one file: only it is re-read, and its old text is gone from search.
  write_file(docs / "notes.txt", "The spare house key now hangs on the hook in the garage.\n");
  const IngestSummary third = ingest(*store, nullptr, {docs.string()});
  ASSERT_EQ(third.updated.size(), 1u);
  EXPECT_EQ(third.updated[0], abs_path(docs / "notes.txt"));
  EXPECT_EQ(third.skipped.size(), first.added.size() - 1);
  EXPECT_EQ(store->stats().n_documents, before.n_documents);
  const auto doc = store->find_document_by_source(abs_path(docs / "notes.txt"));
  ASSERT_TRUE(doc.has_value());
  EXPECT_EQ(doc->content_hash, load_document((docs / "notes.txt").string()).content_hash);
  RetrieveOptions ro;
  auto r = retrieve(*store, nullptr, "flower pot", ro);
  for (const auto& h : r.hits)
    EXPECT_EQ(h.hit.chunk.text.find("flower pot"), std::string::npos) << h.hit.chunk.text;
  r = retrieve(*store, nullptr, "garage hook", ro);
  ASSERT_FALSE(r.hits.empty());
  EXPECT_EQ(r.hits[0].hit.document.source_path, abs_path(docs / "notes.txt"));
}

TEST_F(IngestTest, PruneDeletesOnlyVanishedFilesUnderTheGivenPaths) {
  write_file(root / "elsewhere" / "keep.txt", "A file outside the docs folder about llamas.\n");
  ingest(*store, nullptr, {docs.string(), (root / "elsewhere").string()});
  fs::remove(docs / "guide.md");
  fs::remove(root / "elsewhere" / "keep.txt");
  IngestOptions o;
  const IngestSummary no_prune = ingest(*store, nullptr, {docs.string()}, o);
  EXPECT_TRUE(no_prune.pruned.empty());
  EXPECT_TRUE(store->find_document_by_source(abs_path(docs / "guide.md")).has_value());
  o.prune = true;
  const IngestSummary s = ingest(*store, nullptr, {docs.string()}, o);
  ASSERT_EQ(s.pruned.size(), 1u);
  EXPECT_EQ(s.pruned[0], abs_path(docs / "guide.md"));
  EXPECT_FALSE(store->find_document_by_source(abs_path(docs / "guide.md")).has_value());
  // Outside the given paths: kept although its file is gone.
  EXPECT_TRUE(store->find_document_by_source(abs_path(root / "elsewhere" / "keep.txt")).has_value());
}

TEST_F(IngestTest, EmbeddingsAreStoredAndModelsNeverMix) {
  test::FakeEmbedder emb(32, "fake-a");
  const IngestSummary s = ingest(*store, &emb, {(docs / "guide.md").string(), (docs / "notes.txt").string()});
  EXPECT_EQ(s.added.size(), 2u);
  EXPECT_GT(emb.calls, 0);
  const StoreStats st = store->stats();
  EXPECT_EQ(st.n_vectors, st.n_chunks);
  EXPECT_EQ(st.embedding_model, "fake-a");
  EXPECT_EQ(st.embedding_dim, 32);
  // Hybrid search finds the milk section through both lists.
  RetrieveOptions ro;
  ro.mode = plan_retrieval(*store, &emb, RetrievalMode::Hybrid);
  EXPECT_EQ(ro.mode, RetrievalMode::Hybrid);
  const auto r = retrieve(*store, &emb, "steam milk degrees", ro);
  ASSERT_FALSE(r.hits.empty());
  EXPECT_NE(r.hits[0].hit.chunk.text.find("Steam the milk"), std::string::npos) << r.hits[0].hit.chunk.text;
  EXPECT_GT(r.hits[0].vector_rank, 0);
  EXPECT_GT(r.hits[0].bm25_rank, 0);

  test::FakeEmbedder other(32, "fake-b");
  EXPECT_THROW(ingest(*store, &other, {docs.string()}), Error);
  EXPECT_THROW(ingest(*store, nullptr, {docs.string()}), Error);
}

TEST_F(IngestTest, FiltersNarrowResults) {
  ASSERT_TRUE(have_pdf);
  write_file(docs / "volcano-notes.txt", "My own notes: the volcano Kessel has a warm crater lake.\n");
  ingest(*store, nullptr, {docs.string()});
  RetrieveOptions ro;
  ro.top_k = 10;
  const auto all = retrieve(*store, nullptr, "crater lake volcano", ro);
  std::set<std::string> types;
  for (const auto& h : all.hits) types.insert(h.hit.document.type);
  EXPECT_TRUE(types.count("pdf"));
  EXPECT_TRUE(types.count("txt"));

  ro.filter = parse_filter("type = pdf");
  const auto pdf = retrieve(*store, nullptr, "crater lake volcano", ro);
  ASSERT_FALSE(pdf.hits.empty());
  for (const auto& h : pdf.hits) EXPECT_EQ(h.hit.document.type, "pdf");

  ro.filter = parse_filter("source ~ volcano-notes");
  const auto notes = retrieve(*store, nullptr, "crater lake volcano", ro);
  ASSERT_EQ(notes.hits.size(), 1u);
  EXPECT_EQ(notes.hits[0].hit.document.source_path, abs_path(docs / "volcano-notes.txt"));

  ro.filter = parse_filter("type = pdf and page = 3");
  const auto p3 = retrieve(*store, nullptr, "volcano", ro);
  for (const auto& h : p3.hits) {
    EXPECT_LE(h.hit.chunk.page_first, 3);
    EXPECT_GE(h.hit.chunk.page_last, 3);
  }
  ro.filter = parse_filter("type = docx");
  EXPECT_TRUE(retrieve(*store, nullptr, "volcano", ro).hits.empty());
}

// The whole chain: every citation of an extractive answer is the document's own text at its
// byte span, and a sentence from page 2 of the PDF is cited as page 2.
TEST_F(IngestTest, CitationsPointAtTheExactTextAndPage) {
  ASSERT_TRUE(have_pdf);
  ingest(*store, nullptr, {docs.string()});
  struct Case {
    std::string question, expected_sentence;
    int page;
  };
  const std::vector<Case> cases = {
      {"When did Mount Kessel last erupt?", "Mount Kessel last erupted in 1911.", 2},
      {"How long does the hike to the summit of Mount Arrow take?",
       "Hikers reach its summit in about five hours from the hut.", 3},
      {"where is the spare house key", "The spare house key is under the blue flower pot by the door.", 0},
      {"How many grams of coffee for a double shot?", "Use 18 grams of coffee for a double shot.", 0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.question);
    const auto r = retrieve(*store, nullptr, c.question, RetrieveOptions{});
    ASSERT_FALSE(r.hits.empty());
    ExtractiveOptions eo;
    eo.pages = page_lookup_from_files();
    const Answer a = answer_extractive(c.question, r.hits, eo);
    ASSERT_FALSE(a.citations.empty());
    const auto quoted = std::find_if(a.citations.begin(), a.citations.end(),
                                     [&](const Citation& x) { return x.text == c.expected_sentence; });
    ASSERT_NE(quoted, a.citations.end()) << a.text;
    for (const auto& cit : a.citations) {
      const Document doc = load_document(cit.source_path);
      EXPECT_EQ(doc.id, cit.doc_id);
      ASSERT_LE(cit.end, static_cast<int64_t>(doc.text.size()));
      EXPECT_EQ(doc.text.substr(static_cast<size_t>(cit.begin), static_cast<size_t>(cit.end - cit.begin)),
                cit.text);
      // The page holding the span, from the loader's page spans.
      int page = 0;
      for (const auto& p : doc.pages)
        if (p.begin <= cit.begin && cit.begin < p.end) page = p.page;
      EXPECT_EQ(cit.page_first, page);
      EXPECT_GE(cit.page_last, cit.page_first);
    }
    EXPECT_EQ(quoted->page_first, c.page);
    EXPECT_EQ(quoted->page_last, c.page);
    // Sources are the retrieved chunks, also exact.
    for (const auto& src : a.sources) {
      const Document doc = load_document(src.source_path);
      EXPECT_EQ(doc.text.substr(static_cast<size_t>(src.begin), static_cast<size_t>(src.end - src.begin)),
                src.text);
    }
  }
}

TEST_F(IngestTest, MissingPathIsAFailureNotACrash) {
  const IngestSummary s =
      ingest(*store, nullptr, {(root / "nope.txt").string(), (docs / "notes.txt").string()});
  ASSERT_EQ(s.failed.size(), 1u);
  EXPECT_EQ(s.failed[0].path, abs_path(root / "nope.txt"));
  EXPECT_EQ(s.added.size(), 1u);
}

}  // namespace
}  // namespace xnai::rag
