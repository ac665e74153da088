// `xnai ingest` / `search` / `ask` end to end on a small folder, in a temporary data
// directory, with no model files (BM25 + extractive answers): summaries, JSON shapes, and
// citations checked against the documents' own text.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "rag/loaders.h"

namespace fs = std::filesystem;

namespace {

struct RunResult {
  int code = -1;
  std::string out, err;
};

// Runs `xnai ARGS` (env XNAI_BIN, set by ctest) with extra environment assignments in `env`
// ("NAME=value …", may be empty); stdout and stderr separately.
RunResult run_xnai(const std::string& args, const std::string& env = "") {
  const char* bin = std::getenv("XNAI_BIN");
  RunResult r;
  if (!bin || !*bin) return r;
  const fs::path err = fs::temp_directory_path() / ("xnai_rag_cli_err_" + std::to_string(::getpid()));
  // MODEL_PATH / XNAI_EMBED_MODEL from the developer's shell must not turn the runs into
  // model runs; XNAI_DATA is set per test.
  const std::string cmd = "env -u MODEL_PATH -u XNAI_EMBED_MODEL -u XNAI_DATA " + env + " '" + bin + "' " +
                          args + " 2>'" + err.string() + "'";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(err);
  r.err.assign(std::istreambuf_iterator<char>(in), {});
  fs::remove(err);
  return r;
}

#define REQUIRE_XNAI_BIN() \
  if (!std::getenv("XNAI_BIN")) GTEST_SKIP() << "XNAI_BIN not set (run through ctest)"

void write_file(const fs::path& p, const std::string& bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << bytes;
}

// Single-quoted for the shell (appended piece by piece: GCC 12 warns falsely on "'" + string&&).
std::string q(const fs::path& p) {
  std::string s = "'";
  s += p.string();
  s += "'";
  return s;
}

// Checks the JSON object of a hit or citation against the document's own text.
void expect_exact(const nlohmann::json& h) {
  for (const char* k :
       {"chunk_id", "source_path", "title", "page_first", "page_last", "begin", "end", "score", "text"})
    ASSERT_TRUE(h.contains(k)) << k << " missing in " << h.dump();
  const auto doc = xnai::rag::load_document(h.at("source_path").get<std::string>());
  const int64_t b = h.at("begin"), e = h.at("end");
  ASSERT_LE(e, static_cast<int64_t>(doc.text.size()));
  EXPECT_EQ(doc.text.substr(static_cast<size_t>(b), static_cast<size_t>(e - b)),
            h.at("text").get<std::string>());
  if (!doc.pages.empty()) {
    int page = 0;
    for (const auto& p : doc.pages)
      if (p.begin <= b && b < p.end) page = p.page;
    EXPECT_EQ(h.at("page_first").get<int>(), page) << h.dump();
  } else {
    EXPECT_TRUE(h.at("page_first").is_null());
  }
}

struct RagCli : ::testing::Test {
  void SetUp() override {
    root = fs::temp_directory_path() / ("xnai_rag_cli_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root);
    docs = root / "docs";
    data = root / "data";
    write_file(docs / "house.txt", "Notes about the house.\n\nThe spare key is under the blue flower pot.\n");
    write_file(docs / "coffee.md",
               "# Espresso\n\nUse 18 grams of coffee for a double shot.\n\n## Milk\n\n"
               "Steam the milk to about 60 degrees.\n");
    write_file(docs / "broken.pdf", "%PDF-1.4\nnot a real pdf\n%%EOF\n");
    write_file(docs / "volcano.txt.src",
               "Volcano guide for the northern range.\fMount Kessel last erupted in 1911. "
               "Its crater lake is warm.\fMount Arrow is dormant.\n");
    have_pdf = std::system(("enscript -q -B -p - " + q(docs / "volcano.txt.src") +
                            " 2>/dev/null | ps2pdf - " + q(docs / "volcano.pdf") + " 2>/dev/null")
                               .c_str()) == 0 &&
               fs::exists(docs / "volcano.pdf");
    fs::remove(docs / "volcano.txt.src");
  }
  void TearDown() override { fs::remove_all(root); }
  std::string data_opt() const { return "--data " + q(data); }
  fs::path root, docs, data;
  bool have_pdf = false;
};

TEST_F(RagCli, IngestSearchAskEndToEnd) {
  REQUIRE_XNAI_BIN();
  ASSERT_TRUE(have_pdf) << "enscript/ps2pdf could not make the test PDF";

  // ingest: summary with the failure named, exit 0 (the rest went in).
  auto r = run_xnai("ingest " + q(docs) + " " + data_opt());
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("added 3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("failed 1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("broken.pdf"), std::string::npos) << r.out;

  // again: everything skipped (JSON summary).
  r = run_xnai("ingest " + q(docs) + " " + data_opt() + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("skipped").size(), 3u);
  EXPECT_EQ(j.at("added").size(), 0u);
  ASSERT_EQ(j.at("failed").size(), 1u);
  EXPECT_NE(j["failed"][0].at("path").get<std::string>().find("broken.pdf"), std::string::npos);
  EXPECT_FALSE(j["failed"][0].at("reason").get<std::string>().empty());

  // search --json: ranked hits whose spans are the documents' exact text.
  r = run_xnai("search 'spare key flower pot' -k 3 --json " + data_opt());
  ASSERT_EQ(r.code, 0) << r.err;
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("mode"), "bm25");
  ASSERT_FALSE(j.at("hits").empty());
  EXPECT_LE(j["hits"].size(), 3u);
  EXPECT_NE(j["hits"][0].at("source_path").get<std::string>().find("house.txt"), std::string::npos);
  for (const auto& h : j["hits"]) expect_exact(h);

  // Filters narrow the results.
  r = run_xnai("search 'mount volcano coffee key' --filter 'type = pdf' --json " + data_opt());
  ASSERT_EQ(r.code, 0) << r.err;
  j = nlohmann::json::parse(r.out);
  ASSERT_FALSE(j.at("hits").empty());
  for (const auto& h : j["hits"]) EXPECT_EQ(h.at("type"), "pdf");

  // ask --json: an extractive answer whose citations are exact, with the right page.
  r = run_xnai("ask 'When did Mount Kessel last erupt?' --json " + data_opt());
  ASSERT_EQ(r.code, 0) << r.err;
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("answer_mode"), "extractive");
  EXPECT_EQ(j.at("retrieval_mode"), "bm25");
  ASSERT_FALSE(j.at("citations").empty());
  EXPECT_EQ(j["citations"][0].at("text"), "Mount Kessel last erupted in 1911.");
  EXPECT_EQ(j["citations"][0].at("page_first"), 2);
  EXPECT_NE(j.at("answer").get<std::string>().find("Mount Kessel last erupted in 1911. [1]"),
            std::string::npos);
  for (const auto& c : j["citations"]) expect_exact(c);
  for (const auto& s : j.at("sources")) expect_exact(s);

  // ask, human form: the answer, then the numbered sources.
  r = run_xnai("ask 'how many grams of coffee for a double shot' " + data_opt());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("Use 18 grams of coffee for a double shot. [1]", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("Sources:\n[1] "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("coffee.md"), std::string::npos);

  // search, human form: score, file, span, snippet.
  r = run_xnai("search 'milk degrees' " + data_opt());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find(" 1. "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("coffee.md"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Steam the milk"), std::string::npos) << r.out;
}

TEST_F(RagCli, DataDirFromEnvironmentAndEmptyStore) {
  REQUIRE_XNAI_BIN();
  const std::string env = "XNAI_DATA=" + q(data);
  auto r = run_xnai("search 'anything' --json", env);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(nlohmann::json::parse(r.out).at("hits").empty());
  r = run_xnai("ask 'anything'", env);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("empty"), std::string::npos) << r.out;
  r = run_xnai("ingest " + q(docs / "house.txt"), env);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::exists(data));
  r = run_xnai("search 'spare key' --json", env);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out).at("hits").size(), 1u);
}

TEST_F(RagCli, BadInputIsAClearError) {
  REQUIRE_XNAI_BIN();
  auto r = run_xnai("search 'x' --filter 'type = = pdf' " + data_opt());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("filter"), std::string::npos) << r.err;
  r = run_xnai("search 'x' -k 0 " + data_opt());
  EXPECT_EQ(r.code, 2);
  r = run_xnai("ingest " + data_opt());
  EXPECT_EQ(r.code, 2);
  // Every file failing fails the command.
  r = run_xnai("ingest " + q(docs / "broken.pdf") + " " + data_opt());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("broken.pdf"), std::string::npos) << r.out;
}

}  // namespace
