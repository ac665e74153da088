// Reads a server-sent-events stream as a client sees it: bytes arrive in pieces cut
// anywhere (mid-line, mid-UTF-8), and each complete `data:` line is handed on whole. OpenAI
// streams put one `data:` line in each event, so a line is an event here; `event:`, `id:`,
// comment lines and the blank separators are skipped. Used by the load test (load_test.h).
//
// Thread-safety: none; one reader per stream.
#pragma once
#include <functional>
#include <string>
#include <string_view>

namespace xnai::server {

class SseReader {
 public:
  // A line longer than this is not an event we could have sent: the stream is broken.
  static constexpr size_t kMaxLine = 1u << 20;

  // Feeds the next piece of the stream; calls on_data with the payload of every `data:` line
  // it completes ("[DONE]" included, the "data:" and one following space removed, a trailing
  // CR dropped). Returns false, and stops, when on_data returns false or a line outgrows
  // kMaxLine; the reader is then spent.
  bool feed(std::string_view bytes, const std::function<bool(std::string_view)>& on_data);

  // Bytes of an unfinished last line (a stream that ended cleanly leaves 0).
  size_t pending() const { return partial_.size(); }

 private:
  std::string partial_;
};

}  // namespace xnai::server
