// Crash safety of the embedded store, for real: a child process ingests, replaces and
// deletes documents (checkpointing the vector index now and then) and is killed with
// SIGKILL at a random moment, several rounds in a row on the same directory. After every
// kill the reopened store must pass verify() (SQLite and FTS5 integrity, the vector index
// equal to the BLOBs), every document must be one complete version of itself or absent,
// and no search may return a chunk of a missing document.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "rag/store/embedded_store.h"
#include "store_suite.h"

namespace xnai::rag::test {
namespace {

namespace fs = std::filesystem;

constexpr int kDim = 16;
constexpr int kDocIds = 150;

EmbeddedStoreOptions crash_options(const fs::path& dir) {
  EmbeddedStoreOptions o;
  o.data_dir = dir.string();
  o.exact_search_max = 0;  // searches walk the graph
  o.graph_cost_per_ef = 0;
  o.hnsw_m = 8;
  o.index_threads = 2;
  o.index_checkpoint_changes = 300;  // checkpoints (and log pruning) happen mid-run
  return o;
}

// Version v of document i: its chunk count, ids, texts and vectors all derive from (i, v),
// so the parent can check a stored document is exactly one version, complete.
CorpusDoc version(int i, int v) {
  const int n = (i + v) % 11 == 0 ? 40 : 1 + (i + v) % 6;  // some big documents: long transactions
  CorpusDoc cd = make_doc(i, kDim, n, uint32_t(v) * 131u + 5u);
  cd.doc.content_hash = "v" + std::to_string(v);
  for (auto& c : cd.chunks) {
    c.id += "-v" + std::to_string(v);
    c.text += " ver" + std::to_string(v);
  }
  cd.doc.text.clear();
  for (auto& c : cd.chunks) {  // keep offsets exact after the text change
    c.begin = int64_t(cd.doc.text.size());
    cd.doc.text += c.text;
    c.end = int64_t(cd.doc.text.size());
    cd.doc.text += "\n\n";
  }
  return cd;
}

// The child: works until killed. Writes one byte to `progress` per committed operation.
[[noreturn]] void child_main(const fs::path& dir, int round, int progress) {
  try {
    EmbeddedStore s(crash_options(dir));
    std::mt19937 rng(uint32_t(round) * 7919u + 1u);
    for (int step = 0;; ++step) {
      const int i = int(rng() % kDocIds);
      const int action = int(rng() % 10);
      if (action < 7) {
        const CorpusDoc cd = version(i, round * 100000 + step);
        s.upsert_document(cd.doc, cd.chunks, cd.vecs, "crash-model");
      } else if (action < 9) {
        s.delete_document(make_doc(i, 0, 0).doc.id);
      } else {
        (void)s.search_vector(random_unit(rng, kDim), 5);  // syncs the index in this process
      }
      if (step % 37 == 36) s.checkpoint();
      const char b = 1;
      if (::write(progress, &b, 1) != 1) _exit(3);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "crash-test child failed: %s\n", e.what());
    _exit(2);
  }
}

void check_store(const fs::path& dir) {
  EmbeddedStore s(crash_options(dir));
  const auto problems = s.verify();
  for (const auto& p : problems) ADD_FAILURE() << p;
  std::set<std::string> present_docs, present_chunks;
  for (const auto& info : s.list_documents()) {
    present_docs.insert(info.id);
    const int i = std::stoi(info.id.substr(3));
    ASSERT_EQ(info.content_hash.substr(0, 1), "v");
    const CorpusDoc want = version(i, std::stoi(info.content_hash.substr(1)));
    ASSERT_EQ(info.n_chunks, int(want.chunks.size())) << info.id << " is incomplete";
    for (size_t j = 0; j < want.chunks.size(); ++j) {
      const auto c = s.get_chunk(want.chunks[j].id);
      ASSERT_TRUE(c) << want.chunks[j].id << " missing from " << info.id;
      EXPECT_EQ(c->text, want.chunks[j].text);
      present_chunks.insert(c->id);
      // Its vector is there and is this version's.
      const auto hits = s.search_vector(want.vecs[j], 10);
      ASSERT_FALSE(hits.empty());
      EXPECT_NEAR(hits[0].score, 1.0, 1e-4) << want.chunks[j].id;
      EXPECT_TRUE(std::any_of(hits.begin(), hits.end(), [&](const Hit& h) {
        return h.chunk.id == want.chunks[j].id;
      })) << want.chunks[j].id;
    }
  }
  const auto st = s.stats();
  EXPECT_EQ(st.n_chunks, int64_t(present_chunks.size()));
  EXPECT_EQ(st.n_vectors, int64_t(present_chunks.size()));
  // No search returns an orphan.
  for (const auto& h : s.search_bm25("common", 100000))
    EXPECT_TRUE(present_chunks.count(h.chunk.id)) << h.chunk.id;
  std::mt19937 rng(17);
  for (int t = 0; t < 20; ++t)
    for (const auto& h : s.search_vector(random_unit(rng, kDim), 50))
      EXPECT_TRUE(present_chunks.count(h.chunk.id)) << h.chunk.id;
}

TEST(StoreCrash, SigkillDuringIngestLeavesAConsistentStore) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("xnai_crash_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  std::mt19937 rng(uint32_t(std::chrono::steady_clock::now().time_since_epoch().count()));
  int64_t total_ops = 0;
  constexpr int kRounds = 8;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      child_main(dir, round, fds[1]);
    }
    ::close(fds[1]);
    // Let it work for a random while (the first round needs time to create the store).
    std::this_thread::sleep_for(std::chrono::milliseconds((round == 0 ? 400 : 80) + rng() % 600));
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the child ended by itself (status " << status << ")";
    char buf[4096];
    int64_t ops = 0;
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) ops += n;
    ::close(fds[0]);
    total_ops += ops;
    check_store(dir);
    if (HasFatalFailure()) break;
    // Any temporary index file left by the killed child is gone after the reopen.
    for (const auto& e : fs::directory_iterator(dir))
      EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << e.path();
  }
  EXPECT_GT(total_ops, kRounds * 5) << "the children did too little work for the test to mean anything";
  std::printf("[ crash   ] %d rounds, %lld committed operations before the kills\n", kRounds,
              static_cast<long long>(total_ops));
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace xnai::rag::test
