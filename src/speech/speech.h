// The public interface of speech/: include this one header.
#pragma once
#include "speech/audio_encoder.h"
#include "speech/espeak_engine.h"
#include "speech/phoneme_chunker.h"
#include "speech/phonemizer.h"
#include "speech/resampler.h"
#include "speech/speech_service.h"
#include "speech/text_normalizer.h"
#include "speech/tts_engine.h"
