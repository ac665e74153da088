// The `xnai pull`, `xnai models` and `xnai models rm` commands, run as the real binary
// (XNAI_BIN, set by ctest) against the fake Hub on loopback (tests/hub/fake_hub.h), with
// the cache and config in a temporary folder. With the conformance models present, the
// served file is llama.cpp's tiny Q4_K_M model and the Hub's ETag is its published
// checksum (testdata/llm/SHA256SUMS); `xnai generate` then runs with no -m at all.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include <httplib.h>
#include <signal.h>

#include "hub/fake_hub.h"
#include "hub/hub_test_util.h"
#include "test_support.h"

namespace fs = std::filesystem;

namespace {

using xnai::test::FakeFile;
using xnai::test::FakeHub;
using xnai::test::TempDir;

struct RunResult {
  int code = -1;
  std::string out, err;
};

#define REQUIRE_XNAI_BIN() \
  if (!std::getenv("XNAI_BIN")) GTEST_SKIP() << "XNAI_BIN not set (run through ctest)"

// The published sha256 of a conformance file, from testdata/llm/SHA256SUMS.
std::string published_sha256(const std::string& name) {
  std::ifstream in(xnai::test::testdata_dir() / "llm" / "SHA256SUMS");
  std::string sha, file;
  while (in >> sha >> file)
    if (file == name) return sha;
  return "";
}

class PullCli : public ::testing::Test {
 protected:
  // Runs `xnai ARGS` with the cache, config and Hub of this test; extra_env goes first.
  RunResult run(const std::string& args, const std::string& extra_env = "") {
    RunResult r;
    const char* bin = std::getenv("XNAI_BIN");
    const fs::path err = tmp_.path() / "stderr.txt";
    const std::string cmd = "env -u MODEL_PATH -u HF_TOKEN -u HF_HUB_OFFLINE HF_ENDPOINT='" +
                            hub_.endpoint() + "' XNAI_MODELS='" + models_.string() + "' XNAI_CONFIG='" +
                            config_.string() + "' " + extra_env + " '" + bin + "' " + args + " 2>'" +
                            err.string() + "'";
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return r;
    std::array<char, 4096> buf{};
    size_t n;
    while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
    const int status = pclose(p);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.err = xnai::test::read_bytes(err);
    return r;
  }

  FakeHub hub_;
  TempDir tmp_;
  fs::path models_ = tmp_.path() / "models";
  fs::path config_ = tmp_.path() / "xnai" / "config.json";
};

TEST_F(PullCli, PullListRemove) {
  REQUIRE_XNAI_BIN();
  const std::string gguf = xnai::test::make_gguf("llama", 7, xnai::DType::Q8_0, 64);
  hub_.add("org/llm", "model-q8_0.gguf", FakeFile{gguf});
  const fs::path file = models_ / "hf/org/llm/model-q8_0.gguf";

  RunResult r = run("pull hf://org/llm/model-q8_0.gguf");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find(file.string()), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("sha256 verified against the Hub's ETag"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("default llm set in " + config_.string()), std::string::npos) << r.out;
  EXPECT_EQ(xnai::test::read_bytes(file), gguf);

  r = run("pull hf://org/llm/model-q8_0.gguf");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("already in the cache"), std::string::npos) << r.out;
  EXPECT_EQ(hub_.hub_requests, 1);

  r = run("models --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["cache"], models_.string());
  EXPECT_EQ(j["config"], config_.string());
  ASSERT_EQ(j["models"].size(), 1u);
  const auto& m = j["models"][0];
  EXPECT_EQ(m["rel"], "hf/org/llm/model-q8_0.gguf");
  EXPECT_EQ(m["kind"], "llm");
  EXPECT_EQ(m["architecture"], "llama");
  EXPECT_EQ(m["quantization"], "Q8_0");
  EXPECT_EQ(m["size"], gguf.size());
  EXPECT_EQ(m["sha256"], FakeHub::detail_sha256(gguf));
  EXPECT_EQ(m["default"], "llm");
  EXPECT_EQ(m["source"], "hf://org/llm/model-q8_0.gguf");

  r = run("models");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("* llm        llama        Q8_0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("hf/org/llm/model-q8_0.gguf"), std::string::npos) << r.out;

  r = run("models rm model-q8_0.gguf");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("removed " + file.string()), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(file));
  EXPECT_FALSE(nlohmann::json::parse(xnai::test::read_bytes(config_)).contains("llm"));
  r = run("models rm model-q8_0.gguf");
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.err.find("no cached model matches 'model-q8_0.gguf'"), std::string::npos) << r.err;
  r = run("models");
  EXPECT_NE(r.out.find("xnai pull --recommended"), std::string::npos) << r.out;
}

TEST_F(PullCli, ErrorsAreClearAndMapToExitCodes) {
  REQUIRE_XNAI_BIN();
  hub_.add("org/llm", "page.gguf", FakeFile{"<!DOCTYPE html><html>rate limited</html>"});
  RunResult r = run("pull hf://nobody/nothing/x.gguf");
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("xnai pull: repository 'nobody/nothing' not found"), std::string::npos) << r.err;
  r = run("pull hf://org/llm/page.gguf");
  EXPECT_EQ(r.code, 4);
  EXPECT_NE(r.err.find("page.gguf is not a GGUF file (starts with '<!DOCTYPE html><html>rat…')"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(models_ / "hf/org/llm/page.gguf"));
  r = run("pull org/llm/x.gguf");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("did you mean hf://org/llm/x.gguf"), std::string::npos) << r.err;
  r = run("pull hf://org/llm/x.gguf --sha256 1234");
  EXPECT_EQ(r.code, 2);

  // Offline: the first missing file is named and no request is made.
  const int before = hub_.hub_requests + hub_.cdn_requests;
  r = run("pull --recommended --offline");
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("offline, and it is not in the cache"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Llama-3.2-3B-Instruct-Q4_K_M.gguf"), std::string::npos) << r.err;
  EXPECT_EQ(hub_.hub_requests + hub_.cdn_requests, before);
  r = run("pull --recommended --lang xx");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("known: en"), std::string::npos) << r.err;
}

TEST_F(PullCli, PulledModelIsTheDefaultForGenerate) {
  REQUIRE_XNAI_BIN();
  XNAI_SKIP_IF_MISSING(tiny, "llm/tiny-llama-spm-q4_k_m.gguf");
  const std::string bytes = xnai::test::read_bytes(tiny);
  // The Hub claims the checksum llama.cpp's data set publishes for this file.
  hub_.add("ggml-org/tiny", "tiny-llama-spm-q4_k_m.gguf",
           FakeFile{bytes, published_sha256("tiny-llama-spm-q4_k_m.gguf")});

  // No model anywhere yet: the error says how to get one.
  RunResult r = run("generate -p Hello -n 2");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("xnai pull --recommended"), std::string::npos) << r.err;

  r = run("pull hf://ggml-org/tiny/tiny-llama-spm-q4_k_m.gguf");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("sha256 verified against the Hub's ETag"), std::string::npos) << r.out;
  r = run("models --json");
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["models"][0]["quantization"], "Q4_K_M");
  EXPECT_EQ(j["models"][0]["sha256"], published_sha256("tiny-llama-spm-q4_k_m.gguf"));

  // No -m: the config's default; a cached name works too; MODEL_PATH wins over the default.
  r = run("generate -p Hello -n 2 --temp 0 --no-display-prompt");
  EXPECT_EQ(r.code, 0) << r.err;
  r = run("generate -m tiny-llama-spm-q4_k_m -p Hello -n 2 --temp 0");
  EXPECT_EQ(r.code, 0) << r.err;
  r = run("generate -p Hello -n 2", "MODEL_PATH=no-such-model");
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("no file or cached model named 'no-such-model'"), std::string::npos) << r.err;
}

// Once one model of each kind is pulled (as `pull --recommended` does), ask, speak and serve
// run with no model flags at all and use them: hybrid search with the embedder, an answer
// written by the LLM, speech from Kokoro, and a server that lists all three.
TEST_F(PullCli, PulledDefaultsServeAskAndSpeakWithNoFlags) {
  REQUIRE_XNAI_BIN();
  XNAI_SKIP_IF_MISSING(llm, "llm/tiny-llama-spm-q4_k_m.gguf");
  XNAI_SKIP_IF_MISSING(bert, "llm/tiny-bert-bge-f16.gguf");
  XNAI_SKIP_IF_MISSING(kokoro, "kokoro/kokoro-testdata.pth");
  const fs::path kdir = kokoro.parent_path();
  hub_.add("org/llm", "tiny-llama-spm-q4_k_m.gguf", FakeFile{xnai::test::read_bytes(llm)});
  hub_.add("org/embed", "tiny-bert-bge-f16.gguf", FakeFile{xnai::test::read_bytes(bert)});
  hub_.add("org/kokoro", "kokoro-testdata.pth", FakeFile{xnai::test::read_bytes(kokoro)});
  hub_.add("org/kokoro", "config.json", FakeFile{xnai::test::read_bytes(kdir / "config.json"), "", false});
  hub_.add("org/kokoro", "voices/voice-testdata.pt", FakeFile{xnai::test::read_bytes(kdir / "voice-testdata.pt")});
  for (const char* src : {"hf://org/llm/tiny-llama-spm-q4_k_m.gguf", "hf://org/embed/tiny-bert-bge-f16.gguf",
                          "hf://org/kokoro/kokoro-testdata.pth", "hf://org/kokoro/config.json",
                          "hf://org/kokoro/voices/voice-testdata.pt"}) {
    const RunResult r = run(std::string("pull ") + src);
    ASSERT_EQ(r.code, 0) << src << ": " << r.err;
  }

  const fs::path docs = tmp_.path() / "docs", data = tmp_.path() / "data";
  fs::create_directories(docs);
  std::ofstream(docs / "warranty.txt") << "The warranty period of the kettle is two years from the date of purchase.\n";
  RunResult r = run("ingest '" + docs.string() + "' --data '" + data.string() + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  r = run("ask 'How long is the warranty?' --json -n 4 --data '" + data.string() + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto a = nlohmann::json::parse(r.out);
  EXPECT_EQ(a["retrieval_mode"], "hybrid") << r.out;  // the pulled embedder was used
  EXPECT_EQ(a["answer_mode"], "llm") << r.out;        // the pulled LLM wrote the answer
  ASSERT_FALSE(a["sources"].empty()) << r.out;

  const fs::path wav = tmp_.path() / "hello.wav";
  r = run("speak --phonemes 'həlˈO' -o '" + wav.string() + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("engine kokoro-82m"), std::string::npos) << r.err;  // not the espeak-ng fallback
  EXPECT_GT(fs::file_size(wav), 44u);

  // serve on a free port in the background; its stderr names the port it listens on.
  const fs::path log = tmp_.path() / "serve.log", pidf = tmp_.path() / "serve.pid";
  const std::string cmd = "env -u MODEL_PATH HF_ENDPOINT=http://127.0.0.1:1 XNAI_MODELS='" + models_.string() +
                          "' XNAI_CONFIG='" + config_.string() + "' '" + std::getenv("XNAI_BIN") +
                          "' serve --port 0 --data '" + data.string() + "' 2>'" + log.string() +
                          "' & echo $! >'" + pidf.string() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  int port = 0;
  for (int i = 0; i < 200 && port == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const std::string text = xnai::test::read_bytes(log);
    const auto at = text.find("listening on http://127.0.0.1:");
    if (at != std::string::npos) port = std::atoi(text.c_str() + at + 30);
  }
  const int pid = std::atoi(xnai::test::read_bytes(pidf).c_str());
  ASSERT_GT(port, 0) << xnai::test::read_bytes(log);
  httplib::Client cli("127.0.0.1", port);
  auto m = cli.Get("/v1/models");
  auto s = cli.Post("/v1/audio/speech", R"({"input":"Hello.","voice":"alloy","response_format":"wav"})",
                    "application/json");
  ::kill(pid, SIGTERM);
  ASSERT_TRUE(m);
  ASSERT_EQ(m->status, 200) << m->body;
  std::string kinds;
  const auto listed = nlohmann::json::parse(m->body);
  for (const auto& e : listed["data"]) kinds += e["kind"].get<std::string>() + " ";
  EXPECT_EQ(kinds, "llm embedding tts ") << m->body;
  EXPECT_NE(m->body.find("tiny-llama-spm-q4_k_m"), std::string::npos) << m->body;
  EXPECT_NE(m->body.find("kokoro"), std::string::npos) << m->body;
  ASSERT_TRUE(s);
  EXPECT_EQ(s->status, 200) << s->body;
  EXPECT_GT(s->body.size(), 1000u);
}

}  // namespace
