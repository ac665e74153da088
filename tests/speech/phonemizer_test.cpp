// Expected phonemes are misaki-style transcriptions worked out by hand (kokoro-spec.md §7),
// not captured from our own output.
#include "speech/phonemizer.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "core/error.h"
#include "speech/utf8.h"
#include "test_support.h"

namespace xnai::speech {
namespace {

TEST(KokoroVocab, MatchesConfigJson) {
  XNAI_SKIP_IF_MISSING(path, "kokoro/kokoro-82m-v1.0-config.json");
  std::ifstream in(path);
  const auto config = nlohmann::json::parse(in);
  const auto& vocab = config.at("vocab");
  ASSERT_EQ(vocab.size(), 114u);
  for (const auto& [key, id] : vocab.items()) {
    size_t pos = 0;
    const char32_t cp = detail::utf8_next(key, pos);
    ASSERT_EQ(pos, key.size()) << "vocab key is one code point: " << key;
    EXPECT_TRUE(in_kokoro_vocab(cp)) << key << " (id " << id << ")";
  }
  // Symbols the tokenizer would drop.
  for (char32_t cp : {U'g', U'^', U'ɫ', U'-', U'\'', U'ʍ', U'\u0329'}) EXPECT_FALSE(in_kokoro_vocab(cp)) << int(cp);
}

TEST(KokoroVocab, FilterAndLength) {
  EXPECT_EQ(filter_to_kokoro_vocab("t^ʃa-b'g"), "tʃab");
  EXPECT_EQ(phoneme_length("ʧˈɜɹʧ"), 5u);
  EXPECT_EQ(phoneme_length("bɔ̃"), 3u);  // the combining tilde counts
}

TEST(EspeakMapping, EnglishAmerican) {
  EXPECT_EQ(map_espeak_ipa("t^ʃˈɜːt^ʃ d^ʒˈʌd^ʒ", "en-us"), "ʧˈɜɹʧ ʤˈʌʤ");
  EXPECT_EQ(map_espeak_ipa("həlˈo^ʊ", "en-us"), "həlˈO");
  EXPECT_EQ(map_espeak_ipa("tədˈe^ɪ", "en-us"), "tədˈA");
  EXPECT_EQ(map_espeak_ipa("hˌa^ʊ a^ɪ ɔ^ɪ", "en-us"), "hˌW I Y");
  EXPECT_EQ(map_espeak_ipa("ɹˈi^əli", "en-us"), "ɹˈiəli");
  EXPECT_EQ(map_espeak_ipa("bˈʌɾɚ", "en-us"), "bˈʌTəɹ");
  EXPECT_EQ(map_espeak_ipa("bˈʌʔn̩", "en-us"), "bˈʌtn");
  EXPECT_EQ(map_espeak_ipa("bˈɑːɾl̩", "en-us"), "bˈɑTᵊl");
  EXPECT_EQ(map_espeak_ipa("bˈa^ɪsɪkə^l", "en-us"), "bˈIsɪkᵊl");
  EXPECT_EQ(map_espeak_ipa("nˈɪə wˈɜːld", "en-us"), "nˈiə wˈɜɹld");
  EXPECT_EQ(map_espeak_ipa("ɑː^ɹ", "en-us"), "ɑɹ");
  EXPECT_EQ(map_espeak_ipa("lˈɒx", "en-us"), "lˈɒk");
}

TEST(EspeakMapping, EnglishBritish) {
  EXPECT_EQ(map_espeak_ipa("həlˈə^ʊ", "en-gb"), "həlˈQ");
  EXPECT_EQ(map_espeak_ipa("nˌi^ə hˈe^ə", "en-gb"), "nˌɪə hˈɛː");
  EXPECT_EQ(map_espeak_ipa("nˈɜːs ɑː", "en-gb"), "nˈɜːs ɑː");  // British keeps length marks
  EXPECT_EQ(map_espeak_ipa("ɹˈe^ɪn", "en-gb"), "ɹˈAn");
}

TEST(EspeakMapping, OtherLanguages) {
  EXPECT_EQ(map_espeak_ipa("bɔ̃ʒˈuʁ lə- mˈɔ̃d", "fr-fr"), "bɔ̃ʒˈuʁ lə mˈɔ̃d");
  EXPECT_EQ(map_espeak_ipa("t^ʃˈao", "it"), "ʧˈao");
  EXPECT_EQ(map_espeak_ipa("nˌɐ̃^ʊ̃ sˈe^ɪ", "pt-br"), "nˌɐ̃ʊ̃ sˈA");
  EXPECT_EQ(map_espeak_ipa("pˈit^sa d^zˈeta", "it"), "pˈiʦa ʣˈeta");
  EXPECT_EQ(map_espeak_ipa("pˈero", "es"), "pˈero");  // Spanish keeps its trill r
}

TEST(Phonemizer, AmericanSentenceWithPunctuation) {
  const Phonemizer p("en-us");
  EXPECT_EQ(p.phonemize("Hello, world!"), "həlˈO, wˈɜɹld!");
  EXPECT_EQ(p.phonemize("The church judge."), "ðə ʧˈɜɹʧ ʤˈʌʤ.");
  EXPECT_EQ(p.phonemize("(yes) “no”"), "(jˈɛs) “nˈO”");
  EXPECT_EQ(p.phonemize("yes -- no"), "jˈɛs — nˈO");
  EXPECT_EQ(p.phonemize("«no»"), "“nˈO”");
}

TEST(Phonemizer, BritishAndFrench) {
  EXPECT_EQ(Phonemizer("en-gb").phonemize("Hair."), "hˈɛː.");
  EXPECT_EQ(Phonemizer("fr-fr").phonemize("Bonjour!"), "bɔ̃ʒˈuʁ!");
}

TEST(Phonemizer, OutputIsAlwaysInVocab) {
  const Phonemizer p("en-us");
  const std::string ps = p.phonemize("Loch Ness, Bach's fugue; the naïve café — 'quoted' … ¿what? 3.5 x-ray!");
  ASSERT_FALSE(ps.empty());
  for (size_t pos = 0; pos < ps.size();) EXPECT_TRUE(in_kokoro_vocab(detail::utf8_next(ps, pos))) << ps;
}

TEST(Phonemizer, SpansCoverTheTextInOrder) {
  const Phonemizer p("en-us");
  const std::string text = "one two, three four.";
  const auto runs = p.phonemize_spans(text);
  ASSERT_EQ(runs.size(), 4u);  // "one two" "," "three four" "."
  EXPECT_EQ(text.substr(runs[0].text_begin, runs[0].text_end - runs[0].text_begin), "one two");
  EXPECT_TRUE(runs[1].punctuation);
  EXPECT_FALSE(runs[1].space_before);
  EXPECT_TRUE(runs[2].space_before);
  const auto words = p.phonemize_spans(text, /*per_word=*/true);
  ASSERT_EQ(words.size(), 6u);
  EXPECT_EQ(text.substr(words[4].text_begin, words[4].text_end - words[4].text_begin), "four");
  EXPECT_EQ(Phonemizer::join(words, 0, words.size()), Phonemizer::join(runs, 0, runs.size()));
}

TEST(Phonemizer, Languages) {
  EXPECT_EQ(language_for_voice("af_heart"), "en-us");
  EXPECT_EQ(language_for_voice("bm_george"), "en-gb");
  EXPECT_EQ(language_for_voice("ef_dora"), "es");
  EXPECT_EQ(language_for_voice("ff_siwis"), "fr-fr");
  EXPECT_EQ(language_for_voice("hf_alpha"), "hi");
  EXPECT_EQ(language_for_voice("im_nicola"), "it");
  EXPECT_EQ(language_for_voice("pm_alex"), "pt-br");
  EXPECT_EQ(language_for_voice("af_bella:2+af_sky:1"), "en-us");
  EXPECT_EQ(language_for_voice("/voices/bf_emma.pt"), "en-gb");
  EXPECT_EQ(language_for_voice("EN-GB"), "en-gb");
  EXPECT_THROW(language_for_voice("jf_alpha"), Error);
  try {
    Phonemizer p("de");
    FAIL() << "German has no mapping";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::NotFound);
    EXPECT_NE(std::string(e.what()).find("en-gb"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace xnai::speech
