// Helpers for the server tests: reading an SSE body into its events, decoding audio bytes
// (libsndfile, as a player would), and base64 back to bytes.
#pragma once
#include <sndfile.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace xnai::test {

struct SseEvent {
  std::string event;  // "" for a plain data event
  std::string data;   // the raw data ("[DONE]" for the end marker)
  nlohmann::json json() const { return nlohmann::json::parse(data, nullptr, false); }
};

inline std::vector<SseEvent> sse_events(const std::string& body) {
  std::vector<SseEvent> out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find("\n\n", pos);
    if (end == std::string::npos) end = body.size();
    SseEvent e;
    size_t line = pos;
    while (line < end) {
      size_t nl = body.find('\n', line);
      if (nl == std::string::npos || nl > end) nl = end;
      const std::string l = body.substr(line, nl - line);
      if (l.rfind("event: ", 0) == 0) e.event = l.substr(7);
      if (l.rfind("data: ", 0) == 0) e.data += l.substr(6);
      line = nl + 1;
    }
    if (!e.data.empty() || !e.event.empty()) out.push_back(e);
    pos = end + 2;
  }
  return out;
}

struct DecodedAudio {
  int sample_rate = 0;
  int64_t frames = 0;
  double rms = 0;
};

// Decodes `bytes` (a whole file in the format `ext` names); frames == 0 when it does not decode.
inline DecodedAudio decode_audio(const std::string& bytes, const std::string& ext) {
  static std::atomic<int> n{0};
  const auto p = std::filesystem::temp_directory_path() /
                 ("xnai_server_test_" + std::to_string(::getpid()) + "_" + std::to_string(n++) + ext);
  std::ofstream(p, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
  DecodedAudio d;
  SF_INFO info{};
  SNDFILE* f = sf_open(p.c_str(), SFM_READ, &info);
  if (f) {
    // Streamed WAV headers carry an unknown length: read blocks to the end, as players do.
    std::vector<float> block(4096 * size_t(info.channels));
    double sum = 0;
    sf_count_t got = 0;
    while ((got = sf_readf_float(f, block.data(), 4096)) > 0) {
      for (sf_count_t i = 0; i < got * info.channels; ++i) sum += double(block[i]) * block[i];
      d.frames += got;
    }
    d.sample_rate = info.samplerate;
    d.rms = d.frames ? std::sqrt(sum / double(d.frames * info.channels)) : 0;
    sf_close(f);
  }
  std::filesystem::remove(p);
  return d;
}

inline std::string base64_decode(const std::string& s) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    if (c == '=') break;
    const int v = val(c);
    if (v < 0) return {};  // not base64
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += char((acc >> bits) & 0xFF);
    }
  }
  return out;
}

}  // namespace xnai::test
