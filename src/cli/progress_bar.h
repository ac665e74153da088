// A one-line progress bar on stderr ("loading model.gguf  [#####     ]  52%"), redrawn in
// place, shown only when stderr is a terminal or the work is large enough to be worth it.
#pragma once
#include <string>

namespace xnai::cli {

class ProgressBar {
 public:
  ProgressBar(std::string label, bool enabled);
  ~ProgressBar();
  void update(float fraction);  // [0, 1]; redraws at most once per percent
  void finish();

 private:
  std::string label_;
  bool enabled_;
  bool tty_;
  int last_percent_ = -1;
  bool finished_ = false;
};

}  // namespace xnai::cli
