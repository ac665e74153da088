#include "speech/phoneme_chunker.h"

#include <gtest/gtest.h>

#include <sstream>

namespace xnai::speech {
namespace {

using Strings = std::vector<std::string>;

TEST(SplitSentences, IcuAndLineBreaks) {
  EXPECT_EQ(split_sentences("Hello there. How are you?\nFine!  "), (Strings{"Hello there.", "How are you?", "Fine!"}));
  EXPECT_EQ(split_sentences("Mr. Smith arrived. He sat down."), (Strings{"Mr. Smith arrived.", "He sat down."}));
  EXPECT_EQ(split_sentences("\n\n  \n"), Strings{});
}

// split_phonemes works on strings we write ourselves, so each cut can be predicted exactly.
TEST(SplitPhonemes, PrefersStrongerPunctuation) {
  // Window of 16: "ab cd, ef gh; ij" fits; ';' beats ','.
  EXPECT_EQ(split_phonemes("ab cd, ef hk; ij kl mn", 16), (Strings{"ab cd, ef hk;", "ij kl mn"}));
  // '.' beats ';' even when it comes earlier.
  EXPECT_EQ(split_phonemes("ab. cd; ef hk ij", 12), (Strings{"ab.", "cd; ef hk ij"}));
}

TEST(SplitPhonemes, ClosingQuoteStaysWithItsSentence) {
  EXPECT_EQ(split_phonemes("ab cd.” ef hk", 10), (Strings{"ab cd.”", "ef hk"}));
}

TEST(SplitPhonemes, WordBoundaryWhenNoPunctuation) {
  EXPECT_EQ(split_phonemes("aaaa bbbb cccc dddd", 10), (Strings{"aaaa bbbb", "cccc dddd"}));
}

TEST(SplitPhonemes, OnlyAnImpossiblyLongWordIsCut) {
  EXPECT_EQ(split_phonemes("abcdefhijklmnopqrstuvwxyz", 16), (Strings{"abcdefhijklmnopq", "rstuvwxyz"}));
}

TEST(SplitPhonemes, ShortInputIsOneChunkAndDropsUnknownSymbols) {
  EXPECT_EQ(split_phonemes("həlˈO^, wˈɜɹld!"), (Strings{"həlˈO, wˈɜɹld!"}));
  EXPECT_EQ(split_phonemes(""), Strings{});
}

// Words of a text, in order, ignoring punctuation.
Strings words(const std::string& s) {
  std::string clean;
  for (char c : s) clean += (c == ',' || c == '.' || c == ';') ? ' ' : c;
  std::istringstream in(clean);
  Strings out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

TEST(PhonemeChunker, LongSentenceIsCutAtCommasNeverMidWord) {
  const Phonemizer p("en-us");
  const PhonemeChunker chunker(p, {60, false});
  const std::string sentence =
      "The quick brown fox jumps over the lazy dog, then the dog wakes up and chases the fox around the "
      "garden, and finally both of them fall asleep under the old apple tree near the river.";
  const auto chunks = chunker.chunk_sentence(sentence);
  ASSERT_GE(chunks.size(), 3u);
  std::string rejoined;
  for (const auto& c : chunks) {
    EXPECT_LE(phoneme_length(c.phonemes), 60u) << c.phonemes;
    rejoined += (rejoined.empty() ? "" : " ") + c.text;
    // A cut lands after a comma (or at the end) unless a clause alone is longer than 60.
    EXPECT_TRUE(c.text.back() == ',' || c.text.back() == '.' || phoneme_length(p.phonemize(c.text)) > 50) << c.text;
  }
  EXPECT_EQ(words(rejoined), words(sentence));  // nothing lost, no word cut
}

TEST(PhonemeChunker, UnpunctuatedRunIsCutBetweenWords) {
  const Phonemizer p("en-us");
  const PhonemeChunker chunker(p, {40, false});
  std::string sentence;
  for (int i = 0; i < 30; ++i) {
    if (i) sentence += ' ';
    sentence += i % 2 ? "banana" : "apple";
  }
  const auto chunks = chunker.chunk_sentence(sentence);
  ASSERT_GE(chunks.size(), 4u);
  std::string rejoined;
  for (const auto& c : chunks) {
    EXPECT_LE(phoneme_length(c.phonemes), 40u);
    rejoined += (rejoined.empty() ? "" : " ") + c.text;
    for (const auto& w : words(c.text)) EXPECT_TRUE(w == "apple" || w == "banana") << c.text;
  }
  EXPECT_EQ(rejoined, sentence);
}

TEST(PhonemeChunker, MergesShortSentencesOnlyWhenAsked) {
  const Phonemizer p("en-us");
  const std::string text = "One. Two. Three.";
  const auto merged = PhonemeChunker(p, {510, true}).chunk_text(text);
  ASSERT_EQ(merged.size(), 1u);
  EXPECT_EQ(merged[0].text, text);
  EXPECT_EQ(merged[0].phonemes, "wˈʌn. tˈu. θɹˈi.");
  const auto separate = PhonemeChunker(p, {510, false}).chunk_text(text);
  ASSERT_EQ(separate.size(), 3u);
  EXPECT_EQ(separate[2].sentence, 2u);
  EXPECT_EQ(separate[1].phonemes, "tˈu.");
}

}  // namespace
}  // namespace xnai::speech
