#include "cli/progress_bar.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace xnai::cli {

ProgressBar::ProgressBar(std::string label, bool enabled)
    : label_(std::move(label)), enabled_(enabled), tty_(::isatty(STDERR_FILENO) != 0) {}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::update(float fraction) {
  if (!enabled_ || finished_) return;
  const int percent = std::clamp(static_cast<int>(fraction * 100.0f), 0, 100);
  if (percent == last_percent_) return;
  // Logs and pipes get a plain line every 25% instead of carriage-return redraws.
  if (!tty_) {
    if (percent / 25 == last_percent_ / 25 && last_percent_ >= 0) return;
    last_percent_ = percent;
    std::fprintf(stderr, "%s %d%%\n", label_.c_str(), percent);
    return;
  }
  last_percent_ = percent;
  constexpr int kWidth = 30;
  const int filled = percent * kWidth / 100;
  std::fprintf(stderr, "\r%s [%.*s%*s] %3d%%", label_.c_str(), filled, "##############################",
               kWidth - filled, "", percent);
  std::fflush(stderr);
}

void ProgressBar::finish() {
  if (!enabled_ || finished_) return;
  finished_ = true;
  if (last_percent_ >= 0 && tty_) std::fprintf(stderr, "\n");
}

}  // namespace xnai::cli
