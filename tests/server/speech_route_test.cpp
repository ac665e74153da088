// POST /v1/audio/speech through the real HTTP stack with the espeak-ng engine: the body must
// decode as audio of plausible length and loudness in the asked format, and bad requests
// (unknown voice, unknown format, empty input) must be 4xx OpenAI errors naming the field.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sndfile.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>
#include <nlohmann/json.hpp>

#include "server/server.h"
#include "speech/espeak_engine.h"

namespace {

using nlohmann::json;

struct Decoded {
  SF_INFO info{};
  std::vector<float> samples;
};

Decoded decode(const std::string& bytes, const std::string& ext) {
  const auto p = std::filesystem::temp_directory_path() / ("xnai_speech_route" + ext);
  std::ofstream(p, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
  Decoded d;
  SNDFILE* f = sf_open(p.c_str(), SFM_READ, &d.info);
  if (!f) return d;
  // A streamed WAV header carries 0xFFFFFFFF as its data size (the length is unknown when it
  // is sent), so read blocks until the end of the bytes, as players do, and count frames.
  std::vector<float> block(4096 * size_t(d.info.channels));
  sf_count_t got = 0, frames = 0;
  while ((got = sf_readf_float(f, block.data(), 4096)) > 0) {
    d.samples.insert(d.samples.end(), block.begin(), block.begin() + got * d.info.channels);
    frames += got;
  }
  d.info.frames = frames;
  sf_close(f);
  std::filesystem::remove(p);
  return d;
}

double rms(const std::vector<float>& x) {
  double s = 0;
  for (float v : x) s += double(v) * v;
  return x.empty() ? 0 : std::sqrt(s / double(x.size()));
}

TEST(SpeechRoute, StreamsDecodableAudioAndRejectsBadRequests) {
  ::signal(SIGPIPE, SIG_IGN);
  xnai::server::ServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  xnai::server::Services s;
  s.tts = std::make_shared<xnai::speech::EspeakEngine>();
  xnai::server::Server server(o, s);
  server.start();
  httplib::Client cli("127.0.0.1", server.port());

  const std::string text = "Hello there. This is the second sentence of the answer.";
  for (const auto& [fmt, ext] : {std::pair{"wav", ".wav"}, std::pair{"flac", ".flac"}}) {
    const json req = {{"model", "tts-1"}, {"input", text}, {"voice", "alloy"}, {"response_format", fmt}};
    auto r = cli.Post("/v1/audio/speech", req.dump(), "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    EXPECT_NE(r->get_header_value("Content-Type").find("audio/"), std::string::npos);
    const Decoded d = decode(r->body, ext);
    EXPECT_EQ(d.info.samplerate, 24000) << fmt;
    const double seconds = double(d.info.frames) / 24000.0;
    EXPECT_GT(seconds, 1.5) << fmt;  // ten words take well over a second to say
    EXPECT_LT(seconds, 15.0) << fmt;
    EXPECT_GT(rms(d.samples), 0.01) << fmt;
  }

  // Slower speech is longer.
  auto len = [&](double speed) {
    const json req = {{"input", text}, {"voice", "en-us"}, {"speed", speed}, {"response_format", "wav"}};
    auto r = cli.Post("/v1/audio/speech", req.dump(), "application/json");
    return r && r->status == 200 ? decode(r->body, ".wav").info.frames : 0;
  };
  EXPECT_GT(len(0.5), len(1.0) * 1.3);

  auto error_param = [&](const json& req, int status) {
    auto r = cli.Post("/v1/audio/speech", req.dump(), "application/json");
    EXPECT_TRUE(r);
    if (!r) return std::string();
    EXPECT_EQ(r->status, status) << r->body;
    const json e = json::parse(r->body);
    EXPECT_TRUE(e["error"]["message"].is_string());
    return e["error"]["param"].is_string() ? e["error"]["param"].get<std::string>() : std::string();
  };
  EXPECT_EQ(error_param({{"input", "hi"}, {"voice", "xx_nobody"}}, 400), "voice");
  EXPECT_EQ(error_param({{"input", "hi"}, {"response_format", "aac"}}, 400), "response_format");
  EXPECT_EQ(error_param({{"input", ""}}, 400), "input");
  EXPECT_EQ(error_param({{"voice", "en-us"}}, 400), "input");
  EXPECT_EQ(error_param({{"input", "hi"}, {"speed", 9}}, 400), "speed");
  server.stop();
}

}  // namespace
