// `xnai ingest PATH…`: adds files and folders to the document store (progress bar on stderr,
// then a summary: added / updated / skipped / failed with each failure's file and reason).
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "cli/progress_bar.h"
#include "cli/rag_options.h"
#include "core/error.h"
#include "rag/ingest.h"

namespace xnai::cli {
namespace {

std::vector<OptionSpec> ingest_specs() {
  std::vector<OptionSpec> s = rag_store_option_specs();
  s.push_back({"--prune", "", false, "also delete stored documents under PATH… whose files are gone", ""});
  s.push_back({"--max-tokens", "", true, "largest chunk in tokens (default: the chunker's)", ""});
  s.push_back({"--overlap", "", true, "tokens shared by neighbouring chunks (default: the chunker's)", ""});
  s.push_back({"--quiet", "-q", false, "no progress bar", ""});
  s.push_back(
      {"--threads", "-t", true, "CPU threads of the embedding model (default: physical cores)", "N_THREADS"});
  return s;
}

// The loader's reasons begin with the path as it was given ("docs/a.pdf: not a valid PDF");
// the summary already shows the absolute path, so that prefix goes.
std::string reason_without_path(const rag::IngestFailure& f) {
  const std::string marker = short_path(f.path) + ": ";
  const size_t at = f.reason.find(marker);
  if (at != std::string::npos && at + marker.size() < f.reason.size())
    return f.reason.substr(at + marker.size());
  return f.reason;
}

}  // namespace

int run_ingest(const std::vector<std::string>& argv) {
  Args args("ingest", ingest_specs());
  args.parse(argv);
  if (args.has("--help")) {
    std::printf(
        "usage: xnai ingest PATH… [--data DIR] [--embed-model M] [--prune] [--json]\n"
        "Adds .txt, .md, .html, .pdf and .docx files (folders recursively) to the store.\n%s",
        args.usage().c_str());
    return 0;
  }
  if (args.positionals().empty())
    throw Error(ErrorKind::InvalidArgument, "ingest: give at least one file or folder");
  const bool json = args.has("--json");

  auto store = open_rag_store(args);
  auto embedder = load_embedder(args);

  rag::IngestOptions opts;
  opts.max_chunk_tokens = args.get_int("--max-tokens", 0);
  opts.overlap_tokens = args.get_int("--overlap", -1);
  opts.prune = args.has("--prune");
  // The bar is made once the number of files is known: on a terminal always, in logs only
  // for long runs (a line per quarter).
  const bool show = !args.has("--quiet") && !json;
  std::unique_ptr<ProgressBar> bar;
  opts.progress = [&](const rag::IngestProgress& p) {
    if (!bar)
      bar = std::make_unique<ProgressBar>("ingesting " + std::to_string(p.files_total) + " files",
                                          show && (::isatty(STDERR_FILENO) || p.files_total >= 200));
    if (p.files_total > 0) bar->update(static_cast<float>(p.files_done) / static_cast<float>(p.files_total));
  };
  const rag::IngestSummary s = rag::ingest(*store, embedder.get(), args.positionals(), opts);
  if (bar) bar->finish();

  const double chunks_per_s = s.seconds > 0 ? static_cast<double>(s.chunks_added) / s.seconds : 0;
  const size_t n_files = s.added.size() + s.updated.size() + s.skipped.size() + s.failed.size();
  if (json) {
    nlohmann::ordered_json j;
    j["data_dir"] = rag_data_dir(args);
    j["embedding_model"] =
        embedder ? nlohmann::ordered_json(embedder->model_name()) : nlohmann::ordered_json(nullptr);
    j["added"] = s.added;
    j["updated"] = s.updated;
    j["skipped"] = s.skipped;
    j["failed"] = nlohmann::ordered_json::array();
    for (const auto& f : s.failed) j["failed"].push_back({{"path", f.path}, {"reason", f.reason}});
    j["pruned"] = s.pruned;
    j["chunks"] = s.chunks_added;
    j["seconds"] = s.seconds;
    j["chunks_per_second"] = chunks_per_s;
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    if (n_files == 0) {
      std::printf("no supported documents (.txt .md .html .pdf .docx) found in the given paths\n");
    } else {
      std::printf("added %zu, updated %zu, skipped %zu (unchanged), failed %zu", s.added.size(),
                  s.updated.size(), s.skipped.size(), s.failed.size());
      if (opts.prune) std::printf(", pruned %zu", s.pruned.size());
      std::printf(" — %lld chunks in %.2f s", static_cast<long long>(s.chunks_added), s.seconds);
      if (s.chunks_added > 0) std::printf(" (%.0f chunks/s)", chunks_per_s);
      std::printf("\n");
      for (const auto& f : s.failed)
        std::printf("  failed: %s: %s\n", f.path.c_str(), reason_without_path(f).c_str());
      for (const auto& p : s.pruned) std::printf("  pruned: %s\n", p.c_str());
      if (!embedder)
        std::printf("(no embedding model: search uses BM25; set --embed-model for hybrid search)\n");
    }
  }
  // Partial failures are reported above and do not fail the command; only a run in which
  // every file failed does.
  return !s.failed.empty() && s.failed.size() == n_files ? 1 : 0;
}

}  // namespace xnai::cli
