#include "cli/speech_options.h"

#include <unistd.h>

#include <iostream>
#include <iterator>

#include "core/error.h"
#include "hub/hub.h"
#include "speech/espeak_engine.h"
#include "speech/kokoro_engine.h"

namespace xnai::cli {

std::vector<OptionSpec> speech_engine_option_specs() {
  return {
      {"--kokoro", "", true, "Kokoro model: kokoro-v1_0.pth (config.json beside it) or a directory with voices/",
       "KOKORO_MODEL_DIR"},
      {"--voice", "", true, "voice name (xnai voices lists them)", "XNAI_VOICE"},
  };
}

std::shared_ptr<speech::TtsEngine> make_tts_engine(const Args& args) {
  speech::KokoroEngineOptions ko;
  ko.deterministic_noise = args.has("--deterministic");
  if (const auto kokoro = args.get("--kokoro")) {
    ko.path = hub::resolve_model(*kokoro, hub::ModelKind::Tts);
    return std::make_shared<speech::KokoroEngine>(ko);
  }
  // No flag: the Kokoro folder `xnai pull --recommended` made the default, else espeak-ng
  // (always there; the command names the engine it used).
  try {
    ko.path = hub::resolve_model("", hub::ModelKind::Tts);
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::InvalidArgument && e.kind() != ErrorKind::NotFound) throw;
    return std::make_shared<speech::EspeakEngine>();
  }
  return std::make_shared<speech::KokoroEngine>(ko);
}

std::string text_argument(const Args& args, const std::string& command) {
  std::string text;
  for (const auto& p : args.positionals()) text += (text.empty() ? "" : " ") + p;
  if (!text.empty()) return text;
  if (::isatty(STDIN_FILENO))
    throw Error(ErrorKind::InvalidArgument, "no text given: pass it as an argument or pipe it in (xnai " + command +
                                                " \"Hello.\" or echo Hello. | xnai " + command + ")");
  text.assign(std::istreambuf_iterator<char>(std::cin), {});
  if (text.find_first_not_of(" \t\r\n") == std::string::npos)
    throw Error(ErrorKind::InvalidArgument, "the text read from stdin is empty");
  return text;
}

}  // namespace xnai::cli
