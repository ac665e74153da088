// Options shared by the speech commands (speak, voices, phonemes): which engine speaks and
// where the Kokoro files are. One place so every command spells them the same way.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "cli/args.h"
#include "speech/tts_engine.h"

namespace xnai::cli {

// --kokoro PATH (env KOKORO_MODEL_DIR), --voice NAME (env XNAI_VOICE).
std::vector<OptionSpec> speech_engine_option_specs();

// The engine the options ask for: Kokoro when --kokoro / KOKORO_MODEL_DIR names model files,
// else the espeak-ng fallback voice.
std::shared_ptr<speech::TtsEngine> make_tts_engine(const Args& args);

// The text argument(s) joined by spaces, else all of stdin when it is not a terminal.
// Throws Error(InvalidArgument) when there is neither.
std::string text_argument(const Args& args, const std::string& command);

}  // namespace xnai::cli
