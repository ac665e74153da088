// Turning what a person typed (a path, a cached model's name, or nothing) into a model
// file, and removing a cached model together with everything that points at it.
#include "core/error.h"
#include "hub/hub_internal.h"

namespace fs = std::filesystem;

namespace xnai::hub {
namespace {

bool same_path(const std::string& a, const fs::path& b) {
  if (a.empty()) return false;
  std::error_code ec;
  if (fs::exists(a, ec) && fs::exists(b, ec)) return fs::equivalent(a, b, ec);
  return fs::absolute(a).lexically_normal() == fs::absolute(b).lexically_normal();
}

std::string list_rels(const std::vector<CachedModel>& ms) {
  std::string out;
  for (const auto& m : ms) out += std::string(out.empty() ? "" : ", ") + m.rel;
  return out;
}

const char* how_to_get(ModelKind kind) {
  switch (kind) {
    case ModelKind::Llm:
      return "pass -m FILE.gguf (or set MODEL_PATH), or run `xnai pull --recommended`";
    case ModelKind::Embedding:
      return "pass the embedding model's path, or run `xnai pull --recommended`";
    default:
      return "pass a path, or run `xnai pull --recommended`";
  }
}

// Kokoro is a folder (weights, config.json, voices/); a name finds its checkpoint.
std::string result_path(const CachedModel& m, ModelKind kind) {
  return kind == ModelKind::Tts ? m.path.parent_path().string() : m.path.string();
}

}  // namespace

std::string resolve_model(const std::string& name_or_path, ModelKind kind, const Cache& cache,
                          const fs::path& config_file) {
  const std::string k = kind_name(kind);
  if (!name_or_path.empty()) {
    std::error_code ec;
    if (fs::exists(name_or_path, ec)) return name_or_path;
    const auto matches = cache.match(name_or_path, kind);
    if (matches.size() == 1) return result_path(matches[0], kind);
    if (matches.size() > 1)
      throw Error(ErrorKind::InvalidArgument, "'" + name_or_path + "' matches several cached " + k +
                                                  " models: " + list_rels(matches) +
                                                  "; name one by its path in the cache (see `xnai models`)");
    const auto others = cache.match(name_or_path);
    if (!others.empty())
      throw Error(ErrorKind::InvalidArgument, "'" + name_or_path + "' in the cache (" + others[0].rel +
                                                  ") is a model of kind '" + kind_name(others[0].kind) +
                                                  "', not '" + k + "'");
    throw Error(ErrorKind::NotFound,
                "no file or cached model named '" + name_or_path + "' (cache: " + cache.root().string() +
                    "); pull one with `xnai pull hf://org/repo/FILE`, " + how_to_get(kind));
  }
  const Defaults d = load_defaults(config_file);
  std::string v;
  switch (kind) {
    case ModelKind::Llm:
      v = d.llm;
      break;
    case ModelKind::Embedding:
      v = d.embedding;
      break;
    case ModelKind::Tts:
      v = d.kokoro_dir;
      break;
    case ModelKind::Voice:
      v = d.voice;
      break;
    case ModelKind::Config:
      v = d.kokoro_dir.empty() ? "" : (fs::path(d.kokoro_dir) / "config.json").string();
      break;
    case ModelKind::Other:
      break;
  }
  if (v.empty())
    throw Error(ErrorKind::InvalidArgument, "no " + k + " model given and no default in " +
                                                config_file.string() + ": " + how_to_get(kind));
  std::error_code ec;
  if (!fs::exists(v, ec))
    throw Error(ErrorKind::NotFound,
                "the default " + k + " model " + v + " (from " + config_file.string() +
                    ") does not exist; run `xnai pull --recommended` again or edit that file");
  return v;
}

std::string resolve_model(const std::string& name_or_path, ModelKind kind) {
  std::error_code ec;
  if (!name_or_path.empty() && fs::exists(name_or_path, ec)) return name_or_path;
  return resolve_model(name_or_path, kind, Cache::open_default(), config_path());
}

CachedModel remove_model(std::string_view name, const Cache& cache, const fs::path& config_file) {
  std::vector<CachedModel> matches = cache.match(name);
  if (matches.empty()) {
    // A manifest entry whose file is already gone can still be dropped by its name.
    for (auto& m : cache.list())
      if (m.missing && (m.rel == name || m.path.filename() == name)) matches.push_back(m);
  }
  if (matches.empty())
    throw Error(ErrorKind::NotFound,
                "no cached model matches '" + std::string(name) + "' (see `xnai models`)");
  if (matches.size() > 1)
    throw Error(ErrorKind::InvalidArgument, "'" + std::string(name) + "' matches several cached files: " +
                                                list_rels(matches) + "; name one by its path in the cache");
  const CachedModel m = matches[0];

  Defaults d = load_defaults(config_file);
  bool changed = false;
  const auto unset = [&](std::string& v, const fs::path& p) {
    if (same_path(v, p)) v.clear(), changed = true;
  };
  unset(d.llm, m.path);
  unset(d.embedding, m.path);
  unset(d.voice, m.path);
  if (m.kind == ModelKind::Tts) unset(d.kokoro_dir, m.path.parent_path());

  std::error_code ec;
  fs::remove(m.path, ec);
  if (ec) throw Error(ErrorKind::Io, m.path.string() + ": cannot remove: " + ec.message());
  for (const char* suffix : {".part", ".part.json"}) {
    fs::path p = m.path;
    p += suffix;
    fs::remove(p, ec);
  }
  cache.forget(m.rel);
  if (changed) save_defaults(config_file, d);
  detail::prune_empty_dirs(m.path.parent_path(), cache.root());
  return m;
}

}  // namespace xnai::hub
