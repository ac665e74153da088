// Mono float audio → wav (PCM16 or float), flac, ogg/vorbis, ogg/opus, mp3 (through
// libsndfile, where the installed build supports them) or raw PCM s16le. An encoder takes
// samples as they come, so speech can be written sentence by sentence.
//
// Files get exact headers (libsndfile rewrites them at the end). Streams (a callback that
// receives bytes as soon as the codec produces them, e.g. a pipe or an HTTP response) cannot
// seek back: WAV streams then carry 0xFFFFFFFF as their RIFF and data sizes — the usual
// "length unknown" convention of pipes, which libsndfile, sox, ffmpeg and aplay read to the
// end — FLAC streams leave the total-samples field 0 (unknown), and MP3 streams are constant
// bit rate without a Xing/LAME header. An encoder is used from one thread at a time.
#pragma once
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace xnai::speech {

enum class AudioFormat { Wav, WavFloat, Flac, Ogg, Opus, Mp3, Pcm };

// "wav", "wav-float", "flac", "ogg", "opus", "mp3", "pcm" (raw s16le, no header).
const char* audio_format_name(AudioFormat format);
// A MIME type for HTTP ("audio/wav", "audio/ogg; codecs=opus", "audio/L16;rate=24000" …).
std::string audio_mime_type(AudioFormat format, int sample_rate);
// Parses a name above; throws Error(InvalidArgument) listing the formats this build supports.
AudioFormat parse_audio_format(std::string_view name);
// The format a file name asks for: .wav .flac .ogg/.oga .opus .mp3 .pcm/.raw; nullopt else.
std::optional<AudioFormat> audio_format_for_path(const std::filesystem::path& path);
// Whether the linked libsndfile can write `format` at `sample_rate` (sf_format_check; opus
// needs 8/12/16/24/48 kHz). wav and pcm are always supported.
bool audio_format_supported(AudioFormat format, int sample_rate);
std::vector<AudioFormat> supported_audio_formats(int sample_rate);
// Throws Error(Unsupported) naming the format and listing the supported ones when needed.
void check_audio_format_supported(AudioFormat format, int sample_rate);

class AudioEncoder {
 public:
  using Sink = std::function<void(const char* data, size_t size)>;

  // Throws Error(Io) naming the path when it cannot be written, Error(Unsupported) for a
  // format the linked libsndfile lacks.
  static std::unique_ptr<AudioEncoder> open_file(const std::filesystem::path& path, AudioFormat format,
                                                 int sample_rate);
  // `sink` is called with encoded bytes, in order, from write() and finish().
  static std::unique_ptr<AudioEncoder> open_stream(Sink sink, AudioFormat format, int sample_rate);

  virtual ~AudioEncoder() = default;
  // Mono samples in [-1, 1] (louder ones are clipped), at sample_rate().
  virtual void write(std::span<const float> samples) = 0;
  // Flushes the codec and completes the file or stream; further writes are errors. Called
  // by the destructor when forgotten (errors are then lost).
  virtual void finish() = 0;

  AudioFormat format() const { return format_; }
  int sample_rate() const { return sample_rate_; }
  size_t frames_written() const { return frames_; }

 protected:
  AudioEncoder(AudioFormat format, int sample_rate) : format_(format), sample_rate_(sample_rate) {}
  AudioFormat format_;
  int sample_rate_;
  size_t frames_ = 0;
};

}  // namespace xnai::speech
