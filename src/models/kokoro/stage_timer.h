// Per-stage wall times of one synthesis, printed to stderr when XNAI_KOKORO_PROFILE is set:
// the quickest way to see which stage a speed change moved (benchmarks give the totals).
#pragma once
#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace xnai::models::kokoro {

class StageTimer {
 public:
  StageTimer() : on_(enabled()), t0_(std::chrono::steady_clock::now()) {}
  // Prints the time since the previous lap (or construction) under `stage`.
  void lap(const char* stage) {
    if (!on_) return;
    const auto t1 = std::chrono::steady_clock::now();
    std::fprintf(stderr, "kokoro %-10s %8.1f ms\n", stage,
                 std::chrono::duration<double, std::milli>(t1 - t0_).count());
    t0_ = t1;
  }

 private:
  static bool enabled() {
    static const bool on = std::getenv("XNAI_KOKORO_PROFILE") != nullptr;
    return on;
  }
  bool on_;
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace xnai::models::kokoro
