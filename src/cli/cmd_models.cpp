// `xnai models [--json]`: what the model cache holds (kind, architecture, quantization,
// size, path) and which files the config uses as defaults (marked *).
// `xnai models rm NAME`: removes one cached file, its manifest entry and config references.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "cli/model_labels.h"
#include "core/error.h"
#include "hub/hub.h"

namespace fs = std::filesystem;

namespace xnai::cli {
namespace {

bool same(const std::string& a, const fs::path& b) {
  return !a.empty() && fs::absolute(a).lexically_normal() == fs::absolute(b).lexically_normal();
}

// Which default (if any) a cached file is.
std::string default_role(const hub::CachedModel& m, const hub::Defaults& d) {
  if (same(d.llm, m.path)) return "llm";
  if (same(d.embedding, m.path)) return "embedding";
  if (same(d.voice, m.path)) return "voice";
  if ((m.kind == hub::ModelKind::Tts || m.kind == hub::ModelKind::Config) &&
      same(d.kokoro_dir, m.path.parent_path()))
    return "kokoro_dir";
  return "";
}

}  // namespace

int run_models(const std::vector<std::string>& argv) {
  Args args("models", {{"--json", "", false, "machine-readable output", ""}});
  args.parse(argv);
  if (args.has("--help")) {
    std::printf("usage: xnai models [--json]\n       xnai models rm NAME\n%s", args.usage().c_str());
    return 0;
  }
  if (!args.positionals().empty())
    throw Error(ErrorKind::InvalidArgument, "models: unexpected argument '" + args.positionals()[0] +
                                                "' (to remove a model: xnai models rm NAME)");
  const hub::Cache cache = hub::Cache::open_default();
  const fs::path config = hub::config_path();
  const hub::Defaults defaults = hub::load_defaults(config);
  const auto models = cache.list();

  if (args.has("--json")) {
    nlohmann::ordered_json j;
    j["cache"] = cache.root().string();
    j["config"] = config.string();
    j["defaults"] = {{"llm", defaults.llm},
                     {"embedding", defaults.embedding},
                     {"kokoro_dir", defaults.kokoro_dir},
                     {"voice", defaults.voice}};
    j["models"] = nlohmann::ordered_json::array();
    for (const auto& m : models) {
      const std::string role = default_role(m, defaults);
      j["models"].push_back(
          {{"path", m.path.string()},
           {"rel", m.rel},
           {"kind", hub::kind_name(m.kind)},
           {"architecture", m.architecture},
           {"quantization", quantization_label(m)},
           {"size", m.size},
           {"sha256", m.sha256},
           {"verified_by", m.verified_by},
           {"source", m.source},
           {"revision", m.revision},
           {"commit", m.commit},
           {"pulled", m.pulled},
           {"default", role.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(role)},
           {"missing", m.missing}});
    }
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }

  std::printf("cache:  %s\nconfig: %s\n", cache.root().string().c_str(), config.string().c_str());
  if (models.empty()) {
    std::printf("\nno models yet; get the tested default set with `xnai pull --recommended`\n");
    return 0;
  }
  uint64_t total = 0;
  std::printf("\n  %-10s %-12s %-8s %10s  %s\n", "KIND", "ARCH", "QUANT", "SIZE", "FILE");
  for (const auto& m : models) {
    total += m.missing ? 0 : m.size;
    const std::string arch = m.architecture.empty() ? "-" : m.architecture;
    const std::string quant = quantization_label(m).empty() ? "-" : quantization_label(m);
    std::printf("%c %-10s %-12s %-8s %10s  %s%s\n", default_role(m, defaults).empty() ? ' ' : '*',
                hub::kind_name(m.kind), arch.c_str(), quant.c_str(), hub::format_bytes(m.size).c_str(),
                m.rel.c_str(), m.missing ? "  (missing: in the manifest, file gone)" : "");
  }
  std::printf("\n%zu files, %s; * = a default in the config\n", models.size(),
              hub::format_bytes(total).c_str());
  return 0;
}

int run_models_rm(const std::vector<std::string>& argv) {
  Args args("models rm", {});
  args.parse(argv);
  if (args.has("--help")) {
    std::printf(
        "usage: xnai models rm NAME   (a path in the cache, org/repo/file, a file name or the source)\n");
    return 0;
  }
  if (args.positionals().size() != 1)
    throw Error(ErrorKind::InvalidArgument, "models rm: expected one NAME (see `xnai models`)");
  const hub::CachedModel m =
      hub::remove_model(args.positionals()[0], hub::Cache::open_default(), hub::config_path());
  std::printf("removed %s (%s)\n", m.path.string().c_str(), hub::format_bytes(m.size).c_str());
  return 0;
}

}  // namespace xnai::cli
