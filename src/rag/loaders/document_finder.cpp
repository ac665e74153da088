// find_documents: expands folders into the loadable files below them, in a stable order.
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <utility>

#include "rag/loaders.h"

namespace xnai::rag {
namespace {

namespace fs = std::filesystem;

using FileKey = std::pair<dev_t, ino_t>;

bool stat_follow(const std::string& path, struct stat& st) { return ::stat(path.c_str(), &st) == 0; }

bool is_skipped_name(const std::string& name) {
  return name.empty() || name[0] == '.' || name.rfind("~$", 0) == 0;  // hidden, Office lock file
}

// True when `path` is a symbolic link to `dir` or to a folder above it (a loop).
bool leads_to_ancestor(const std::string& path, const std::string& dir) {
  struct stat lst {};
  if (::lstat(path.c_str(), &lst) != 0 || !S_ISLNK(lst.st_mode)) return false;
  std::error_code ec;
  const std::string target = fs::canonical(path, ec).string();
  if (ec) return true;
  const std::string here = fs::canonical(dir, ec).string();
  if (ec) return true;
  return here == target || here.rfind(target == "/" ? target : target + "/", 0) == 0;
}

class Walker {
 public:
  explicit Walker(std::vector<std::string>& out) : out_(out) {}

  void add_file(const std::string& path, const struct stat& st) {
    if (seen_files_.insert({st.st_dev, st.st_ino}).second) out_.push_back(path);
  }

  // Depth-first in sorted order. A folder is walked once: a link to a folder above it (a
  // loop) is not followed, nor one to a folder walked before.
  void walk(const std::string& dir, const struct stat& dir_st) {
    if (!visited_dirs_.insert({dir_st.st_dev, dir_st.st_ino}).second) return;
    std::vector<std::string> names;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (!is_skipped_name(name)) names.push_back(std::move(name));
    }
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
      const std::string path = (fs::path(dir) / name).string();
      struct stat st {};
      if (!stat_follow(path, st)) continue;  // dangling link, vanished, no permission
      if (S_ISDIR(st.st_mode)) {
        if (!leads_to_ancestor(path, dir)) walk(path, st);
      } else if (S_ISREG(st.st_mode) && is_supported_document(path))
        add_file(path, st);
    }
  }

 private:
  std::vector<std::string>& out_;
  std::set<FileKey> seen_files_, visited_dirs_;
};

}  // namespace

std::vector<std::string> find_documents(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  Walker walker(out);
  for (const auto& p : paths) {
    struct stat st {};
    if (!stat_follow(p, st)) {
      out.push_back(p);  // missing: load_document will say so by name
    } else if (S_ISDIR(st.st_mode)) {
      walker.walk(p, st);
    } else {
      walker.add_file(p, st);
    }
  }
  return out;
}

}  // namespace xnai::rag
