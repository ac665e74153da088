// `xnai pull SOURCE` and `xnai pull --recommended`: fetch model files into the cache with a
// progress bar on stderr and one result line per file on stdout. A single pull makes the
// file the default of its kind when the config has none yet; the recommended set always
// becomes the default (see hub::pull_set).
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "cli/args.h"
#include "cli/download_progress.h"
#include "cli/model_labels.h"
#include "core/error.h"
#include "hub/hub.h"

namespace xnai::cli {
namespace {

std::string describe(const hub::PullResult& r) {
  const hub::CachedModel& m = r.model;
  std::string what = hub::format_bytes(m.size) + ", " + hub::kind_name(m.kind);
  if (!m.architecture.empty()) what += " " + m.architecture;
  if (const std::string q = quantization_label(m); !q.empty()) what += " " + q;
  std::string check;
  if (m.verified_by == "sha256 given")
    check = "sha256 verified";
  else if (m.verified_by == "Hub ETag")
    check = "sha256 verified against the Hub's ETag";
  else
    check = "no published checksum; sha256 " + m.sha256.substr(0, 12) + "… recorded";
  std::string line = m.path.string() + "  (" + what + "; " + check;
  if (!r.downloaded) line += "; already in the cache";
  if (r.resumed_from > 0) line += "; resumed from " + hub::format_bytes(r.resumed_from);
  return line + ")";
}

// Makes a freshly pulled file the default of its kind when none is set.
void adopt_as_default(const hub::CachedModel& m, const std::filesystem::path& config) {
  hub::Defaults d = hub::load_defaults(config);
  std::string* slot = nullptr;
  std::string value = m.path.string();
  if (m.kind == hub::ModelKind::Llm) slot = &d.llm;
  if (m.kind == hub::ModelKind::Embedding) slot = &d.embedding;
  if (m.kind == hub::ModelKind::Voice) slot = &d.voice;
  if (m.kind == hub::ModelKind::Tts) slot = &d.kokoro_dir, value = m.path.parent_path().string();
  if (!slot || !slot->empty()) return;
  *slot = value;
  hub::save_defaults(config, d);
  std::printf("default %s set in %s\n", hub::kind_name(m.kind), config.string().c_str());
}

}  // namespace

int run_pull(const std::vector<std::string>& argv) {
  Args args(
      "pull",
      {
          {"--recommended", "", false, "the tested default set (LLM, embedding, Kokoro + voices)", ""},
          {"--lang", "", true, "language of the recommended set (default en)", ""},
          {"--sha256", "", true, "expected sha256 of the file (64 hex digits)", ""},
          {"--offline", "", false, "never touch the network: succeed only from a verified cached copy", ""},
          {"--force", "", false, "download again even when a verified copy is cached", ""},
          {"--verify", "", false, "re-hash cached files instead of trusting size and mtime", ""},
          {"--quiet", "-q", false, "no progress bar", ""},
      });
  args.parse(argv);
  if (args.has("--help")) {
    std::printf(
        "usage: xnai pull SOURCE [--sha256 HEX] [--offline] [--force] [--verify]\n"
        "       xnai pull --recommended [--lang en] [--offline] [--verify]\n"
        "SOURCE: hf://org/repo/path/in/repo[@revision], a Hub file page, or an https:// URL\n"
        "environment: XNAI_MODELS (cache), XNAI_CONFIG (defaults), HF_TOKEN, HF_ENDPOINT\n%s",
        args.usage().c_str());
    return 0;
  }
  const bool recommended = args.has("--recommended");
  if (recommended && !args.positionals().empty())
    throw Error(ErrorKind::InvalidArgument, "pull: --recommended takes no SOURCE");
  if (!recommended && args.positionals().size() != 1)
    throw Error(ErrorKind::InvalidArgument,
                "pull: expected one SOURCE (hf://org/repo/file or an https URL), or --recommended");
  if (recommended && args.has("--sha256"))
    throw Error(ErrorKind::InvalidArgument, "pull: --sha256 applies to one SOURCE, not to --recommended");
  if (!recommended && args.has("--lang"))
    throw Error(ErrorKind::InvalidArgument, "pull: --lang goes with --recommended");

  const hub::Cache cache = hub::Cache::open_default();
  const std::filesystem::path config = hub::config_path();
  const bool terminal = ::isatty(STDERR_FILENO);
  const bool quiet = args.has("--quiet");

  hub::PullOptions opts;
  opts.offline = args.has("--offline");
  opts.force = args.has("--force");
  opts.reverify = args.has("--verify");
  std::unique_ptr<DownloadProgressBar> bar;
  opts.on_progress = [&bar](const hub::DownloadProgress& p) {
    if (bar) bar->update(p);
  };

  if (!recommended) {
    const hub::Source source = hub::parse_source(args.positionals()[0]);
    opts.expected_sha256 = args.get_or("--sha256", "");
    bar = std::make_unique<DownloadProgressBar>(source.file_name(), terminal, !quiet);
    const hub::PullResult r = hub::pull(source, cache, opts);
    bar.reset();
    std::printf("%s\n", describe(r).c_str());
    adopt_as_default(r.model, config);
    return 0;
  }

  const auto set = hub::recommended_set(args.get_or("--lang", "en"));
  const auto results = hub::pull_set(set, cache, config, opts, [&](size_t i) {
    std::string label = std::to_string(i + 1);
    label += '/';
    label += std::to_string(set.size());
    label += ' ';
    label += set[i].path;
    bar = std::make_unique<DownloadProgressBar>(label, terminal, !quiet);
  });
  bar.reset();
  for (const auto& r : results) std::printf("%s\n", describe(r).c_str());
  const hub::Defaults d = hub::load_defaults(config);
  std::printf("defaults written to %s:\n  llm        %s\n  embedding  %s\n  kokoro_dir %s\n  voice      %s\n",
              config.string().c_str(), d.llm.c_str(), d.embedding.c_str(), d.kokoro_dir.c_str(),
              d.voice.c_str());
  return 0;
}

}  // namespace xnai::cli
