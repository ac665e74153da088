// Retrieval: reciprocal rank fusion on hand-made lists (scores worked out by hand), hybrid /
// vector / BM25-only modes, top_k, the score threshold, dedupe, and filters reaching both
// searches.
#include "rag/retriever.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "rag_fakes.h"

namespace xnai::rag {
namespace {

using test::FakeEmbedder;
using test::FakeStore;

TEST(Rrf, FusesHandMadeListsInTheRightOrder) {
  // a: 1/61 + 1/62 = 0.0325216; c: 1/63 + 1/61 = 0.0322663; b: 1/62; e: 1/63; d: 1/64.
  const auto fused = reciprocal_rank_fusion({{{"a", "b", "c", "d"}}, {{"c", "a", "e"}}}, 60);
  ASSERT_EQ(fused.size(), 5u);
  const std::vector<std::string> order = {"a", "c", "b", "e", "d"};
  for (size_t i = 0; i < order.size(); ++i) EXPECT_EQ(fused[i].first, order[i]) << i;
  EXPECT_NEAR(fused[0].second, 1.0 / 61 + 1.0 / 62, 1e-12);
  EXPECT_NEAR(fused[1].second, 1.0 / 63 + 1.0 / 61, 1e-12);
  EXPECT_NEAR(fused[2].second, 1.0 / 62, 1e-12);
  EXPECT_NEAR(fused[3].second, 1.0 / 63, 1e-12);
  EXPECT_NEAR(fused[4].second, 1.0 / 64, 1e-12);
}

TEST(Rrf, AgreementBeatsOneFirstPlace) {
  // x is first in one list only; y is second in both: 2/62 > 1/61.
  const auto fused = reciprocal_rank_fusion({{{"x", "y"}}, {{"z", "y"}}}, 60);
  ASSERT_EQ(fused.size(), 3u);
  EXPECT_EQ(fused[0].first, "y");
  EXPECT_EQ(fused[1].first, "x");  // tie with z (1/61 each): first appearance wins
  EXPECT_EQ(fused[2].first, "z");
}

TEST(Rrf, RepeatedIdCountsOnceAtBestRankAndKMatters) {
  const auto fused = reciprocal_rank_fusion({{{"a", "b", "a"}}}, 1);
  ASSERT_EQ(fused.size(), 2u);
  EXPECT_NEAR(fused[0].second, 1.0 / 2, 1e-12);  // k = 1, rank 1
  EXPECT_NEAR(fused[1].second, 1.0 / 3, 1e-12);
  EXPECT_TRUE(reciprocal_rank_fusion({}, 60).empty());
}

// Six chunks in two documents, with scripted vector and BM25 rankings.
struct Scripted : ::testing::Test {
  void SetUp() override {
    auto [d1, c1] =
        test::paragraphs_doc("d1", "/docs/one.txt", "alpha one\n\nbeta two\n\ngamma three", "txt");
    auto [d2, c2] =
        test::paragraphs_doc("d2", "/docs/two.md", "delta four\n\nepsilon five\n\nzeta six", "md");
    FakeEmbedder e;
    std::vector<std::string> t1, t2;
    for (auto& c : c1) t1.push_back(c.text);
    for (auto& c : c2) t2.push_back(c.text);
    store.upsert_document(d1, c1, e.embed(t1), e.model_name());
    store.upsert_document(d2, c2, e.embed(t2), e.model_name());
  }
  FakeStore store;
  FakeEmbedder embedder;
};

TEST_F(Scripted, HybridFollowsRrfWithNormalisedScores) {
  store.vector_script = {"d1#0", "d1#1", "d1#2", "d2#0"};
  store.bm25_script = {"d1#2", "d1#0", "d2#1"};
  RetrieveOptions o;
  o.top_k = 10;
  const auto r = retrieve(store, &embedder, "anything", o);
  EXPECT_EQ(r.mode, RetrievalMode::Hybrid);
  const std::vector<std::string> order = {"d1#0", "d1#2", "d1#1", "d2#1", "d2#0"};
  ASSERT_EQ(r.hits.size(), order.size());
  for (size_t i = 0; i < order.size(); ++i) EXPECT_EQ(r.hits[i].hit.chunk.id, order[i]) << i;
  // Normalised RRF: (1/61 + 1/62) · 61/2 for first+second place.
  EXPECT_NEAR(r.hits[0].score, (1.0 / 61 + 1.0 / 62) * 61 / 2, 1e-12);
  EXPECT_EQ(r.hits[0].hit.score, r.hits[0].score);
  EXPECT_EQ(r.hits[0].vector_rank, 1);
  EXPECT_EQ(r.hits[0].bm25_rank, 2);
  EXPECT_EQ(r.hits[3].vector_rank, 0);  // d2#1 came from BM25 only
  EXPECT_EQ(r.hits[3].bm25_rank, 3);
  // Hits carry their chunk and document.
  EXPECT_EQ(r.hits[1].hit.chunk.text, "gamma three");
  EXPECT_EQ(r.hits[1].hit.document.source_path, "/docs/one.txt");
}

TEST_F(Scripted, TopKAndThreshold) {
  store.vector_script = {"d1#0", "d1#1", "d1#2", "d2#0"};
  store.bm25_script = {"d1#2", "d1#0", "d2#1"};
  RetrieveOptions o;
  o.top_k = 2;
  auto r = retrieve(store, &embedder, "q", o);
  ASSERT_EQ(r.hits.size(), 2u);
  EXPECT_EQ(r.hits[1].hit.chunk.id, "d1#2");
  // Scores: d1#0 0.9919, d1#2 0.9841, d1#1 0.4919, d2#1 0.4841, d2#0 0.4766.
  o.top_k = 10;
  o.score_threshold = 0.49;
  r = retrieve(store, &embedder, "q", o);
  ASSERT_EQ(r.hits.size(), 3u);
  for (const auto& h : r.hits) EXPECT_GE(h.score, 0.49);
  o.score_threshold = 2.0;
  EXPECT_TRUE(retrieve(store, &embedder, "q", o).hits.empty());
}

TEST_F(Scripted, FilterIsPushedIntoBothSearches) {
  RetrieveOptions o;
  o.filter.op = Filter::Op::Eq;
  o.filter.field = "type";
  o.filter.values = {std::string("md")};
  const auto r = retrieve(store, &embedder, "delta epsilon alpha", o);
  ASSERT_EQ(store.vector_filters.size(), 1u);
  ASSERT_EQ(store.bm25_filters.size(), 1u);
  for (const auto* f : {&store.vector_filters[0], &store.bm25_filters[0]}) {
    EXPECT_EQ(f->op, Filter::Op::Eq);
    EXPECT_EQ(f->field, "type");
    EXPECT_EQ(std::get<std::string>(f->values.at(0)), "md");
  }
  ASSERT_FALSE(r.hits.empty());
  for (const auto& h : r.hits) EXPECT_EQ(h.hit.document.type, "md") << h.hit.chunk.id;
  // Without the filter the alpha chunk of the txt file is found too.
  const auto all = retrieve(store, &embedder, "delta epsilon alpha", {});
  bool saw_txt = false;
  for (const auto& h : all.hits) saw_txt = saw_txt || h.hit.document.type == "txt";
  EXPECT_TRUE(saw_txt);
}

TEST_F(Scripted, Bm25OnlyWithoutEmbedder) {
  RetrieveOptions o;  // asks for hybrid
  const auto r = retrieve(store, nullptr, "epsilon", o);
  EXPECT_EQ(r.mode, RetrievalMode::Bm25);
  EXPECT_TRUE(store.vector_filters.empty());  // no vector search ran
  ASSERT_EQ(r.hits.size(), 1u);
  EXPECT_EQ(r.hits[0].hit.chunk.text, "epsilon five");
  EXPECT_EQ(r.hits[0].bm25_rank, 1);
  EXPECT_DOUBLE_EQ(r.hits[0].score, r.hits[0].bm25_score);  // BM25 mode reports the BM25 score
  std::string note;
  EXPECT_EQ(plan_retrieval(store, nullptr, RetrievalMode::Hybrid, &note), RetrievalMode::Bm25);
  EXPECT_NE(note.find("fake-embedder"), std::string::npos) << note;  // the store has vectors: say which model
}

TEST_F(Scripted, VectorOnlyReportsCosine) {
  RetrieveOptions o;
  o.mode = RetrievalMode::Vector;
  o.top_k = 1;
  const auto r = retrieve(store, &embedder, "zeta six", o);
  ASSERT_EQ(r.hits.size(), 1u);
  EXPECT_EQ(r.hits[0].hit.chunk.text, "zeta six");
  EXPECT_NEAR(r.hits[0].score, 1.0, 1e-6);  // identical bag of words
  EXPECT_TRUE(store.bm25_filters.empty());
}

TEST(Retriever, PlanRefusesAnotherModelAndFallsBackWithoutVectors) {
  FakeStore store;
  FakeEmbedder a(64, "model-a"), b(64, "model-b");
  auto [d, c] = test::paragraphs_doc("d", "/x.txt", "some text here");
  std::string note;
  store.upsert_document(d, c, {}, "");
  EXPECT_EQ(plan_retrieval(store, nullptr, RetrievalMode::Hybrid, &note), RetrievalMode::Bm25);
  EXPECT_TRUE(note.empty());  // no model, no vectors: the normal BM25 set-up, nothing to say
  EXPECT_EQ(plan_retrieval(store, &a, RetrievalMode::Hybrid, &note), RetrievalMode::Bm25);
  EXPECT_NE(note.find("no vectors"), std::string::npos);
  store.upsert_document(d, c, a.embed({c[0].text}), a.model_name());
  EXPECT_EQ(plan_retrieval(store, &a, RetrievalMode::Hybrid, &note), RetrievalMode::Hybrid);
  EXPECT_TRUE(note.empty());
  try {
    plan_retrieval(store, &b, RetrievalMode::Hybrid, &note);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("model-a"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("model-b"), std::string::npos);
  }
}

TEST(Retriever, Bm25QueryDropsStopWordsUnlessNothingElseIsLeft) {
  FakeStore store;
  auto [d, c] = test::paragraphs_doc("d", "/x.txt", "the launch code is blue");
  store.upsert_document(d, c, {}, "");
  retrieve(store, nullptr, "What is the launch code?", {});
  retrieve(store, nullptr, "to be or not to be", {});
  retrieve(store, nullptr, "Café au lait", {});
  ASSERT_EQ(store.bm25_queries.size(), 3u);
  EXPECT_EQ(store.bm25_queries[0], "launch code");
  EXPECT_EQ(store.bm25_queries[1], "to be or not to be");
  EXPECT_EQ(store.bm25_queries[2], "Café au lait");  // nothing to drop: passed as written
}

TEST(Retriever, DedupesCopiedTextAndRejectsBadInput) {
  FakeStore store;
  auto [d1, c1] = test::paragraphs_doc("d1", "/a/notes.txt", "the launch code is blue");
  auto [d2, c2] = test::paragraphs_doc("d2", "/b/notes copy.txt", "the launch  code\nis blue");
  store.upsert_document(d1, c1, {}, "");
  store.upsert_document(d2, c2, {}, "");
  RetrieveOptions o;
  auto r = retrieve(store, nullptr, "launch code", o);
  ASSERT_EQ(r.hits.size(), 1u);
  EXPECT_EQ(r.hits[0].hit.chunk.doc_id, "d1");
  o.dedupe_text = false;
  EXPECT_EQ(retrieve(store, nullptr, "launch code", o).hits.size(), 2u);
  EXPECT_TRUE(retrieve(store, nullptr, "  ?! ", o).hits.empty());
  o.top_k = 0;
  EXPECT_THROW(retrieve(store, nullptr, "launch", o), Error);
}

}  // namespace
}  // namespace xnai::rag
