#include "cli/download_progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace xnai::cli {
namespace {

int terminal_width() {
  struct winsize ws {};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20) return ws.ws_col;
  return 80;
}

// Keeps the end of a long name (the part that tells files apart).
std::string fit(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  if (max <= 3) return s.substr(s.size() - max);
  return "..." + s.substr(s.size() - (max - 3));
}

}  // namespace

std::string format_duration(double seconds) {
  if (seconds < 0) seconds = 0;
  const long long s = static_cast<long long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof(buf), "%lld:%02lld:%02lld", s / 3600, (s / 60) % 60, s % 60);
  else
    std::snprintf(buf, sizeof(buf), "%lld:%02lld", s / 60, s % 60);
  return buf;
}

DownloadProgressBar::DownloadProgressBar(std::string label, bool terminal, bool enabled,
                                         double line_interval_s)
    : label_(std::move(label)), terminal_(terminal), enabled_(enabled), interval_s_(line_interval_s) {}

DownloadProgressBar::~DownloadProgressBar() { finish(); }

double DownloadProgressBar::speed(const hub::DownloadProgress& p) {
  if (!window_.empty() && p.done < window_.back().second) window_.clear();  // restarted from 0
  window_.emplace_back(p.seconds, p.done);
  while (window_.size() > 2 && p.seconds - window_.front().first > 5.0) window_.pop_front();
  const double dt = p.seconds - window_.front().first;
  if (dt >= 0.5) return static_cast<double>(p.done - window_.front().second) / dt;
  if (p.seconds > 0 && p.done >= p.resumed_from)
    return static_cast<double>(p.done - p.resumed_from) / p.seconds;
  return 0;
}

std::string DownloadProgressBar::render(const hub::DownloadProgress& p, double bps, int width) const {
  std::string counts, bar, rate;
  if (p.total > 0) {
    const uint64_t done = std::min(p.done, p.total);
    const int pct = static_cast<int>(static_cast<double>(done) * 100.0 / static_cast<double>(p.total));
    char buf[160];
    std::snprintf(buf, sizeof(buf), "  %s / %s  %3d%%", hub::format_bytes(done).c_str(),
                  hub::format_bytes(p.total).c_str(), pct);
    counts = buf;
    if (terminal_) {
      constexpr int kBar = 20;
      const int filled = pct * kBar / 100;
      bar = "  [" + std::string(static_cast<size_t>(filled), '#') +
            std::string(static_cast<size_t>(kBar - filled), '-') + "]";
    }
  } else {
    counts = "  " + hub::format_bytes(p.done);
  }
  if (bps > 0) {
    rate = "  " + hub::format_bytes(static_cast<uint64_t>(bps)) + "/s";
    if (p.total > p.done)
      rate += "  " + format_duration(static_cast<double>(p.total - p.done) / bps) + " left";
  }
  // On a narrow terminal the bar goes before the file name is shortened.
  const size_t w = static_cast<size_t>(std::max(width, 20)) - 1;
  if (label_.size() + counts.size() + bar.size() + rate.size() > w) bar.clear();
  const std::string tail = counts + bar + rate;
  const size_t room = w > tail.size() + 12 ? w - tail.size() : 12;
  return fit(label_, room) + tail;
}

void DownloadProgressBar::update(const hub::DownloadProgress& p) {
  last_ = p;
  if (!enabled_ || finished_) return;
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_draw_).count();
  if (terminal_) {
    if (drawn_ && since < 0.1) return;
    const std::string line = render(p, speed(p), terminal_width());
    std::fprintf(stderr, "\r%s\x1b[K", line.c_str());
    std::fflush(stderr);
  } else {
    // The first line after one interval, so small files stay silent.
    if (drawn_ ? since < interval_s_ : p.seconds < interval_s_) return;
    std::fprintf(stderr, "%s\n", render(p, speed(p), 200).c_str());
  }
  drawn_ = true;
  last_draw_ = now;
}

void DownloadProgressBar::finish() {
  if (!enabled_ || finished_) return;
  finished_ = true;
  if (!drawn_) return;
  if (terminal_)
    std::fprintf(stderr, "\r%s\x1b[K\n", render(last_, speed(last_), terminal_width()).c_str());
  else
    std::fprintf(stderr, "%s\n", render(last_, speed(last_), 200).c_str());
}

}  // namespace xnai::cli
