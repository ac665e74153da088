// Round trips through libsndfile's decoder: lossless formats must give back the PCM16
// quantisation of the input (|Δ| ≤ 1 LSB), lossy ones a waveform that correlates.
#include "speech/audio_encoder.h"

#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"

namespace xnai::speech {
namespace {

constexpr int kRate = 24000;

std::vector<float> tone(size_t n) {
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = static_cast<float>(0.5 * std::sin(2 * M_PI * 440.0 * i / kRate));
  return x;
}

std::filesystem::path temp_path(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("xnai_speech_" + std::to_string(::getpid()) + "_" + name);
}

struct Decoded {
  std::vector<float> samples;
  SF_INFO info{};
};

Decoded decode(const std::filesystem::path& p, bool raw = false) {
  Decoded d;
  if (raw) d.info = {0, kRate, 1, SF_FORMAT_RAW | SF_FORMAT_PCM_16 | SF_ENDIAN_LITTLE, 0, 0};
  SNDFILE* f = sf_open(p.c_str(), SFM_READ, &d.info);
  if (!f) {
    ADD_FAILURE() << "libsndfile cannot read " << p << ": " << sf_strerror(nullptr);
    return d;
  }
  float buf[4096];
  for (sf_count_t n; (n = sf_readf_float(f, buf, 4096)) > 0;) d.samples.insert(d.samples.end(), buf, buf + n);
  sf_close(f);
  return d;
}

std::string bytes_of(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Best normalised cross-correlation over lags 0..max_lag (codecs add a delay).
double best_correlation(const std::vector<float>& ref, const std::vector<float>& got, size_t max_lag) {
  double best = -1;
  for (size_t lag = 0; lag <= max_lag && lag < got.size(); ++lag) {
    double xy = 0, xx = 0, yy = 0;
    for (size_t i = 2000; i + 2000 < ref.size() && i + lag < got.size(); ++i) {
      xy += ref[i] * got[i + lag];
      xx += ref[i] * ref[i];
      yy += got[i + lag] * got[i + lag];
    }
    if (xx > 0 && yy > 0) best = std::max(best, xy / std::sqrt(xx * yy));
  }
  return best;
}

void expect_pcm16_exact(const std::vector<float>& in, const std::vector<float>& out) {
  ASSERT_EQ(out.size(), in.size());
  double max_lsb = 0;
  for (size_t i = 0; i < in.size(); ++i)
    max_lsb = std::max(max_lsb, std::abs(out[i] * 32768.0 - std::lrint(in[i] * 32767.0)));
  EXPECT_LE(max_lsb, 1.0);
}

TEST(AudioFormat, NamesAndExtensions) {
  EXPECT_EQ(parse_audio_format("flac"), AudioFormat::Flac);
  EXPECT_EQ(parse_audio_format("raw"), AudioFormat::Pcm);
  EXPECT_EQ(audio_format_for_path("a/b.OPUS"), AudioFormat::Opus);
  EXPECT_EQ(audio_format_for_path("x.mp3"), AudioFormat::Mp3);
  EXPECT_FALSE(audio_format_for_path("x.txt").has_value());
  try {
    parse_audio_format("aiff");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("wav"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(audio_format_supported(AudioFormat::Wav, kRate));
}

TEST(AudioEncoder, WavFileIsExactWithRealHeader) {
  const auto in = tone(kRate);
  const auto p = temp_path("a.wav");
  {
    auto enc = AudioEncoder::open_file(p, AudioFormat::Wav, kRate);
    enc->write(std::span(in).first(10000));  // in pieces, as sentences arrive
    enc->write(std::span(in).subspan(10000));
    enc->finish();
  }
  const std::string b = bytes_of(p);
  ASSERT_GE(b.size(), 44u);
  EXPECT_EQ(b.substr(0, 4), "RIFF");
  EXPECT_EQ(b.substr(8, 4), "WAVE");
  const Decoded d = decode(p);
  EXPECT_EQ(d.info.samplerate, kRate);
  EXPECT_EQ(d.info.channels, 1);
  EXPECT_EQ(d.info.format, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  expect_pcm16_exact(in, d.samples);
  std::filesystem::remove(p);
}

TEST(AudioEncoder, LosslessStreamsRoundTrip) {
  const auto in = tone(kRate);
  for (AudioFormat f : {AudioFormat::Wav, AudioFormat::WavFloat, AudioFormat::Flac, AudioFormat::Pcm}) {
    SCOPED_TRACE(audio_format_name(f));
    std::string bytes;
    size_t after_first_write = 0;
    {
      auto enc = AudioEncoder::open_stream([&](const char* d, size_t n) { bytes.append(d, n); }, f, kRate);
      enc->write(std::span(in).first(12000));
      after_first_write = bytes.size();
      enc->write(std::span(in).subspan(12000));
      enc->finish();
    }
    if (f != AudioFormat::Flac) {
      EXPECT_GE(after_first_write, 24000u) << "bytes must flow before finish()";
    }
    const auto p = temp_path(std::string("s.") + audio_format_name(f));
    std::ofstream(p, std::ios::binary) << bytes;
    const Decoded d = decode(p, f == AudioFormat::Pcm);
    if (f == AudioFormat::WavFloat) {
      ASSERT_EQ(d.samples.size(), in.size());
      for (size_t i = 0; i < in.size(); ++i) ASSERT_EQ(d.samples[i], in[i]) << i;
    } else {
      expect_pcm16_exact(in, d.samples);
    }
    if (f == AudioFormat::Wav) {
      EXPECT_EQ(bytes.substr(0, 4), "RIFF");
      EXPECT_EQ(bytes.substr(4, 4), std::string(4, '\xFF'));  // length unknown while streaming
      EXPECT_EQ(bytes.size(), 44u + 2 * in.size());
    }
    if (f == AudioFormat::Flac) {
      EXPECT_EQ(bytes.substr(0, 4), "fLaC");
    }
    if (f == AudioFormat::Pcm) {
      EXPECT_EQ(bytes.size(), 2 * in.size());
    }
    std::filesystem::remove(p);
  }
}

TEST(AudioEncoder, LossyFormatsCorrelate) {
  const auto in = tone(kRate);
  for (AudioFormat f : {AudioFormat::Ogg, AudioFormat::Opus, AudioFormat::Mp3}) {
    SCOPED_TRACE(audio_format_name(f));
    if (!audio_format_supported(f, kRate)) {
      std::printf("  %s not supported by this libsndfile; skipped\n", audio_format_name(f));
      continue;
    }
    for (bool stream : {false, true}) {
      const auto p = temp_path(std::string(stream ? "s." : "f.") + audio_format_name(f));
      if (stream) {
        std::string bytes;
        auto enc = AudioEncoder::open_stream([&](const char* d, size_t n) { bytes.append(d, n); }, f, kRate);
        enc->write(in);
        enc->finish();
        std::ofstream(p, std::ios::binary) << bytes;
      } else {
        auto enc = AudioEncoder::open_file(p, f, kRate);
        enc->write(in);
        enc->finish();
      }
      const std::string b = bytes_of(p);
      if (f != AudioFormat::Mp3) {
        EXPECT_EQ(b.substr(0, 4), "OggS");
      } else {
        EXPECT_TRUE(b.substr(0, 3) == "ID3" || (static_cast<unsigned char>(b[0]) == 0xFF && (b[1] & 0xE0) == 0xE0));
      }
      if (f == AudioFormat::Opus) {
        EXPECT_NE(b.find("OpusHead"), std::string::npos);
      }
      const Decoded d = decode(p);
      EXPECT_EQ(d.info.samplerate, kRate);
      EXPECT_NEAR(static_cast<double>(d.samples.size()), static_cast<double>(in.size()), 3000.0);
      EXPECT_GT(best_correlation(in, d.samples, 2500), 0.95);
      std::filesystem::remove(p);
    }
  }
}

TEST(AudioEncoder, UnwritablePathIsAnIoError) {
  try {
    AudioEncoder::open_file("/nonexistent-dir/x.wav", AudioFormat::Wav, kRate);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Io);
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/x.wav"), std::string::npos);
  }
}

}  // namespace
}  // namespace xnai::speech
