// A download's progress on stderr: bytes done / total, speed and time left. On a terminal
// the line is redrawn in place at most ten times a second; otherwise (logs, CI) a plain
// line is printed every few seconds so the log stays readable.
#pragma once
#include <chrono>
#include <deque>
#include <string>
#include <utility>

#include "hub/hub.h"

namespace xnai::cli {

class DownloadProgressBar {
 public:
  // terminal: redraw in place; else one line per `line_interval_s`. enabled = false
  // prints nothing (--quiet).
  DownloadProgressBar(std::string label, bool terminal, bool enabled = true, double line_interval_s = 5.0);
  ~DownloadProgressBar();
  DownloadProgressBar(const DownloadProgressBar&) = delete;
  DownloadProgressBar& operator=(const DownloadProgressBar&) = delete;

  void update(const hub::DownloadProgress& p);  // cheap when nothing is drawn
  void finish();                                // final state, then a newline (terminal)

  // The text of one update, without control characters (exposed for tests).
  std::string render(const hub::DownloadProgress& p, double bytes_per_s, int width) const;

 private:
  double speed(const hub::DownloadProgress& p);

  std::string label_;
  bool terminal_, enabled_;
  double interval_s_;
  bool drawn_ = false, finished_ = false;
  hub::DownloadProgress last_{};
  std::chrono::steady_clock::time_point last_draw_{};
  std::deque<std::pair<double, uint64_t>> window_;  // (seconds, bytes done) for the speed
};

// "1:05:09", "4:07", "0:03".
std::string format_duration(double seconds);

}  // namespace xnai::cli
