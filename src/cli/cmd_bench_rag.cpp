// `xnai bench rag`: ingest throughput (chunks/s; without an embedding model, and with one
// when --embed-model is given), then search latency p50/p99 for vector, BM25 and hybrid
// retrieval and vector recall@k against exact search, at --chunks synthetic 384-d chunks
// (and at 1,000,000 with --large). docs/rag.md lists the goals and how to read the numbers.
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "cli/rag_options.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "rag/rag_bench.h"
#include "rag/store/embedded_store.h"

namespace xnai::cli {
namespace {

namespace fs = std::filesystem;

std::vector<OptionSpec> bench_rag_specs() {
  return {
      {"--chunks", "", true, "chunks in the search benchmark (default 100000)", ""},
      {"--large", "", false, "also run the search benchmark at 1000000 chunks", ""},
      {"--dim", "", true, "vector dimension (default 384)", ""},
      {"--queries", "", true, "queries per search kind (default 500)", ""},
      {"--recall-queries", "", true, "queries also run exactly to measure recall (default 200)", ""},
      {"--hits", "-k", true, "results per query (default 10)", ""},
      {"--clusters", "", true, "vector clusters (default 1000; 0 = uniformly random vectors)", ""},
      {"--files", "", true, "files in the ingest benchmark (default 200)", ""},
      {"--embed-model", "", true, "also measure ingest with this embedding model", "XNAI_EMBED_MODEL"},
      {"--threads", "-t", true, "CPU threads of the embedding model", "N_THREADS"},
      {"--work-dir", "", true, "scratch folder (default: a new folder under the temp dir, removed after)", ""},
      {"--skip-ingest", "", false, "only the search benchmark", ""},
      {"--skip-search", "", false, "only the ingest benchmark", ""},
      {"--json", "", false, "machine-readable output", ""},
  };
}

nlohmann::ordered_json latency_json(const rag::LatencyStats& s) {
  return {{"queries", s.n}, {"p50_ms", s.p50_ms}, {"p99_ms", s.p99_ms}, {"mean_ms", s.mean_ms}, {"max_ms", s.max_ms}};
}

nlohmann::ordered_json ingest_json(const rag::IngestBenchResult& r, const std::string& model) {
  return {{"embedding_model", model.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(model)},
          {"files", r.files},
          {"bytes", r.bytes},
          {"chunks", r.chunks},
          {"seconds", r.seconds},
          {"embed_seconds", r.embed_seconds},
          {"chunks_per_second", r.chunks_per_second()}};
}

void print_ingest(const rag::IngestBenchResult& r, const std::string& model) {
  std::printf("ingest (%s): %d files, %.1f MB, %lld chunks in %.2f s — %.0f chunks/s, %.1f MB/s", model.empty() ? "no embedding model" : model.c_str(),
              r.files, static_cast<double>(r.bytes) / 1e6, static_cast<long long>(r.chunks), r.seconds,
              r.chunks_per_second(), r.seconds > 0 ? static_cast<double>(r.bytes) / 1e6 / r.seconds : 0.0);
  if (!model.empty()) std::printf(" (embedding %.0f%% of the time)", r.seconds > 0 ? 100 * r.embed_seconds / r.seconds : 0.0);
  std::printf("\n");
}

void print_search(const rag::SearchBenchResult& r, int k, const std::string& kernel) {
  std::printf("search @ %lld chunks (%d-d vectors, index kernel %s; store filled in %.1f s), top %d:\n",
              static_cast<long long>(r.chunks), r.dim, kernel.c_str(), r.build_seconds, k);
  auto line = [](const char* name, const rag::LatencyStats& s) {
    std::printf("  %-7s p50 %7.3f ms   p99 %7.3f ms   mean %7.3f ms   (%d queries)\n", name, s.p50_ms, s.p99_ms,
                s.mean_ms, s.n);
  };
  line("vector", r.vector);
  line("bm25", r.bm25);
  line("hybrid", r.hybrid);
  std::printf("  recall@%d of the vector index vs exact search: %.4f (exact scan: %.1f ms/query)\n", k, r.recall_at_k,
              r.exact_ms);
}

}  // namespace

int run_bench_rag(const std::vector<std::string>& argv) {
  Args args("bench rag", bench_rag_specs());
  args.parse(argv);
  if (args.has("--help")) {
    std::printf("usage: xnai bench rag [--chunks N] [--large] [--embed-model M] [--json]\n%s", args.usage().c_str());
    return 0;
  }
  const bool json = args.has("--json");
  rag::SearchBenchOptions so;
  so.chunks = args.get_int("--chunks", 100000);
  so.dim = args.get_int("--dim", 384);
  so.queries = args.get_int("--queries", 500);
  so.recall_queries = args.get_int("--recall-queries", 200);
  so.k = args.get_int("--hits", 10);
  so.clusters = args.get_int("--clusters", 1000);
  if (so.chunks < 1 || so.dim < 1 || so.queries < 1 || so.k < 1 || so.clusters < 0 || so.recall_queries < 0)
    throw Error(ErrorKind::InvalidArgument, "bench rag: --chunks, --dim, --queries and -k must be >= 1");
  if (!json) so.progress = [](const std::string& s) { std::fprintf(stderr, "  %s\n", s.c_str()); };

  const bool own_dir = !args.has("--work-dir");
  const fs::path work = own_dir ? fs::temp_directory_path() / ("xnai-bench-rag-" + std::to_string(::getpid()))
                                : fs::path(*args.get("--work-dir"));
  fs::create_directories(work);
  struct Cleanup {
    fs::path dir;
    bool on;
    ~Cleanup() {
      std::error_code ec;
      if (on) fs::remove_all(dir, ec);
    }
  } cleanup{work, own_dir};

  nlohmann::ordered_json out;
  out["threads"] = default_thread_count();
  if (!json) std::printf("xnai bench rag — %d threads, work dir %s\n", default_thread_count(), work.string().c_str());

  if (!args.has("--skip-ingest")) {
    rag::IngestBenchOptions io;
    io.work_dir = work.string();
    io.files = args.get_int("--files", 200);
    const auto plain = rag::bench_ingest(io);
    out["ingest"] = nlohmann::ordered_json::array();
    out["ingest"].push_back(ingest_json(plain, ""));
    if (!json) print_ingest(plain, "");
    if (auto embedder = load_embedder(args)) {
      io.embedder = embedder.get();
      const auto with = rag::bench_ingest(io);
      out["ingest"].push_back(ingest_json(with, embedder->model_name()));
      if (!json) print_ingest(with, embedder->model_name());
    }
  }

  if (!args.has("--skip-search")) {
    std::vector<int64_t> sizes = {so.chunks};
    if (args.has("--large") && so.chunks != 1000000) sizes.push_back(1000000);
    out["search"] = nlohmann::ordered_json::array();
    for (int64_t n : sizes) {
      const fs::path dir = work / ("search-" + std::to_string(n));
      fs::remove_all(dir);
      std::string kernel;
      rag::SearchBenchResult r;
      {
        rag::EmbeddedStore store({dir.string()});
        kernel = store.index_status().kernel;
        so.chunks = n;
        r = rag::bench_search(store, so);
      }
      fs::remove_all(dir);
      out["search"].push_back({{"chunks", r.chunks},
                               {"dim", r.dim},
                               {"k", so.k},
                               {"clusters", so.clusters},
                               {"kernel", kernel},
                               {"build_seconds", r.build_seconds},
                               {"vector", latency_json(r.vector)},
                               {"bm25", latency_json(r.bm25)},
                               {"hybrid", latency_json(r.hybrid)},
                               {"recall_at_k", r.recall_at_k},
                               {"exact_ms", r.exact_ms}});
      if (!json) print_search(r, so.k, kernel);
    }
  }
  if (json) std::printf("%s\n", out.dump(2).c_str());
  return 0;
}

}  // namespace xnai::cli
