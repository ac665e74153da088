// `xnai speak`: text to speech. Audio is encoded and written sentence by sentence as the
// engine produces it. Output: -o FILE (format from the extension or --format); without -o,
// the encoded stream goes to stdout when stdout is not a terminal, else to a player (aplay,
// paplay) when one is installed, else to speech.wav. One line on stderr names the engine.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "cli/args.h"
#include "cli/speech_options.h"
#include "core/error.h"
#include "speech/audio_encoder.h"
#include "speech/speech_service.h"

namespace xnai::cli {
namespace {

// The first of `names` found on PATH, or "".
std::string find_program(std::initializer_list<const char*> names) {
  const char* path = std::getenv("PATH");
  if (!path) return "";
  for (const char* name : names) {
    std::string dirs = path;
    size_t start = 0;
    while (start <= dirs.size()) {
      size_t end = dirs.find(':', start);
      if (end == std::string::npos) end = dirs.size();
      const std::filesystem::path p = std::filesystem::path(dirs.substr(start, end - start)) / name;
      if (::access(p.c_str(), X_OK) == 0) return p.string();
      start = end + 1;
    }
  }
  return "";
}

struct PipeCloser {
  void operator()(FILE* f) const {
    if (f) ::pclose(f);
  }
};

}  // namespace

int run_speak(const std::vector<std::string>& argv) {
  auto specs = speech_engine_option_specs();
  specs.push_back({"--output", "-o", true, "write audio to FILE (.wav .flac .ogg .opus .mp3 .pcm)", ""});
  specs.push_back({"--format", "-f", true, "wav, wav-float, flac, ogg, opus, mp3 or pcm (default: from -o, else wav)", ""});
  specs.push_back({"--speed", "-s", true, "speaking rate, 1 = normal (0.5..2 for Kokoro)", ""});
  specs.push_back({"--phonemes", "", true, "speak these Kokoro phonemes instead of text (no G2P; Kokoro only)", ""});
  specs.push_back({"--deterministic", "", false, "Kokoro: the reference's deterministic noise (espeak-ng always is)", ""});
  specs.push_back({"--no-normalize", "", false, "do not spell out numbers, abbreviations and URLs", ""});
  Args args("speak", specs);
  args.parse(argv);
  if (args.has("--help")) {
    std::printf("usage: xnai speak \"text\" [-o out.wav] [--voice V] [--speed S] [--format F]   (no text: stdin)\n%s",
                args.usage().c_str());
    return 0;
  }
  const auto engine = make_tts_engine(args);
  speech::SpeechOptions options = speech::SpeechOptions::from_env();
  options.voice = args.get_or("--voice", "");
  options.speed = args.get_double("--speed", 1.0);
  options.normalize = !args.has("--no-normalize");
  if (!(options.speed > 0)) throw Error(ErrorKind::InvalidArgument, "--speed must be positive");
  speech::SpeechService service(engine, options);  // an unknown voice fails here

  const auto phonemes = args.get("--phonemes");
  const std::string text = phonemes ? std::string() : text_argument(args, "speak");
  const auto out_path = args.get("--output");

  speech::AudioFormat format = speech::AudioFormat::Wav;
  if (auto f = args.get("--format")) {
    format = speech::parse_audio_format(*f);
  } else if (out_path) {
    const auto by_ext = speech::audio_format_for_path(*out_path);
    if (!by_ext)
      throw Error(ErrorKind::InvalidArgument, "cannot tell the audio format of '" + *out_path +
                                                  "' from its extension; pass --format (wav, flac, ogg, opus, mp3, pcm)");
    format = *by_ext;
  }
  const int rate = engine->sample_rate();
  speech::check_audio_format_supported(format, rate);

  std::unique_ptr<FILE, PipeCloser> player;
  std::unique_ptr<speech::AudioEncoder> encoder;
  std::string destination;
  if (out_path) {
    encoder = speech::AudioEncoder::open_file(*out_path, format, rate);
    destination = *out_path;
  } else if (!::isatty(STDOUT_FILENO)) {
    encoder = speech::AudioEncoder::open_stream(
        [](const char* d, size_t n) {
          if (std::fwrite(d, 1, n, stdout) != n) throw Error(ErrorKind::Io, "writing audio to stdout failed");
          std::fflush(stdout);
        },
        format, rate);
    destination = "stdout";
  } else if (const std::string prog = find_program({"aplay", "paplay"}); !prog.empty()) {
    // Players get a WAV stream on stdin whatever --format says: they all read WAV.
    const std::string cmd = prog.ends_with("aplay") && !prog.ends_with("paplay") ? prog + " -q -" : prog;
    player.reset(::popen(cmd.c_str(), "w"));
    if (!player) throw Error(ErrorKind::Io, "cannot start " + prog);
    FILE* pipe = player.get();
    encoder = speech::AudioEncoder::open_stream(
        [pipe](const char* d, size_t n) {
          if (std::fwrite(d, 1, n, pipe) != n) throw Error(ErrorKind::Io, "the audio player stopped reading");
          std::fflush(pipe);
        },
        speech::AudioFormat::Wav, rate);
    destination = prog;
  } else {
    destination = "speech.wav";
    encoder = speech::AudioEncoder::open_file(destination, format == speech::AudioFormat::Wav ? format : speech::AudioFormat::Wav, rate);
    std::fprintf(stderr, "xnai speak: no audio player (aplay, paplay) found; writing speech.wav\n");
  }
  std::fprintf(stderr, "xnai speak: engine %s, voice %s, %d Hz → %s\n", engine->name().c_str(),
               (options.voice.empty() ? engine->default_voice() : options.voice).c_str(), rate, destination.c_str());

  auto on_chunk = [&](const speech::SpokenChunk& c) {
    if (c.audio.sample_rate != rate)
      throw Error(ErrorKind::Internal, engine->name() + " returned " + std::to_string(c.audio.sample_rate) +
                                           " Hz audio, not its declared " + std::to_string(rate) + " Hz");
    encoder->write(c.audio.samples);
  };
  const size_t chunks = phonemes ? service.speak_phonemes(*phonemes, on_chunk) : service.speak(text, on_chunk);
  encoder->finish();
  if (out_path)
    std::fprintf(stderr, "xnai speak: wrote %s (%.2f s of audio, %zu chunk%s)\n", out_path->c_str(),
                 double(encoder->frames_written()) / rate, chunks, chunks == 1 ? "" : "s");
  return 0;
}

}  // namespace xnai::cli
