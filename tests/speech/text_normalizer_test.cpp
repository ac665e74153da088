// Expected strings are how a person reads the text aloud (American English), written by hand.
#include "speech/text_normalizer.h"

#include <gtest/gtest.h>

namespace xnai::speech {
namespace {

TEST(NumberWords, Cardinals) {
  EXPECT_EQ(cardinal_words(0), "zero");
  EXPECT_EQ(cardinal_words(7), "seven");
  EXPECT_EQ(cardinal_words(13), "thirteen");
  EXPECT_EQ(cardinal_words(40), "forty");
  EXPECT_EQ(cardinal_words(99), "ninety-nine");
  EXPECT_EQ(cardinal_words(100), "one hundred");
  EXPECT_EQ(cardinal_words(1234), "one thousand two hundred thirty-four");
  EXPECT_EQ(cardinal_words(1000001), "one million one");
  EXPECT_EQ(cardinal_words(-12), "minus twelve");
  EXPECT_EQ(cardinal_words(2000000000000), "two trillion");
}

TEST(NumberWords, OrdinalsAndYears) {
  EXPECT_EQ(ordinal_words(1), "first");
  EXPECT_EQ(ordinal_words(2), "second");
  EXPECT_EQ(ordinal_words(3), "third");
  EXPECT_EQ(ordinal_words(12), "twelfth");
  EXPECT_EQ(ordinal_words(20), "twentieth");
  EXPECT_EQ(ordinal_words(21), "twenty-first");
  EXPECT_EQ(ordinal_words(100), "one hundredth");
  EXPECT_EQ(year_words(1990), "nineteen ninety");
  EXPECT_EQ(year_words(1905), "nineteen oh five");
  EXPECT_EQ(year_words(1900), "nineteen hundred");
  EXPECT_EQ(year_words(2000), "two thousand");
  EXPECT_EQ(year_words(2005), "two thousand five");
  EXPECT_EQ(year_words(2024), "twenty twenty-four");
}

TEST(Normalize, NumbersInText) {
  EXPECT_EQ(normalize_text("I have 3 cats and 1,250 fish."), "I have three cats and one thousand two hundred fifty fish.");
  EXPECT_EQ(normalize_text("Pi is 3.14."), "Pi is three point one four.");
  EXPECT_EQ(normalize_text("It was -5 outside."), "It was minus five outside.");
  EXPECT_EQ(normalize_text("On May 1st, 1990 we met."), "On May first, nineteen ninety we met.");
  EXPECT_EQ(normalize_text("the 22nd and 103rd"), "the twenty-second and one hundred third");
  EXPECT_EQ(normalize_text("Agent 007"), "Agent zero zero seven");
  EXPECT_EQ(normalize_text("at 3:30 or 10:05 or 7:00"), "at three thirty or ten oh five or seven o'clock");
}

TEST(Normalize, MoneyAndPercent) {
  EXPECT_EQ(normalize_text("It costs $3.50."), "It costs three dollars and fifty cents.");
  EXPECT_EQ(normalize_text("$1 and $0.99"), "one dollar and ninety-nine cents");
  EXPECT_EQ(normalize_text("£20 or €5"), "twenty pounds or five euros");
  EXPECT_EQ(normalize_text("$2.5 million"), "two point five million dollars");
  EXPECT_EQ(normalize_text("Up 12.5% today"), "Up twelve point five percent today");
}

TEST(Normalize, Abbreviations) {
  EXPECT_EQ(normalize_text("Dr. Smith met Mr. and Mrs. Jones."), "Doctor Smith met Mister and Missus Jones.");
  EXPECT_EQ(normalize_text("She lives on Elm St. with Prof. Brown."), "She lives on Elm Street with Professor Brown.");
  EXPECT_EQ(normalize_text("Fruit, e.g. apples, i.e. food."), "Fruit, for example apples, that is food.");
  EXPECT_EQ(normalize_text("Bread, milk, etc. Then home."), "Bread, milk, et cetera. Then home.");
  EXPECT_EQ(normalize_text("cats vs. dogs & mice"), "cats versus dogs and mice");
}

TEST(Normalize, AddressesSpokenPlainly) {
  EXPECT_EQ(normalize_text("See https://www.example.com/docs/intro."),
            "See www dot example dot com slash docs slash intro.");
  EXPECT_EQ(normalize_text("Write to john.doe@example.org!"), "Write to john dot doe at example dot org!");
}

TEST(Normalize, OtherLanguagesOnlyTidySpaces) {
  EXPECT_EQ(normalize_text("Il a  3 chats.", "fr-fr"), "Il a 3 chats.");
}

}  // namespace
}  // namespace xnai::speech
