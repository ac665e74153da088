// The cache directory and its manifest: where a source's file lives, what the manifest
// says about each file (source, revision, sha256, size …), and finding files by name.
// The manifest is rewritten whole, atomically, under <root>/.lock, so concurrent pulls
// never lose each other's entries and a crash never leaves it half-written.
#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "hub/hub_internal.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace xnai::hub {
namespace {

constexpr int kManifestVersion = 1;

json read_manifest(const fs::path& file) {
  const std::string text = detail::read_small_file(file);
  if (text.empty()) return json{{"version", kManifestVersion}, {"files", json::object()}};
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("files") || !j["files"].is_object())
    throw Error(ErrorKind::InvalidFormat,
                file.string() +
                    " is not a valid xnai manifest; fix or delete it (the model files "
                    "stay; their checksums are learned again on the next pull)");
  return j;
}

std::string str_field(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t int_field(const json& j, const char* key, int64_t def) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : def;
}

// Copies the manifest's facts about a file into m (the file's own facts stay).
void apply_entry(const json& e, CachedModel& m) {
  m.in_manifest = true;
  m.source = str_field(e, "source");
  m.url = str_field(e, "url");
  m.revision = str_field(e, "revision");
  m.commit = str_field(e, "commit");
  m.sha256 = str_field(e, "sha256");
  m.verified_by = str_field(e, "verified_by");
  m.pulled = str_field(e, "pulled");
}

CachedModel from_entry(const fs::path& root, const std::string& rel, const json& e) {
  CachedModel m;
  m.path = root / rel;
  m.rel = rel;
  apply_entry(e, m);
  m.size = static_cast<uint64_t>(int_field(e, "size", 0));
  m.mtime_ns = int_field(e, "mtime_ns", 0);
  m.kind = kind_from_name(str_field(e, "kind")).value_or(ModelKind::Other);
  m.architecture = str_field(e, "architecture");
  return m;
}

// Files that are bookkeeping, not models: the manifest, locks, partial downloads and
// their sidecars, temporary files of atomic writes, anything hidden.
bool is_bookkeeping(const std::string& name) {
  const auto ends = [&](std::string_view s) {
    return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
  };
  return name.empty() || name[0] == '.' || name == "manifest.json" || ends(".part") || ends(".part.json") ||
         name.find(".tmp-") != std::string::npos;
}

std::string lower(std::string_view s) { return detail::to_lower(s); }

}  // namespace

Cache::Cache(fs::path root) : root_(std::move(root)) {
  if (root_.empty()) throw Error(ErrorKind::InvalidArgument, "the model cache directory is empty");
  root_ = fs::absolute(root_).lexically_normal();
  if (!root_.has_filename()) root_ = root_.parent_path();
}

fs::path Cache::default_root() {
  if (const char* env = std::getenv("XNAI_MODELS"); env && *env) return env;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return fs::path(xdg) / "xnai" / "models";
  const char* home = std::getenv("HOME");
  if (!home || !*home)
    throw Error(ErrorKind::InvalidArgument, "cannot find the model cache: set XNAI_MODELS (HOME is not set)");
  return fs::path(home) / ".cache" / "xnai" / "models";
}

Cache Cache::open_default() { return Cache(default_root()); }

fs::path Cache::path_for(const Source& s) const {
  if (s.hf) {
    const size_t slash = s.repo.find('/');
    return root_ / "hf" / s.repo.substr(0, slash) / s.repo.substr(slash + 1) / fs::path(s.path);
  }
  const detail::Url u = detail::parse_url(s.url);
  const bool default_port = (u.scheme == "https" && u.port == 443) || (u.scheme == "http" && u.port == 80);
  std::string host = u.host;
  std::replace(host.begin(), host.end(), ':', '_');
  if (!default_port) {
    host += '_';
    host += std::to_string(u.port);
  }
  return root_ / "url" / host / s.file_name();
}

std::string Cache::rel_of(const fs::path& p) const {
  const fs::path abs = fs::absolute(p).lexically_normal();
  const fs::path rel = abs.lexically_relative(root_);
  if (rel.empty() || *rel.begin() == "..") return {};
  return rel.generic_string();
}

std::vector<CachedModel> Cache::list() const {
  const json manifest = read_manifest(manifest_path());
  const json& files = manifest["files"];
  std::vector<CachedModel> out;
  std::error_code ec;
  if (fs::is_directory(root_, ec)) {
    for (auto it = fs::recursive_directory_iterator(root_, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (it->is_directory(ec)) {
        if (!name.empty() && name[0] == '.') it.disable_recursion_pending();
        continue;
      }
      if (!it->is_regular_file(ec) || is_bookkeeping(name)) continue;
      const std::string rel = rel_of(it->path());
      CachedModel m;
      try {
        m = inspect_file(it->path(), rel);
      } catch (const Error&) {
        continue;  // vanished or unreadable while listing
      }
      if (const auto e = files.find(rel); e != files.end()) apply_entry(*e, m);
      out.push_back(std::move(m));
    }
  }
  for (const auto& [rel, e] : files.items()) {
    const bool present =
        std::any_of(out.begin(), out.end(), [&](const CachedModel& m) { return m.rel == rel; });
    if (present) continue;
    CachedModel m = from_entry(root_, rel, e);
    m.missing = true;
    out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(), [](const CachedModel& a, const CachedModel& b) { return a.rel < b.rel; });
  return out;
}

std::optional<CachedModel> Cache::entry(const std::string& rel) const {
  const json manifest = read_manifest(manifest_path());
  const auto it = manifest["files"].find(rel);
  if (it == manifest["files"].end()) return std::nullopt;
  return from_entry(root_, rel, *it);
}

void Cache::record(const CachedModel& m) const {
  detail::FileLock lock(root_ / ".lock", true, "");
  json manifest = read_manifest(manifest_path());
  manifest["version"] = kManifestVersion;
  manifest["files"][m.rel] = json{
      {"source", m.source},
      {"url", m.url},
      {"revision", m.revision},
      {"commit", m.commit},
      {"sha256", m.sha256},
      {"verified_by", m.verified_by},
      {"size", m.size},
      {"mtime_ns", m.mtime_ns},
      {"kind", kind_name(m.kind)},
      {"architecture", m.architecture},
      {"pulled", m.pulled},
  };
  detail::write_file_atomic(manifest_path(), manifest.dump(2) + "\n");
}

void Cache::forget(const std::string& rel) const {
  detail::FileLock lock(root_ / ".lock", true, "");
  json manifest = read_manifest(manifest_path());
  if (manifest["files"].erase(rel) == 0) return;
  detail::write_file_atomic(manifest_path(), manifest.dump(2) + "\n");
}

std::vector<CachedModel> Cache::match(std::string_view name, std::optional<ModelKind> kind) const {
  std::vector<CachedModel> out;
  if (name.empty()) return out;
  const std::string n(name);
  const std::string n_lower = lower(n);
  const std::string as_rel = fs::path(n).is_absolute() ? rel_of(n) : std::string();
  for (auto& m : list()) {
    if (m.missing || (kind && m.kind != *kind)) continue;
    const std::string file = lower(m.path.filename().string());
    const std::string stem = lower(m.path.stem().string());
    const bool hit = n == m.rel || (!as_rel.empty() && as_rel == m.rel) ||
                     (m.rel.size() > n.size() && m.rel.compare(m.rel.size() - n.size(), n.size(), n) == 0 &&
                      m.rel[m.rel.size() - n.size() - 1] == '/') ||
                     n_lower == file || n_lower == stem ||
                     (!m.source.empty() && (n == m.source || "hf://" + n == m.source));
    if (hit) out.push_back(std::move(m));
  }
  return out;
}

}  // namespace xnai::hub
