#include "speech/audio_encoder.h"

#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace xnai::speech {
namespace {

constexpr AudioFormat kAll[] = {AudioFormat::Wav, AudioFormat::WavFloat, AudioFormat::Flac, AudioFormat::Ogg,
                                AudioFormat::Opus, AudioFormat::Mp3,      AudioFormat::Pcm};

int sndfile_format(AudioFormat f) {
  switch (f) {
    case AudioFormat::Wav: return SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    case AudioFormat::WavFloat: return SF_FORMAT_WAV | SF_FORMAT_FLOAT;
    case AudioFormat::Flac: return SF_FORMAT_FLAC | SF_FORMAT_PCM_16;
    case AudioFormat::Ogg: return SF_FORMAT_OGG | SF_FORMAT_VORBIS;
    case AudioFormat::Opus: return SF_FORMAT_OGG | SF_FORMAT_OPUS;
    case AudioFormat::Mp3: return SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III;
    case AudioFormat::Pcm: return SF_FORMAT_RAW | SF_FORMAT_PCM_16 | SF_ENDIAN_LITTLE;
  }
  return 0;
}

std::string supported_list(int sample_rate) {
  std::string s;
  for (AudioFormat f : supported_audio_formats(sample_rate)) s += (s.empty() ? "" : ", ") + std::string(audio_format_name(f));
  return s;
}

int16_t to_pcm16(float x) {
  if (!(x == x)) return 0;  // NaN
  const float c = std::clamp(x, -1.0f, 1.0f);
  return static_cast<int16_t>(std::lrint(c * 32767.0f));
}

void put_u32(std::string& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b += static_cast<char>((v >> (8 * i)) & 0xFF);
}
void put_u16(std::string& b, uint16_t v) {
  b += static_cast<char>(v & 0xFF);
  b += static_cast<char>(v >> 8);
}

// WAV (streamed) and raw PCM written by hand: the formats are trivial, and a stream needs
// the "unknown length" header libsndfile does not write.
class PlainEncoder final : public AudioEncoder {
 public:
  PlainEncoder(Sink sink, AudioFormat format, int sample_rate) : AudioEncoder(format, sample_rate), sink_(std::move(sink)) {
    if (format == AudioFormat::Pcm) return;
    const bool fl = format == AudioFormat::WavFloat;
    const uint16_t bytes = fl ? 4 : 2;
    std::string h = "RIFF";
    put_u32(h, 0xFFFFFFFFu);
    h += "WAVEfmt ";
    put_u32(h, 16);
    put_u16(h, fl ? 3 : 1);  // WAVE_FORMAT_IEEE_FLOAT / WAVE_FORMAT_PCM
    put_u16(h, 1);
    put_u32(h, static_cast<uint32_t>(sample_rate));
    put_u32(h, static_cast<uint32_t>(sample_rate) * bytes);
    put_u16(h, bytes);
    put_u16(h, bytes * 8);
    h += "data";
    put_u32(h, 0xFFFFFFFFu);
    sink_(h.data(), h.size());
  }
  ~PlainEncoder() override { finish(); }

  void write(std::span<const float> samples) override {
    if (done_) throw Error(ErrorKind::Internal, "audio encoder written after finish()");
    buf_.clear();
    for (float x : samples) {
      if (format_ == AudioFormat::WavFloat) {
        const float c = x == x ? std::clamp(x, -1.0f, 1.0f) : 0.0f;
        uint32_t bits;
        std::memcpy(&bits, &c, 4);
        put_u32(buf_, bits);
      } else {
        put_u16(buf_, static_cast<uint16_t>(to_pcm16(x)));
      }
    }
    if (!buf_.empty()) sink_(buf_.data(), buf_.size());
    frames_ += samples.size();
  }
  void finish() override { done_ = true; }

 private:
  Sink sink_;
  std::string buf_;
  bool done_ = false;
};

// A write-only stream for libsndfile's virtual I/O. Bytes past the end go to the sink;
// seeking back to patch a header is allowed but the patch is dropped (the bytes are gone),
// which the codecs chosen for streams tolerate (see the header).
struct StreamIo {
  AudioEncoder::Sink sink;
  sf_count_t pos = 0, len = 0;

  static sf_count_t get_filelen(void* u) { return static_cast<StreamIo*>(u)->len; }
  static sf_count_t seek(sf_count_t offset, int whence, void* u) {
    auto* s = static_cast<StreamIo*>(u);
    const sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? s->pos : s->len;
    if (base + offset < 0) return -1;
    s->pos = base + offset;
    return s->pos;
  }
  static sf_count_t read(void*, sf_count_t, void*) { return 0; }
  static sf_count_t write(const void* p, sf_count_t n, void* u) {
    auto* s = static_cast<StreamIo*>(u);
    const char* bytes = static_cast<const char*>(p);
    const sf_count_t end = s->pos + n;
    if (end > s->len) {
      const sf_count_t skip = std::max<sf_count_t>(0, s->len - s->pos);
      if (s->pos > s->len) {  // a gap: pad with zeros
        const std::string zeros(static_cast<size_t>(s->pos - s->len), '\0');
        s->sink(zeros.data(), zeros.size());
      }
      s->sink(bytes + skip, static_cast<size_t>(n - skip));
      s->len = end;
    }
    s->pos = end;
    return n;
  }
  static sf_count_t tell(void* u) { return static_cast<StreamIo*>(u)->pos; }
};

class SndfileEncoder final : public AudioEncoder {
 public:
  SndfileEncoder(const std::filesystem::path* path, Sink sink, AudioFormat format, int sample_rate)
      : AudioEncoder(format, sample_rate) {
    SF_INFO info{};
    info.samplerate = sample_rate;
    info.channels = 1;
    info.format = sndfile_format(format);
    if (path) {
      sf_ = sf_open(path->c_str(), SFM_WRITE, &info);
      if (!sf_)
        throw Error(ErrorKind::Io, "cannot write audio file '" + path->string() + "': " + sf_strerror(nullptr));
    } else {
      io_ = std::make_unique<StreamIo>();
      io_->sink = std::move(sink);
      vio_ = {StreamIo::get_filelen, StreamIo::seek, StreamIo::read, StreamIo::write, StreamIo::tell};
      sf_ = sf_open_virtual(&vio_, SFM_WRITE, &info, io_.get());
      if (!sf_)
        throw Error(ErrorKind::Io, std::string("cannot start a ") + audio_format_name(format) +
                                       " stream: " + sf_strerror(nullptr));
      if (format == AudioFormat::Mp3) {
        // No Xing/LAME header: it would be written last, at the start, which a stream cannot do.
        int mode = SF_BITRATE_MODE_CONSTANT;
        sf_command(sf_, SFC_SET_BITRATE_MODE, &mode, sizeof mode);
      }
    }
    sf_command(sf_, SFC_SET_CLIPPING, nullptr, SF_TRUE);  // clip instead of wrapping around
  }
  ~SndfileEncoder() override {
    try {
      finish();
    } catch (...) {
    }
  }

  void write(std::span<const float> samples) override {
    if (!sf_) throw Error(ErrorKind::Internal, "audio encoder written after finish()");
    if (samples.empty()) return;
    const sf_count_t n = sf_writef_float(sf_, samples.data(), static_cast<sf_count_t>(samples.size()));
    if (n != static_cast<sf_count_t>(samples.size()))
      throw Error(ErrorKind::Io, std::string("writing ") + audio_format_name(format_) + " audio failed: " + sf_strerror(sf_));
    frames_ += samples.size();
  }
  void finish() override {
    if (!sf_) return;
    SNDFILE* sf = sf_;
    sf_ = nullptr;
    if (sf_close(sf) != 0)
      throw Error(ErrorKind::Io, std::string("finishing ") + audio_format_name(format_) + " audio failed");
  }

 private:
  SNDFILE* sf_ = nullptr;
  std::unique_ptr<StreamIo> io_;
  SF_VIRTUAL_IO vio_{};
};

}  // namespace

const char* audio_format_name(AudioFormat f) {
  switch (f) {
    case AudioFormat::Wav: return "wav";
    case AudioFormat::WavFloat: return "wav-float";
    case AudioFormat::Flac: return "flac";
    case AudioFormat::Ogg: return "ogg";
    case AudioFormat::Opus: return "opus";
    case AudioFormat::Mp3: return "mp3";
    case AudioFormat::Pcm: return "pcm";
  }
  return "?";
}

std::string audio_mime_type(AudioFormat f, int sample_rate) {
  switch (f) {
    case AudioFormat::Wav: case AudioFormat::WavFloat: return "audio/wav";
    case AudioFormat::Flac: return "audio/flac";
    case AudioFormat::Ogg: return "audio/ogg";
    case AudioFormat::Opus: return "audio/ogg; codecs=opus";
    case AudioFormat::Mp3: return "audio/mpeg";
    case AudioFormat::Pcm: return "audio/L16;rate=" + std::to_string(sample_rate) + ";channels=1";
  }
  return "application/octet-stream";
}

bool audio_format_supported(AudioFormat f, int sample_rate) {
  if (f == AudioFormat::Wav || f == AudioFormat::WavFloat || f == AudioFormat::Pcm) return sample_rate > 0;
  SF_INFO info{};
  info.samplerate = sample_rate;
  info.channels = 1;
  info.format = sndfile_format(f);
  return sf_format_check(&info) == SF_TRUE;
}

std::vector<AudioFormat> supported_audio_formats(int sample_rate) {
  std::vector<AudioFormat> out;
  for (AudioFormat f : kAll)
    if (audio_format_supported(f, sample_rate)) out.push_back(f);
  return out;
}

void check_audio_format_supported(AudioFormat f, int sample_rate) {
  if (audio_format_supported(f, sample_rate)) return;
  throw Error(ErrorKind::Unsupported, std::string("audio format '") + audio_format_name(f) +
                                          "' is not supported by this build's libsndfile at " +
                                          std::to_string(sample_rate) + " Hz (supported: " + supported_list(sample_rate) + ")");
}

AudioFormat parse_audio_format(std::string_view name) {
  for (AudioFormat f : kAll)
    if (name == audio_format_name(f)) return f;
  if (name == "raw") return AudioFormat::Pcm;
  throw Error(ErrorKind::InvalidArgument, "unknown audio format '" + std::string(name) +
                                              "' (supported: " + supported_list(24000) + ")");
}

std::optional<AudioFormat> audio_format_for_path(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == ".wav") return AudioFormat::Wav;
  if (ext == ".flac") return AudioFormat::Flac;
  if (ext == ".ogg" || ext == ".oga") return AudioFormat::Ogg;
  if (ext == ".opus") return AudioFormat::Opus;
  if (ext == ".mp3") return AudioFormat::Mp3;
  if (ext == ".pcm" || ext == ".raw") return AudioFormat::Pcm;
  return std::nullopt;
}

std::unique_ptr<AudioEncoder> AudioEncoder::open_file(const std::filesystem::path& path, AudioFormat format,
                                                      int sample_rate) {
  check_audio_format_supported(format, sample_rate);
  if (format == AudioFormat::Pcm) {
    std::shared_ptr<FILE> fp(std::fopen(path.c_str(), "wb"), [](FILE* f) {
      if (f) std::fclose(f);
    });
    if (!fp) throw Error(ErrorKind::Io, "cannot write audio file '" + path.string() + "': " + std::strerror(errno));
    const std::string where = path.string();
    return std::make_unique<PlainEncoder>(
        [fp, where](const char* d, size_t n) {
          if (std::fwrite(d, 1, n, fp.get()) != n) throw Error(ErrorKind::Io, "writing '" + where + "' failed");
        },
        format, sample_rate);
  }
  return std::make_unique<SndfileEncoder>(&path, nullptr, format, sample_rate);
}

std::unique_ptr<AudioEncoder> AudioEncoder::open_stream(Sink sink, AudioFormat format, int sample_rate) {
  check_audio_format_supported(format, sample_rate);
  if (format == AudioFormat::Wav || format == AudioFormat::WavFloat || format == AudioFormat::Pcm)
    return std::make_unique<PlainEncoder>(std::move(sink), format, sample_rate);
  return std::make_unique<SndfileEncoder>(nullptr, std::move(sink), format, sample_rate);
}

}  // namespace xnai::speech
