#include "runtime/stop_strings.h"

#include <algorithm>
#include <utility>

#include "core/error.h"

namespace xnai::runtime {

StopStrings::StopStrings(std::vector<std::string> stops) : stops_(std::move(stops)) {
  for (size_t i = 0; i < stops_.size(); ++i) {
    if (stops_[i].empty()) {
      throw Error(ErrorKind::InvalidArgument, "stop string " + std::to_string(i) + " is empty");
    }
  }
}

StopStrings::Result StopStrings::feed(std::string_view piece) {
  Result r;
  if (stopped()) {
    r.stopped = true;
    return r;
  }
  pending_.append(piece);

  // The earliest completed stop wins; at equal positions the one listed first.
  size_t best_pos = std::string::npos;
  int best = -1;
  for (size_t i = 0; i < stops_.size(); ++i) {
    const size_t pos = pending_.find(stops_[i]);
    if (pos < best_pos) {
      best_pos = pos;
      best = static_cast<int>(i);
    }
  }
  if (best >= 0) {
    stopped_index_ = best;
    r.text = pending_.substr(0, best_pos);
    r.stopped = true;
    pending_.clear();
    return r;
  }

  const size_t held = held_suffix_length();
  r.text = pending_.substr(0, pending_.size() - held);
  pending_.erase(0, pending_.size() - held);
  return r;
}

size_t StopStrings::held_suffix_length() const {
  // pending_ contains no complete stop string here, so any stop that overlaps its end starts in
  // its last (stop length - 1) bytes.
  size_t longest = 0;
  for (const auto& stop : stops_) {
    const size_t max_len = std::min(stop.size() - 1, pending_.size());
    for (size_t len = max_len; len > longest; --len) {
      if (std::string_view(pending_).substr(pending_.size() - len) == std::string_view(stop).substr(0, len)) {
        longest = len;
        break;
      }
    }
  }
  return longest;
}

std::string StopStrings::flush() {
  std::string out;
  out.swap(pending_);
  return out;
}

void StopStrings::reset() {
  pending_.clear();
  stopped_index_ = -1;
}

std::string_view StopStrings::matched() const {
  return stopped() ? std::string_view(stops_[static_cast<size_t>(stopped_index_)]) : std::string_view();
}

}  // namespace xnai::runtime
