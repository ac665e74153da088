#include "speech/espeak_library.h"

#include <espeak-ng/speak_lib.h>

#include "core/error.h"

namespace xnai::speech::detail {
namespace {

std::mutex g_mutex;
bool g_initialised = false;
int g_sample_rate = 0;
std::string g_language;

}  // namespace

std::unique_lock<std::mutex> lock_espeak() {
  std::unique_lock<std::mutex> lock(g_mutex);
  if (!g_initialised) {
    // Options 0: no phoneme events, espeak's default data path (or ESPEAK_DATA_PATH).
    const int rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, nullptr, 0);
    if (rate <= 0)
      throw Error(ErrorKind::NotFound,
                  "espeak-ng could not be initialised (is espeak-ng-data installed? ESPEAK_DATA_PATH may point to it)");
    g_sample_rate = rate;
    g_initialised = true;
  }
  return lock;
}

int espeak_native_sample_rate() { return g_sample_rate; }

void select_espeak_language(const std::string& language) {
  if (language == g_language) return;
  // By properties, not by name: "en-gb" is a language of the voice file "gmw/en", and
  // espeak_SetVoiceByName only matches file names.
  espeak_VOICE wanted{};
  wanted.languages = language.c_str();
  if (espeak_SetVoiceByProperties(&wanted) != EE_OK)
    throw Error(ErrorKind::NotFound, "espeak-ng has no voice for language '" + language + "'");
  g_language = language;
}

}  // namespace xnai::speech::detail
