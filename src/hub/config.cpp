// The config file's model defaults: which LLM, embedding model, Kokoro folder and voice
// the commands use when none is named. Other keys in the same file belong to other parts
// of xnai and are kept as they are when the defaults are written.
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "hub/hub_internal.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace xnai::hub {
namespace {

json read_config(const fs::path& file) {
  const std::string text = detail::read_small_file(file);
  if (text.empty()) return json::object();
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    throw Error(ErrorKind::InvalidFormat, file.string() + " is not a JSON object; fix it or delete it");
  return j;
}

std::string path_key(const json& j, const char* key, const fs::path& file) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return {};
  if (!it->is_string())
    throw Error(ErrorKind::InvalidFormat, file.string() + ": '" + key + "' must be a string (a path)");
  return it->get<std::string>();
}

}  // namespace

fs::path config_path() {
  if (const char* env = std::getenv("XNAI_CONFIG"); env && *env) return env;
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg)
    return fs::path(xdg) / "xnai" / "config.json";
  const char* home = std::getenv("HOME");
  if (!home || !*home)
    throw Error(ErrorKind::InvalidArgument, "cannot find the config file: set XNAI_CONFIG (HOME is not set)");
  return fs::path(home) / ".config" / "xnai" / "config.json";
}

Defaults load_defaults(const fs::path& file) {
  const json j = read_config(file);
  Defaults d;
  d.llm = path_key(j, "llm", file);
  d.embedding = path_key(j, "embedding", file);
  d.kokoro_dir = path_key(j, "kokoro_dir", file);
  d.voice = path_key(j, "voice", file);
  return d;
}

void save_defaults(const fs::path& file, const Defaults& d) {
  detail::FileLock lock(file.parent_path() / ".config.lock", true, "");
  json j = read_config(file);
  const auto put = [&](const char* key, const std::string& v) {
    if (v.empty())
      j.erase(key);
    else
      j[key] = v;
  };
  put("llm", d.llm);
  put("embedding", d.embedding);
  put("kokoro_dir", d.kokoro_dir);
  put("voice", d.voice);
  detail::write_file_atomic(file, j.dump(2) + "\n");
}

}  // namespace xnai::hub
