// `xnai phonemes`: what Kokoro will see for a text — normalised, split into sentences,
// phonemised with espeak-ng and mapped onto Kokoro's vocabulary, one line per chunk (a
// chunk is one forward pass, at most 510 phonemes).
#include <cstdio>

#include "cli/args.h"
#include "cli/speech_options.h"
#include "core/error.h"
#include "speech/phoneme_chunker.h"
#include "speech/phonemizer.h"
#include "speech/text_normalizer.h"

namespace xnai::cli {

int run_phonemes(const std::vector<std::string>& argv) {
  Args args("phonemes", {
                            {"--lang", "-l", true, "en-us, en-gb, es, fr-fr, hi, it, pt-br (default: from --voice, else en-us)", ""},
                            {"--voice", "", true, "take the language from a Kokoro voice name (af_… = en-us, bf_… = en-gb …)", "XNAI_VOICE"},
                            {"--no-normalize", "", false, "do not spell out numbers, abbreviations and URLs", ""},
                        });
  args.parse(argv);
  if (args.has("--help")) {
    std::printf("usage: xnai phonemes \"text\" [--lang L]   (no text: read stdin)\n%s", args.usage().c_str());
    return 0;
  }
  std::string lang = "en-us";
  if (auto l = args.get("--lang")) lang = speech::checked_language(*l);
  else if (auto v = args.get("--voice")) lang = speech::language_for_voice(*v);
  const std::string text = text_argument(args, "phonemes");
  const speech::Phonemizer phonemizer(lang);
  const speech::PhonemeChunker chunker(phonemizer);
  const std::string normalized = args.has("--no-normalize") ? text : speech::normalize_text(text, lang);
  for (const auto& c : chunker.chunk_text(normalized)) std::printf("%s\n", c.phonemes.c_str());
  return 0;
}

}  // namespace xnai::cli
