// Process-wide access to libespeak-ng. The library keeps one global translator, voice and
// synthesizer, so it is not thread-safe: every call into it (G2P and synthesis alike) must
// hold the lock returned by lock_espeak(). Private to speech/.
#pragma once
#include <mutex>
#include <string>

namespace xnai::speech::detail {

// Locks espeak-ng and initialises it on first use (synchronous mode, no audio device).
// Throws Error(NotFound) when its data (espeak-ng-data) cannot be found.
std::unique_lock<std::mutex> lock_espeak();

// espeak-ng's native output rate in Hz (22050 for the stock voices). Requires the lock.
int espeak_native_sample_rate();

// Selects the voice for a language code such as "en-us" or "fr-fr" (cached: a repeated
// selection costs nothing). Requires the lock. Throws Error(NotFound) naming the language.
void select_espeak_language(const std::string& language);

}  // namespace xnai::speech::detail
