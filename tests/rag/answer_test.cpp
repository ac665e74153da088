// Answering: sentence boundaries, citation markers, extractive answers whose every citation
// is the exact document text at its span, and LLM prompts built within their token budget.
#include "rag/answer.h"

#include <gtest/gtest.h>

#include <memory>

#include "compute/backend.h"
#include "core/error.h"
#include "models/llm/llm.h"
#include "rag_fakes.h"
#include "runtime/generator.h"
#include "test_support.h"
#include "text/tokenizer.h"

namespace xnai::rag {
namespace {

std::vector<std::string> sentence_texts(const std::string& text) {
  std::vector<std::string> out;
  for (const auto& s : split_sentences(text))
    out.push_back(text.substr(static_cast<size_t>(s.begin), static_cast<size_t>(s.end - s.begin)));
  return out;
}

TEST(Sentences, IcuBoundariesWithWrappedLinesJoined) {
  const std::string t =
      "Mr. Smith went home. The battery lasts\nten hours on a charge!  Does it?\n\nNew paragraph";
  EXPECT_EQ(sentence_texts(t),
            (std::vector<std::string>{"Mr. Smith went home.", "The battery lasts\nten hours on a charge!",
                                      "Does it?", "New paragraph"}));
}

TEST(Sentences, HeadingsAndListItemsEndSentences) {
  const std::string t = "# Setup\nInstall the tool first. Then run it\n- one item\n- two items\n1. numbered";
  EXPECT_EQ(sentence_texts(t), (std::vector<std::string>{"# Setup", "Install the tool first.", "Then run it",
                                                         "- one item", "- two items", "1. numbered"}));
}

TEST(Sentences, SetextHeadingsStandAlone) {
  EXPECT_EQ(sentence_texts("Title\n=====\nBody text here. More\nwrapped."),
            (std::vector<std::string>{"Title", "=====", "Body text here.", "More\nwrapped."}));
}

TEST(Sentences, Utf8OffsetsAreBytes) {
  const std::string t = "Çà et là, naïve café. Ünïcödé — ok? 日本語の文です。次の文。";
  const auto spans = split_sentences(t);
  const auto texts = sentence_texts(t);
  ASSERT_EQ(texts.size(), 4u);
  EXPECT_EQ(texts[0], "Çà et là, naïve café.");
  EXPECT_EQ(texts[1], "Ünïcödé — ok?");
  EXPECT_EQ(texts[2], "日本語の文です。");
  EXPECT_EQ(texts[3], "次の文。");
  EXPECT_TRUE(split_sentences("").empty());
  EXPECT_TRUE(split_sentences(" \n\n ").empty());
}

TEST(Markers, FindsTheUsualForms) {
  const std::string a = "Yes [1]. Also [2, 3] and [4-6]; see [Source 7] [8–9] and [1][2].";
  const auto m = find_citation_markers(a);
  ASSERT_EQ(m.size(), 7u);
  EXPECT_EQ(m[0].numbers, (std::vector<int>{1}));
  EXPECT_EQ(a.substr(m[0].begin, m[0].end - m[0].begin), "[1]");
  EXPECT_EQ(m[1].numbers, (std::vector<int>{2, 3}));
  EXPECT_EQ(m[2].numbers, (std::vector<int>{4, 5, 6}));
  EXPECT_EQ(m[3].numbers, (std::vector<int>{7}));
  EXPECT_EQ(m[4].numbers, (std::vector<int>{8, 9}));
  EXPECT_EQ(m[5].numbers, (std::vector<int>{1}));
  EXPECT_EQ(m[6].numbers, (std::vector<int>{2}));
}

TEST(Markers, IgnoresBracketsThatAreNotCitations) {
  for (const char* s :
       {"array[i]", "[a]", "[1,]", "[]", "[ ]", "[3-1]", "[1-99999]", "x[12 34]", "[-1]", "[1", "1]"})
    EXPECT_TRUE(find_citation_markers(s).empty()) << s;
}

TEST(Markers, CitedSourcesInOrderOfFirstUse) {
  std::vector<Citation> sources(3);
  for (int i = 0; i < 3; ++i) sources[i].number = i + 1, sources[i].chunk_id = "c" + std::to_string(i + 1);
  std::vector<int> unknown;
  const auto cited = cited_sources("First [3]. Then [1][3] and [7], [0].", sources, &unknown);
  ASSERT_EQ(cited.size(), 2u);
  EXPECT_EQ(cited[0].chunk_id, "c3");
  EXPECT_EQ(cited[0].number, 3);
  EXPECT_EQ(cited[1].chunk_id, "c1");
  EXPECT_EQ(unknown, (std::vector<int>{7, 0}));
}

// Hits as a retriever would return them for the documents' chunks, best first.
std::vector<RetrievedHit> hits_of(const std::vector<std::pair<Document, std::vector<Chunk>>>& docs,
                                  const std::vector<std::pair<int, int>>& picks) {
  std::vector<RetrievedHit> hits;
  double score = 1.0;
  for (auto [d, c] : picks) {
    RetrievedHit h;
    const auto& doc = docs[static_cast<size_t>(d)].first;
    h.hit.chunk = docs[static_cast<size_t>(d)].second[static_cast<size_t>(c)];
    h.hit.document = {doc.id, doc.source_path, doc.title, doc.type, doc.content_hash, doc.mtime, 0, 0, {}};
    h.score = h.hit.score = score;
    score *= 0.9;
    hits.push_back(h);
  }
  return hits;
}

TEST(Extractive, QuotesTheBestSentencesWithExactSpans) {
  const std::string t1 =
      "Battery care.\n\nThe battery of the X200 lasts about ten hours. Charging takes two hours with the "
      "supplied adapter. Store it half charged.\n\nThe screen is 13 inches wide.";
  const std::string t2 =
      "Warranty\n\nThe warranty covers the battery for one year. Water damage is excluded.";
  std::vector<std::pair<Document, std::vector<Chunk>>> docs = {
      test::paragraphs_doc("d1", "/m/x200.txt", t1), test::paragraphs_doc("d2", "/m/warranty.txt", t2)};
  const auto hits = hits_of(docs, {{0, 1}, {1, 1}, {0, 2}});
  std::string streamed;
  const Answer a = answer_extractive("How long does the battery last?", hits, {},
                                     [&](std::string_view p) { return streamed.append(p), true; });
  EXPECT_TRUE(a.extractive);
  EXPECT_EQ(a.finish_reason, "extractive");
  EXPECT_EQ(streamed, a.text);
  ASSERT_FALSE(a.citations.empty());
  EXPECT_EQ(a.citations[0].text, "The battery of the X200 lasts about ten hours.");
  EXPECT_EQ(a.citations[0].number, 1);
  EXPECT_EQ(a.sources.at(0).chunk_id, "d1#1");
  EXPECT_EQ(a.text.rfind("The battery of the X200 lasts about ten hours. [1]", 0), 0u) << a.text;
  // Every citation is the document text at its span, and every marker names a listed source.
  for (const auto& c : a.citations) {
    const std::string& text = c.doc_id == "d1" ? t1 : t2;
    ASSERT_LE(c.end, static_cast<int64_t>(text.size()));
    EXPECT_EQ(text.substr(static_cast<size_t>(c.begin), static_cast<size_t>(c.end - c.begin)), c.text);
    ASSERT_GE(c.number, 1);
    ASSERT_LE(c.number, static_cast<int>(a.sources.size()));
    EXPECT_EQ(a.sources[static_cast<size_t>(c.number - 1)].doc_id, c.doc_id);
    EXPECT_NE(a.text.find(c.text + " [" + std::to_string(c.number) + "]"), std::string::npos);
  }
  // The screen sentence shares no word with the question and is not quoted.
  for (const auto& c : a.citations) EXPECT_EQ(c.text.find("screen"), std::string::npos);
}

TEST(Extractive, PrefersCoverageAndSkipsDuplicates) {
  const std::string t = "Alpha beta gamma.\n\nThe delta valve opens at noon. Nothing else here.";
  auto d1 = test::paragraphs_doc("d1", "/a.txt", t);
  auto d2 = test::paragraphs_doc("d2", "/copy/a.txt", t);
  const auto hits = hits_of({d1, d2}, {{0, 1}, {1, 1}});
  const Answer a = answer_extractive("when does the delta valve open", hits);
  ASSERT_EQ(a.citations.size(), 1u);  // the copy's identical sentence is not quoted twice
  EXPECT_EQ(a.citations[0].text, "The delta valve opens at noon.");
  EXPECT_EQ(a.citations[0].begin, static_cast<int64_t>(t.find("The delta")));
  EXPECT_EQ(a.sources.size(), 1u);
}

TEST(Extractive, FallsBackToTheTopHitAndHandlesNoHits) {
  auto d =
      test::paragraphs_doc("d", "/n.txt", "Intro\n\nCompletely unrelated words live here. More of them.");
  const auto hits = hits_of({d}, {{0, 1}});
  const Answer a = answer_extractive("zebra quantum", hits);
  ASSERT_EQ(a.citations.size(), 1u);
  EXPECT_EQ(a.citations[0].text, "Completely unrelated words live here.");
  const Answer none = answer_extractive("anything", {});
  EXPECT_EQ(none.finish_reason, "no_hits");
  EXPECT_TRUE(none.text.empty());
  EXPECT_TRUE(none.citations.empty());
}

TEST(Extractive, SentencePagesInsideAMultiPageChunk) {
  // One chunk over three pages (joined by blank lines, as the PDF loader does): the quoted
  // sentence's page comes from the document's page spans.
  Document doc;
  doc.id = "p";
  doc.source_path = "/p.pdf";
  doc.text = "Page one talks about apples.\n\nPage two explains the orange harvest.\n\nPage three is empty.";
  const int64_t p2 = static_cast<int64_t>(doc.text.find("Page two"));
  const int64_t p3 = static_cast<int64_t>(doc.text.find("Page three"));
  doc.pages = {{1, 0, p2 - 2}, {2, p2, p3 - 2}, {3, p3, static_cast<int64_t>(doc.text.size())}};
  Chunk c;
  c.id = "p#0";
  c.doc_id = "p";
  c.begin = 0;
  c.end = static_cast<int64_t>(doc.text.size());
  c.text = doc.text;
  c.page_first = 1;
  c.page_last = 3;
  RetrievedHit h;
  h.hit.chunk = c;
  h.hit.document.id = "p";
  h.hit.document.source_path = "/p.pdf";
  ExtractiveOptions o;
  int lookups = 0;
  o.pages = [&](const DocumentInfo& d) -> std::optional<std::vector<PageSpan>> {
    ++lookups;
    EXPECT_EQ(d.id, "p");
    return doc.pages;
  };
  const Answer a = answer_extractive("orange harvest", {h}, o);
  ASSERT_EQ(a.citations.size(), 1u);
  EXPECT_EQ(a.citations[0].text, "Page two explains the orange harvest.");
  EXPECT_EQ(a.citations[0].page_first, 2);
  EXPECT_EQ(a.citations[0].page_last, 2);
  EXPECT_EQ(lookups, 1);
  // Without page spans the honest answer is the chunk's range.
  const Answer b = answer_extractive("orange harvest", {h});
  EXPECT_EQ(b.citations.at(0).page_first, 1);
  EXPECT_EQ(b.citations.at(0).page_last, 3);
}

// --- LLM answers with the tiny conformance model ---------------------------------------------

struct TinyLlm : ::testing::Test {
  void SetUp() override {
    XNAI_SKIP_IF_MISSING(path, "llm/tiny-llama-spm-f32.gguf");
    backend = compute::make_cpu_backend({});
    model = models::LlmModel::load(path.string(), *backend);
  }
  std::unique_ptr<compute::Backend> backend;
  std::unique_ptr<models::LlmModel> model;
};

TEST_F(TinyLlm, PromptNumbersSourcesWithinBudget) {
  std::vector<std::pair<Document, std::vector<Chunk>>> docs;
  std::string text;
  for (int i = 0; i < 6; ++i)
    text += "Paragraph " + std::to_string(i) + " says the code word is word" + std::to_string(i) + ".\n\n";
  docs.push_back(test::paragraphs_doc("d", "/docs/codes.txt", text));
  const auto hits = hits_of(docs, {{0, 0}, {0, 1}, {0, 2}, {0, 3}, {0, 4}, {0, 5}});
  const auto full = build_answer_prompt(*model, "What is the code word?", hits, 5, 100000);
  ASSERT_EQ(full.sources.size(), 5u);  // max_sources
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(full.sources[static_cast<size_t>(i)].number, i + 1);
    EXPECT_NE(full.text.find("[" + std::to_string(i + 1) + "] codes.txt\nParagraph " + std::to_string(i)),
              std::string::npos);
  }
  EXPECT_NE(full.text.find("Question: What is the code word?"), std::string::npos);
  EXPECT_EQ(full.tokens, model->tokenizer().encode(full.text, true, true));

  // A budget for about two sources keeps the best two, whole.
  const auto none = build_answer_prompt(*model, "What is the code word?", {}, 5, 100000);
  const int64_t per_source =
      (static_cast<int64_t>(full.tokens.size()) - static_cast<int64_t>(none.tokens.size())) / 5;
  const int64_t budget = static_cast<int64_t>(none.tokens.size()) + per_source * 2 + per_source / 2;
  const auto two = build_answer_prompt(*model, "What is the code word?", hits, 5, budget);
  EXPECT_EQ(two.sources.size(), 2u);
  EXPECT_LE(static_cast<int64_t>(two.tokens.size()), budget);

  // Too small for the first source whole: it is cut, and its span shrinks with it.
  const auto cut = build_answer_prompt(*model, "What is the code word?", hits, 5,
                                       static_cast<int64_t>(none.tokens.size()) + per_source / 2 + 4);
  ASSERT_EQ(cut.sources.size(), 1u);
  const auto& c = cut.sources[0];
  EXPECT_LT(c.end - c.begin, hits[0].hit.chunk.end - hits[0].hit.chunk.begin);
  EXPECT_EQ(text.substr(static_cast<size_t>(c.begin), static_cast<size_t>(c.end - c.begin)), c.text);
  EXPECT_THROW(build_answer_prompt(*model, "What is the code word?", hits, 5, 3), Error);
}

TEST_F(TinyLlm, AnswerStreamsAndCitesOnlyListedSources) {
  auto d = test::paragraphs_doc("d", "/docs/a.txt", "The sky is green here.\n\nGrass is blue.");
  const auto hits = hits_of({d}, {{0, 0}, {0, 1}});
  runtime::Generator gen(*model, {.n_ctx = 512});
  LlmAnswerOptions o;
  o.generate.max_tokens = 12;
  o.generate.sampling.temperature = 0;
  std::string streamed;
  const Answer a = answer_with_llm(gen, "What colour is the sky?", hits, o, [&](std::string_view p) {
    streamed.append(p);
    return true;
  });
  EXPECT_FALSE(a.extractive);
  EXPECT_EQ(streamed, a.text);
  EXPECT_EQ(a.sources.size(), 2u);
  EXPECT_GT(a.n_prompt_tokens, 20);
  EXPECT_GT(a.n_generated_tokens, 0);
  EXPECT_EQ(a.citations.size(), cited_sources(a.text, a.sources).size());
  const Answer none = answer_with_llm(gen, "q", {}, o);
  EXPECT_EQ(none.finish_reason, "no_hits");
}

}  // namespace
}  // namespace xnai::rag
