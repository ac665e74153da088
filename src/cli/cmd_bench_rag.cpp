// `xnai bench rag`: ingest throughput of the whole pipeline (chunks/s; without an embedding
// model, and with one when --embed-model is given); then, at --chunks synthetic chunks with
// 384-d vectors (and at 1,000,000 with --large), the store benchmark (rag/store_bench.h:
// vector, BM25 and hybrid latency p50/p99, recall@k against exact search, build and reopen
// times) followed by the retriever's own latency as `xnai search`/`ask` run it. docs/rag.md
// says how to read the numbers.
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "cli/rag_options.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "rag/rag_bench.h"
#include "rag/store_bench.h"

namespace xnai::cli {
namespace {

namespace fs = std::filesystem;

std::vector<OptionSpec> bench_rag_specs() {
  return {
      {"--chunks", "", true, "chunks in the search benchmark (default 100000)", ""},
      {"--large", "", false, "also run the search benchmark at 1000000 chunks", ""},
      {"--dim", "", true, "vector dimension (default 384)", ""},
      {"--queries", "", true, "timed queries per search kind (default 1000)", ""},
      {"--recall-queries", "", true, "queries also run exactly to measure recall (default 200)", ""},
      {"--hits", "-k", true, "results per query (default 10)", ""},
      {"--uniform", "", false, "uniformly random vectors (the worst case for the ANN index)", ""},
      {"--files", "", true, "files in the ingest benchmark (default 200)", ""},
      {"--embed-model", "", true, "also measure ingest with this embedding model", "XNAI_EMBED_MODEL"},
      {"--threads", "-t", true, "CPU threads of the embedding model", "N_THREADS"},
      {"--work-dir", "", true, "scratch folder (default: a new folder under the temp dir, removed after)",
       ""},
      {"--keep-stores", "", false,
       "keep the search benchmark's filled stores in --work-dir and reuse them in later runs (searches only)",
       ""},
      {"--skip-ingest", "", false, "only the search benchmark", ""},
      {"--skip-search", "", false, "only the ingest benchmark", ""},
      {"--json", "", false, "machine-readable output", ""},
  };
}

nlohmann::ordered_json latency_json(double p50, double p99, double mean) {
  return {{"p50_ms", p50}, {"p99_ms", p99}, {"mean_ms", mean}};
}
nlohmann::ordered_json latency_json(const rag::SearchLatency& s) {
  return latency_json(s.p50_ms, s.p99_ms, s.mean_ms);
}
nlohmann::ordered_json latency_json(const rag::LatencyStats& s) {
  return latency_json(s.p50_ms, s.p99_ms, s.mean_ms);
}

nlohmann::ordered_json ingest_json(const rag::IngestBenchResult& r, const std::string& model) {
  return {
      {"embedding_model", model.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(model)},
      {"files", r.files},
      {"bytes", r.bytes},
      {"chunks", r.chunks},
      {"seconds", r.seconds},
      {"embed_seconds", r.embed_seconds},
      {"chunks_per_second", r.chunks_per_second()}};
}

nlohmann::ordered_json store_json(const rag::StoreBenchResult& r) {
  return {{"chunks", r.chunks},
          {"documents", r.documents},
          {"dim", r.dim},
          {"kernel", r.kernel},
          {"index_threads", r.index_threads},
          {"add_seconds", r.add_seconds},
          {"add_chunks_per_second", r.add_chunks_per_second()},
          {"index_build_seconds", r.index_build_seconds},
          {"checkpoint_seconds", r.checkpoint_seconds},
          {"reopen_seconds", r.reopen_seconds},
          {"reused_store", r.reused},
          {"db_bytes", r.db_bytes},
          {"index_file_bytes", r.index_file_bytes},
          {"index_memory_bytes", r.index_memory_bytes},
          {"peak_rss_bytes", r.peak_rss_bytes},
          {"vector", latency_json(r.vector)},
          {"vector_filtered", latency_json(r.vector_filtered)},
          {"vector_selective", latency_json(r.vector_selective)},
          {"bm25", latency_json(r.bm25)},
          {"hybrid", latency_json(r.hybrid)},
          {"recall", r.recall},
          {"recall_filtered", r.recall_filtered},
          {"recall_selective", r.recall_selective},
          {"exact_ms", r.exact_ms},
          {"bm25_mean_matches", r.bm25_mean_matches}};
}

void print_ingest(const rag::IngestBenchResult& r, const std::string& model) {
  std::printf("ingest (%s): %d files, %.1f MB, %lld chunks in %.2f s — %.0f chunks/s, %.1f MB/s",
              model.empty() ? "no embedding model" : model.c_str(), r.files,
              static_cast<double>(r.bytes) / 1e6, static_cast<long long>(r.chunks), r.seconds,
              r.chunks_per_second(), r.seconds > 0 ? static_cast<double>(r.bytes) / 1e6 / r.seconds : 0.0);
  if (!model.empty())
    std::printf(" (embedding: %.0f%% of the time)", r.seconds > 0 ? 100 * r.embed_seconds / r.seconds : 0.0);
  std::printf("\n");
  std::fflush(stdout);
}

}  // namespace

int run_bench_rag(const std::vector<std::string>& argv) {
  Args args("bench rag", bench_rag_specs());
  args.parse(argv);
  if (args.has("--help")) {
    std::printf("usage: xnai bench rag [--chunks N] [--large] [--embed-model M] [--json]\n%s",
                args.usage().c_str());
    return 0;
  }
  const bool json = args.has("--json");
  rag::StoreBenchOptions so;
  so.chunks = args.get_int("--chunks", 100000);
  so.dim = args.get_int("--dim", 384);
  so.queries = args.get_int("--queries", 1000);
  so.recall_queries = args.get_int("--recall-queries", 200);
  so.k = args.get_int("--hits", 10);
  if (args.has("--uniform")) so.latent_dim = 0;
  if (so.chunks < 1 || so.dim < 1 || so.queries < 1 || so.k < 1 || so.recall_queries < 0)
    throw Error(ErrorKind::InvalidArgument, "bench rag: --chunks, --dim, --queries and -k must be >= 1");
  if (!json) so.progress = [](const std::string& s) { std::fprintf(stderr, "  %s\n", s.c_str()); };

  const bool own_dir = !args.has("--work-dir");
  so.reuse_store = args.has("--keep-stores");
  if (so.reuse_store && own_dir)
    throw Error(ErrorKind::InvalidArgument, "bench rag: --keep-stores needs --work-dir");
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
  if (!json) {
    std::printf("xnai bench rag — %d threads, work dir %s\n", default_thread_count(), work.string().c_str());
    std::fflush(stdout);  // before the progress lines on stderr
  }

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
      so.chunks = n;
      so.data_dir = (work / ("search-" + std::to_string(n))).string();
      if (!so.reuse_store) fs::remove_all(so.data_dir);
      const rag::StoreBenchResult sr = rag::run_store_bench(so);
      if (!json) {
        std::printf("%s", rag::format_store_bench(sr).c_str());
        std::fflush(stdout);
      }
      // The retriever on the same store, with fresh queries of the same process.
      rag::RetrieverBenchResult rr;
      {
        auto store = rag::open_embedded_store({so.data_dir});
        rr = rag::bench_retriever(*store, store->stats().embedding_model,
                                  rag::synthetic_query_vectors(so, so.queries), so.dim, so.k);
      }
      if (!so.reuse_store) fs::remove_all(so.data_dir);
      if (!json) {
        std::printf("  retriever, as `xnai search`/`ask` run it (top %d):\n", so.k);
        std::printf("    hybrid, first pass (cold caches) p50 %7.3f ms  p99 %7.3f ms  mean %7.3f ms\n",
                    rr.hybrid_first.p50_ms, rr.hybrid_first.p99_ms, rr.hybrid_first.mean_ms);
        std::printf("    hybrid        p50 %7.3f ms  p99 %7.3f ms  mean %7.3f ms\n", rr.hybrid.p50_ms,
                    rr.hybrid.p99_ms, rr.hybrid.mean_ms);
        std::printf("    bm25 only     p50 %7.3f ms  p99 %7.3f ms  mean %7.3f ms\n", rr.bm25.p50_ms,
                    rr.bm25.p99_ms, rr.bm25.mean_ms);
        std::fflush(stdout);
      }
      nlohmann::ordered_json j = store_json(sr);
      j["k"] = so.k;
      j["queries"] = so.queries;
      j["uniform_vectors"] = so.latent_dim == 0;
      j["retriever"] = {{"hybrid_first_pass", latency_json(rr.hybrid_first)},
                        {"hybrid", latency_json(rr.hybrid)},
                        {"bm25", latency_json(rr.bm25)}};
      out["search"].push_back(j);
    }
  }
  if (json) std::printf("%s\n", out.dump(2).c_str());
  return 0;
}

}  // namespace xnai::cli
