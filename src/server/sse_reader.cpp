#include "server/sse_reader.h"

namespace xnai::server {
namespace {

bool handle_line(std::string_view line, const std::function<bool(std::string_view)>& on_data) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  constexpr std::string_view kData = "data:";
  if (line.substr(0, kData.size()) != kData) return true;
  line.remove_prefix(kData.size());
  if (!line.empty() && line.front() == ' ') line.remove_prefix(1);
  return on_data(line);
}

}  // namespace

bool SseReader::feed(std::string_view bytes, const std::function<bool(std::string_view)>& on_data) {
  // Lines wholly inside `bytes` are handled in place; only a line cut by the piece's end is
  // copied, so a stream of small events costs no allocation per event.
  while (!bytes.empty()) {
    const size_t nl = bytes.find('\n');
    if (nl == std::string_view::npos) {
      if (partial_.size() + bytes.size() > kMaxLine) return false;
      partial_.append(bytes);
      return true;
    }
    bool ok;
    if (partial_.empty()) {
      ok = handle_line(bytes.substr(0, nl), on_data);
    } else {
      if (partial_.size() + nl > kMaxLine) return false;
      partial_.append(bytes.substr(0, nl));
      ok = handle_line(partial_, on_data);
      partial_.clear();
    }
    if (!ok) return false;
    bytes.remove_prefix(nl + 1);
  }
  return true;
}

}  // namespace xnai::server
