// Does a downloaded file hold what its name says? A login page, an error page or a Git LFS
// pointer saved under "model.gguf" must never be renamed into the cache, so each kind of
// file is checked by its first bytes (and GGUF headers and JSON are parsed) before the
// rename.
#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "formats/gguf.h"
#include "hub/hub_internal.h"

namespace xnai::hub::detail {
namespace {

std::string head_bytes(const std::filesystem::path& file, size_t n, uint64_t* size) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(ErrorKind::Io, file.string() + ": cannot open: " + std::strerror(errno));
  std::string buf(n, '\0');
  ssize_t got = 0;
  while (got < static_cast<ssize_t>(n)) {
    const ssize_t r = ::read(fd, buf.data() + got, n - static_cast<size_t>(got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += r;
  }
  *size = static_cast<uint64_t>(::lseek(fd, 0, SEEK_END));
  ::close(fd);
  buf.resize(static_cast<size_t>(got));
  return buf;
}

// The first bytes as a person can read them in a message.
std::string preview(const std::string& head) {
  std::string out;
  size_t shown = 0;
  for (unsigned char c : head) {
    if (shown == 24) {
      out += "…";
      break;
    }
    if (c == '\n' || c == '\r') break;
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    }
    ++shown;
  }
  return out;
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool looks_like_html(const std::string& head) {
  size_t i = 0;
  while (i < head.size() && std::isspace(static_cast<unsigned char>(head[i]))) ++i;
  const std::string rest = to_lower(head.substr(i, 15));
  return rest.rfind("<!doctype", 0) == 0 || rest.rfind("<html", 0) == 0 || rest.rfind("<?xml", 0) == 0;
}

}  // namespace

void check_content(const std::filesystem::path& file, const std::string& name) {
  uint64_t size = 0;
  const std::string head = head_bytes(file, 64, &size);
  const std::string lower = to_lower(name);
  const auto fail = [&](const std::string& what) {
    throw Error(ErrorKind::InvalidFormat,
                name + " is not " + what +
                    (size == 0 ? " (the download is empty)" : " (starts with '" + preview(head) + "')"));
  };
  if (ends_with(lower, ".gguf")) {
    if (head.size() < 4 || head.compare(0, 4, "GGUF") != 0) fail("a GGUF file");
    try {
      gguf::GgufFile::open(file.string());
    } catch (const Error& e) {
      // A tensor type or value this reader does not know yet is still a real GGUF file.
      if (e.kind() != ErrorKind::Unsupported)
        throw Error(ErrorKind::InvalidFormat, name + " is not a valid GGUF file: " + e.what());
    }
    return;
  }
  if (ends_with(lower, ".pt") || ends_with(lower, ".pth")) {
    if (head.size() < 4 || head.compare(0, 4, "PK\x03\x04", 4) != 0)
      fail("a PyTorch checkpoint (a torch.save zip)");
    return;
  }
  if (ends_with(lower, ".safetensors")) {
    if (head.size() < 9 || head[8] != '{') fail("a safetensors file");
    return;
  }
  if (ends_with(lower, ".json")) {
    if (looks_like_html(head)) fail("JSON");
    const std::string text = read_small_file(file);
    if (!nlohmann::json::accept(text)) fail("valid JSON");
    return;
  }
  if (!ends_with(lower, ".html") && !ends_with(lower, ".htm") && looks_like_html(head))
    fail("a model file but a web page");
}

}  // namespace xnai::hub::detail
