// Durable small-file writes (temporary file + fsync + rename + directory fsync), advisory
// locks, free space and byte formatting: what makes the manifest, the config and a
// finished download survive a crash or a second xnai process.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "core/error.h"
#include "hub/hub_internal.h"

namespace fs = std::filesystem;

namespace xnai::hub {
namespace detail {
namespace {

Error io_error(const fs::path& p, const std::string& what, int err) {
  return Error(ErrorKind::Io, p.string() + ": " + what + ": " + std::strerror(err));
}

}  // namespace

void fsync_dir(const fs::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

void write_file_atomic(const fs::path& file, std::string_view content) {
  const fs::path dir = file.parent_path();
  std::error_code ec;
  if (!dir.empty()) fs::create_directories(dir, ec);
  if (ec) throw Error(ErrorKind::Io, dir.string() + ": cannot create directory: " + ec.message());
  std::string tmpl = file.string() + ".tmp-XXXXXX";
  const int fd = ::mkstemp(tmpl.data());
  if (fd < 0) throw io_error(file, "cannot create a temporary file beside it", errno);
  size_t off = 0;
  while (off < content.size()) {
    const ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      ::unlink(tmpl.c_str());
      throw io_error(file, err == ENOSPC ? "no space left on the device" : "write failed", err);
    }
    off += static_cast<size_t>(n);
  }
  if (::fchmod(fd, 0644) != 0 || ::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmpl.c_str());
    throw io_error(file, "fsync failed", err);
  }
  ::close(fd);
  if (::rename(tmpl.c_str(), file.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmpl.c_str());
    throw io_error(file, "rename into place failed", err);
  }
  fsync_dir(dir);
}

std::string read_small_file(const fs::path& file) {
  FILE* f = std::fopen(file.c_str(), "rb");
  if (!f) {
    if (errno == ENOENT) return {};
    throw io_error(file, "cannot open", errno);
  }
  std::string out;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  const bool bad = std::ferror(f);
  std::fclose(f);
  if (bad) throw Error(ErrorKind::Io, file.string() + ": read failed");
  return out;
}

int64_t mtime_ns(const fs::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return 0;
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

std::string utc_now_iso8601() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void prune_empty_dirs(fs::path dir, const fs::path& root) {
  std::error_code ec;
  while (!dir.empty() && dir != root) {
    const fs::path rel = dir.lexically_relative(root);
    if (rel.empty() || *rel.begin() == "..") return;
    if (!fs::is_directory(dir, ec) || !fs::is_empty(dir, ec) || !fs::remove(dir, ec)) return;
    dir = dir.parent_path();
  }
}

FileLock::FileLock(const fs::path& file, bool blocking, const std::string& what) {
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw io_error(file, "cannot open lock file", errno);
  while (::flock(fd_, LOCK_EX | (blocking ? 0 : LOCK_NB)) != 0) {
    if (errno == EINTR) continue;
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK) throw Error(ErrorKind::Io, what + " (lock held: " + file.string() + ")");
    throw io_error(file, "cannot lock", err);
  }
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

std::string no_space_message(uint64_t need, uint64_t have, const fs::path& dir) {
  return "no space left: need " + format_bytes(need) + ", have " + format_bytes(have) + " in " + dir.string();
}

}  // namespace detail

uint64_t free_space(const fs::path& dir) {
  fs::path p = dir;
  std::error_code ec;
  while (!p.empty() && !fs::exists(p, ec)) p = p.parent_path();
  if (p.empty()) p = ".";
  struct statvfs sv {};
  if (::statvfs(p.c_str(), &sv) != 0)
    throw Error(ErrorKind::Io, p.string() + ": cannot read free space: " + std::strerror(errno));
  return static_cast<uint64_t>(sv.f_bavail) * static_cast<uint64_t>(sv.f_frsize);
}

std::string format_bytes(uint64_t b) {
  char buf[32];
  const double d = static_cast<double>(b);
  if (b >= (1ull << 30))
    std::snprintf(buf, sizeof(buf), "%.2f GiB", d / (1ull << 30));
  else if (b >= (1ull << 20))
    std::snprintf(buf, sizeof(buf), "%.1f MiB", d / (1ull << 20));
  else if (b >= (1ull << 10))
    std::snprintf(buf, sizeof(buf), "%.1f KiB", d / (1ull << 10));
  else
    std::snprintf(buf, sizeof(buf), "%llu B", static_cast<unsigned long long>(b));
  return buf;
}

}  // namespace xnai::hub
