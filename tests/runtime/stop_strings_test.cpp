#include "runtime/stop_strings.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"

namespace xnai::runtime {
namespace {

// Feeds pieces until a stop and returns everything emitted (plus the flush when no stop came).
struct Run {
  std::string emitted;
  std::vector<std::string> per_piece;
  bool stopped = false;
};

Run feed_all(StopStrings& s, const std::vector<std::string>& pieces) {
  Run r;
  for (const auto& piece : pieces) {
    auto out = s.feed(piece);
    r.per_piece.push_back(out.text);
    r.emitted += out.text;
    if (out.stopped) {
      r.stopped = true;
      return r;
    }
  }
  r.emitted += s.flush();
  return r;
}

TEST(StopStrings, NoStopsPassThrough) {
  StopStrings s({});
  auto r = feed_all(s, {"Hello", ", ", "world"});
  EXPECT_FALSE(r.stopped);
  EXPECT_EQ(r.per_piece, (std::vector<std::string>{"Hello", ", ", "world"}));
  EXPECT_EQ(r.emitted, "Hello, world");
}

TEST(StopStrings, StopSplitAcrossPieces) {
  StopStrings s({"<|im_end|>"});
  auto r = feed_all(s, {"The answer", " is 42.<|im", "_e", "nd|>", "ignored"});
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.emitted, "The answer is 42.");
  // "<|im" and "_e" are held back until the stop completes.
  EXPECT_EQ(r.per_piece, (std::vector<std::string>{"The answer", " is 42.", "", ""}));
  EXPECT_EQ(s.matched(), "<|im_end|>");
  EXPECT_TRUE(s.stopped());
  auto after = s.feed("more");
  EXPECT_TRUE(after.stopped);
  EXPECT_EQ(after.text, "");
  EXPECT_EQ(s.flush(), "");
}

TEST(StopStrings, HeldPrefixIsReleasedWhenItStopsMatching) {
  StopStrings s({"<|im_end|>"});
  EXPECT_EQ(s.feed("a <|im").text, "a ");
  EXPECT_EQ(s.feed("_start|>b").text, "<|im_start|>b");
  EXPECT_FALSE(s.stopped());
}

TEST(StopStrings, StopInsideOnePieceCutsTheRest) {
  StopStrings s({"\n\nUser:"});
  auto out = s.feed("Sure.\n\nUser: next question");
  EXPECT_TRUE(out.stopped);
  EXPECT_EQ(out.text, "Sure.");
}

TEST(StopStrings, EarliestOfSeveralStopsWins) {
  StopStrings s({"STOP", "END"});
  auto r = feed_all(s, {"abc EN", "D then STOP"});
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.emitted, "abc ");
  EXPECT_EQ(s.matched(), "END");

  StopStrings t({"STOP", "END"});
  auto out = t.feed("x STOP y END");
  EXPECT_EQ(out.text, "x ");
  EXPECT_EQ(t.matched(), "STOP");
}

TEST(StopStrings, OverlappingPrefixes) {
  // "aab": after "aa" both "a" and "aa" could start the stop; the matcher must not lose the
  // shifted match when the third byte is another 'a'.
  StopStrings s({"aab"});
  auto r = feed_all(s, {"xa", "a", "a", "b", "tail"});
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.emitted, "xa");
  EXPECT_EQ(r.per_piece, (std::vector<std::string>{"x", "", "a", ""}));

  // Stops that are prefixes of each other: the shorter one completes first.
  StopStrings t({"</s>", "</"});
  auto out = t.feed("done</");
  EXPECT_TRUE(out.stopped);
  EXPECT_EQ(out.text, "done");
  EXPECT_EQ(t.matched(), "</");
}

TEST(StopStrings, ByteAtATime) {
  const std::string text = "Hello <|eot_id|> world";
  StopStrings s({"<|eot_id|>", "<|end_of_text|>"});
  std::vector<std::string> pieces;
  for (char c : text) pieces.emplace_back(1, c);
  auto r = feed_all(s, pieces);
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.emitted, "Hello ");
  EXPECT_EQ(s.matched(), "<|eot_id|>");
}

TEST(StopStrings, FlushReturnsHeldTextAtEnd) {
  StopStrings s({"###"});
  EXPECT_EQ(s.feed("result ##").text, "result ");
  EXPECT_EQ(s.flush(), "##");
  EXPECT_FALSE(s.stopped());
  EXPECT_EQ(s.flush(), "");
}

TEST(StopStrings, Utf8StopStrings) {
  StopStrings s({"。終"});
  auto r = feed_all(s, {"答え", "\xE3\x80", "\x82", "\xE7\xB5\x82", "x"});
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.emitted, "答え");
  // A different character sharing the first bytes is released whole once it diverges.
  StopStrings t({"。終"});
  EXPECT_EQ(t.feed("a\xE3\x80").text, "a");
  EXPECT_EQ(t.feed("\x81").text, "\xE3\x80\x81");
}

TEST(StopStrings, ResetStartsOver) {
  StopStrings s({"END"});
  s.feed("xEND");
  ASSERT_TRUE(s.stopped());
  s.reset();
  EXPECT_FALSE(s.stopped());
  EXPECT_EQ(s.matched(), "");
  EXPECT_EQ(s.feed("abc").text, "abc");
}

TEST(StopStrings, EmptyStopStringIsRejected) {
  try {
    StopStrings s({"ok", ""});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("stop string 1"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace xnai::runtime
