// Pulling a whole set (the recommended one): one free-space check up front, every file
// verified against the table's size and sha256, and the config's defaults written only
// once all of them are in place, so a half-finished set never becomes the default.
#include "core/error.h"
#include "hub/hub_internal.h"

namespace fs = std::filesystem;

namespace xnai::hub {

Defaults defaults_of(const std::vector<RecommendedFile>& set, const std::vector<PullResult>& pulled) {
  Defaults d;
  for (size_t i = 0; i < set.size() && i < pulled.size(); ++i) {
    const std::string role = set[i].role;
    const fs::path& p = pulled[i].model.path;
    if (role == "llm" && d.llm.empty()) d.llm = p.string();
    if (role == "embedding" && d.embedding.empty()) d.embedding = p.string();
    if (role == "tts" && d.kokoro_dir.empty()) d.kokoro_dir = p.parent_path().string();
    if (role == "voice" && d.voice.empty()) d.voice = p.string();
  }
  return d;
}

std::vector<PullResult> pull_set(const std::vector<RecommendedFile>& set, const Cache& cache,
                                 const fs::path& config_file, const PullOptions& opts,
                                 const std::function<void(size_t index)>& on_file) {
  std::vector<Source> sources;
  uint64_t need = 0;
  for (const auto& f : set) {
    sources.push_back(recommended_source(f));
    const fs::path final = cache.path_for(sources.back());
    std::error_code ec;
    const uint64_t size = fs::is_regular_file(final, ec) ? fs::file_size(final, ec) : 0;
    if (f.size > 0 && size == f.size) continue;  // cached (verified by the pull itself)
    fs::path part = final;
    part += ".part";
    const uint64_t partial = fs::is_regular_file(part, ec) ? fs::file_size(part, ec) : 0;
    if (f.size > partial) need += f.size - partial;
  }
  if (!opts.offline && need > 0) {
    const uint64_t have = opts.free_space ? opts.free_space(cache.root()) : free_space(cache.root());
    if (need > have) throw Error(ErrorKind::Io, detail::no_space_message(need, have, cache.root()));
  }

  std::vector<PullResult> out;
  for (size_t i = 0; i < set.size(); ++i) {
    if (on_file) on_file(i);
    PullOptions o = opts;
    o.expected_sha256 = set[i].sha256;
    o.expected_size = set[i].size;
    out.push_back(pull(sources[i], cache, o));
  }

  const Defaults fresh = defaults_of(set, out);
  Defaults d = load_defaults(config_file);
  if (!fresh.llm.empty()) d.llm = fresh.llm;
  if (!fresh.embedding.empty()) d.embedding = fresh.embedding;
  if (!fresh.kokoro_dir.empty()) d.kokoro_dir = fresh.kokoro_dir;
  if (!fresh.voice.empty()) d.voice = fresh.voice;
  save_defaults(config_file, d);
  return out;
}

}  // namespace xnai::hub
