// Incremental stop-string matching for streamed text.
//
// Generated text arrives in pieces (one per token) and a stop string may be split across pieces
// ("<|im_" + "end|>"). StopStrings decides, after each piece, how much text is safe to show the
// user now: everything except a trailing part that could still grow into a stop string. When a
// stop string completes, the text before it is released and the rest is dropped.
//
// Matching is on bytes. Pieces may split UTF-8 sequences; as long as the stop strings are valid
// UTF-8 and the stream as a whole is, a held-back suffix always starts at a character boundary, so
// released text never ends inside a character that the held part completes.
// Not thread-safe; one instance per generation stream. The held text never exceeds the longest stop
// string plus one piece, so feed() costs O(piece + stops · longest stop).
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace xnai::runtime {

class StopStrings {
 public:
  struct Result {
    std::string text;      // safe to emit now; on a stop, the remaining text before the stop string
    bool stopped = false;  // a stop string completed in this feed (or an earlier one)
  };

  // Throws Error(InvalidArgument) for an empty stop string. No stop strings is allowed: every
  // piece passes straight through.
  explicit StopStrings(std::vector<std::string> stops);

  // Adds the next piece. After a stop every further feed returns {"", true}.
  Result feed(std::string_view piece);

  // End of generation without a stop: returns the held-back text (empty after a stop).
  std::string flush();

  // Forgets held text and any stop, for a new stream.
  void reset();

  bool stopped() const { return stopped_index_ >= 0; }
  // The stop string that ended the stream, or empty.
  std::string_view matched() const;
  const std::vector<std::string>& stops() const { return stops_; }

 private:
  // Length of the longest suffix of pending_ that is a proper prefix of some stop string.
  size_t held_suffix_length() const;

  std::vector<std::string> stops_;
  std::string pending_;  // text not yet emitted: only ever a possible start of a stop string
  int stopped_index_ = -1;
};

}  // namespace xnai::runtime
