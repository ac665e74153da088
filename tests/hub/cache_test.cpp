// The cache after pulls: listing (kind, architecture, quantization, manifest facts),
// finding models by name, resolve_model's order (path, cached name, config default),
// `models rm`, the config file, and pulling a whole set that becomes the default.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "fake_hub.h"
#include "hub/hub.h"
#include "hub_test_util.h"

namespace xnai::hub {
namespace {

namespace fs = std::filesystem;
using test::FakeFile;
using test::FakeHub;
using test::ScopedEnv;
using test::TempDir;

class CacheTest : public ::testing::Test {
 protected:
  CacheTest()
      : endpoint_env_("HF_ENDPOINT", hub_.endpoint()),
        cache_(tmp_.path() / "models"),
        config_(tmp_.path() / "config" / "config.json") {
    opts_.retry_delay_ms = 0;
    llm_ = test::make_gguf("llama", 15, DType::Q4_K, 64, 1);
    qwen_ = test::make_gguf("qwen2", 7, DType::Q8_0, 64, 2);
    bge_ = test::make_gguf("bert", 1, DType::F16, 16, 3);
    hub_.add("org/llama", "tiny-Q4_K_M.gguf", FakeFile{llm_});
    hub_.add("org/qwen", "tiny-Q4_K_M.gguf", FakeFile{qwen_});
    hub_.add("org/bge", "bge-f16.gguf", FakeFile{bge_});
    hub_.add("org/kokoro", "kokoro-v1_0.pth", FakeFile{test::make_zip_like(4096)});
    hub_.add("org/kokoro", "config.json", FakeFile{"{\"n_token\": 178}\n", "", false});
    hub_.add("org/kokoro", "voices/af_one.pt", FakeFile{test::make_zip_like(2048, 1)});
    hub_.add("org/kokoro", "voices/bf_two.pt", FakeFile{test::make_zip_like(2048, 2)});
  }

  PullResult get(const std::string& ref) { return pull(parse_source(ref), cache_, opts_); }

  static std::string error_of(const std::function<void()>& f, ErrorKind kind) {
    try {
      f();
    } catch (const Error& e) {
      EXPECT_EQ(error_kind_name(e.kind()), std::string(error_kind_name(kind))) << e.what();
      return e.what();
    }
    ADD_FAILURE() << "no error thrown";
    return "";
  }

  FakeHub hub_;
  TempDir tmp_;
  ScopedEnv endpoint_env_;
  Cache cache_;
  fs::path config_;
  PullOptions opts_;
  std::string llm_, qwen_, bge_;
};

TEST_F(CacheTest, ListShowsWhatEachFileIs) {
  get("hf://org/llama/tiny-Q4_K_M.gguf");
  get("hf://org/bge/bge-f16.gguf");
  get("hf://org/kokoro/kokoro-v1_0.pth");
  get("hf://org/kokoro/voices/af_one.pt");
  // Bookkeeping files and a file copied in by hand.
  test::write_bytes(cache_.root() / "hf/org/qwen/half.gguf.part", "partial");
  test::write_bytes(cache_.root() / "hf/org/qwen/half.gguf.part.json", "{}");
  test::write_bytes(cache_.root() / "mine/copied.gguf", qwen_);

  const auto models = cache_.list();
  std::vector<std::string> rels;
  for (const auto& m : models) rels.push_back(m.rel);
  EXPECT_EQ(rels, (std::vector<std::string>{"hf/org/bge/bge-f16.gguf", "hf/org/kokoro/kokoro-v1_0.pth",
                                            "hf/org/kokoro/voices/af_one.pt", "hf/org/llama/tiny-Q4_K_M.gguf",
                                            "mine/copied.gguf"}));
  const auto& bge = models[0];
  EXPECT_EQ(bge.kind, ModelKind::Embedding);
  EXPECT_EQ(bge.architecture, "bert");
  EXPECT_EQ(bge.file_type, 1);
  EXPECT_EQ(bge.dominant_type, "f16");
  EXPECT_EQ(bge.size, bge_.size());
  EXPECT_TRUE(bge.in_manifest);
  EXPECT_EQ(bge.source, "hf://org/bge/bge-f16.gguf");
  EXPECT_EQ(models[1].kind, ModelKind::Tts);
  EXPECT_EQ(models[2].kind, ModelKind::Voice);
  EXPECT_EQ(models[3].kind, ModelKind::Llm);
  EXPECT_EQ(models[3].file_type, 15);
  EXPECT_EQ(models[3].dominant_type, "q4_K");
  EXPECT_FALSE(models[4].in_manifest);
  EXPECT_EQ(models[4].architecture, "qwen2");
  EXPECT_TRUE(models[4].sha256.empty());

  // A manifest entry whose file was deleted by hand shows up as missing.
  fs::remove(cache_.root() / "hf/org/bge/bge-f16.gguf");
  const auto after = cache_.list();
  ASSERT_EQ(after[0].rel, "hf/org/bge/bge-f16.gguf");
  EXPECT_TRUE(after[0].missing);
  EXPECT_EQ(after[0].kind, ModelKind::Embedding);
}

TEST_F(CacheTest, MatchByEveryKindOfName) {
  get("hf://org/llama/tiny-Q4_K_M.gguf");
  get("hf://org/bge/bge-f16.gguf");
  const auto one = [&](const std::string& name) {
    const auto m = cache_.match(name);
    return m.size() == 1 ? m[0].rel : std::to_string(m.size()) + " matches";
  };
  EXPECT_EQ(one("bge-f16.gguf"), "hf/org/bge/bge-f16.gguf");
  EXPECT_EQ(one("bge-f16"), "hf/org/bge/bge-f16.gguf");
  EXPECT_EQ(one("BGE-F16"), "hf/org/bge/bge-f16.gguf");
  EXPECT_EQ(one("org/bge/bge-f16.gguf"), "hf/org/bge/bge-f16.gguf");
  EXPECT_EQ(one("bge/bge-f16.gguf"), "hf/org/bge/bge-f16.gguf");
  EXPECT_EQ(one("hf/org/bge/bge-f16.gguf"), "hf/org/bge/bge-f16.gguf");
  EXPECT_EQ(one("hf://org/bge/bge-f16.gguf"), "hf/org/bge/bge-f16.gguf");
  EXPECT_EQ(one((cache_.root() / "hf/org/bge/bge-f16.gguf").string()), "hf/org/bge/bge-f16.gguf");
  EXPECT_EQ(one("f16.gguf"), "0 matches");  // no partial names
  EXPECT_EQ(cache_.match("bge-f16.gguf", ModelKind::Llm).size(), 0u);
}

TEST_F(CacheTest, ResolveModelOrder) {
  // An existing path wins, whatever it is.
  const fs::path elsewhere = tmp_.path() / "elsewhere.gguf";
  test::write_bytes(elsewhere, llm_);
  EXPECT_EQ(resolve_model(elsewhere.string(), ModelKind::Llm, cache_, config_), elsewhere.string());

  // Nothing named, nothing configured: say how to get one.
  std::string msg =
      error_of([&] { resolve_model("", ModelKind::Llm, cache_, config_); }, ErrorKind::InvalidArgument);
  EXPECT_NE(msg.find("xnai pull --recommended"), std::string::npos) << msg;
  EXPECT_NE(msg.find("MODEL_PATH"), std::string::npos) << msg;

  // A cached name.
  const PullResult llama = get("hf://org/llama/tiny-Q4_K_M.gguf");
  EXPECT_EQ(resolve_model("org/llama/tiny-Q4_K_M.gguf", ModelKind::Llm, cache_, config_),
            llama.model.path.string());
  msg =
      error_of([&] { resolve_model("no-such-model", ModelKind::Llm, cache_, config_); }, ErrorKind::NotFound);
  EXPECT_NE(msg.find("'no-such-model'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("xnai pull"), std::string::npos) << msg;

  // The same file name in two repositories is ambiguous; the error lists both.
  get("hf://org/qwen/tiny-Q4_K_M.gguf");
  msg = error_of([&] { resolve_model("tiny-Q4_K_M.gguf", ModelKind::Llm, cache_, config_); },
                 ErrorKind::InvalidArgument);
  EXPECT_NE(msg.find("hf/org/llama/tiny-Q4_K_M.gguf"), std::string::npos) << msg;
  EXPECT_NE(msg.find("hf/org/qwen/tiny-Q4_K_M.gguf"), std::string::npos) << msg;

  // A name of another kind says so.
  get("hf://org/bge/bge-f16.gguf");
  msg = error_of([&] { resolve_model("bge-f16", ModelKind::Llm, cache_, config_); },
                 ErrorKind::InvalidArgument);
  EXPECT_NE(msg.find("is a model of kind 'embedding', not 'llm'"), std::string::npos) << msg;
  EXPECT_EQ(resolve_model("bge-f16", ModelKind::Embedding, cache_, config_),
            (cache_.root() / "hf/org/bge/bge-f16.gguf").string());

  // The config's default when nothing is named; a missing default file is reported.
  save_defaults(config_, Defaults{llama.model.path.string(), "", "", ""});
  EXPECT_EQ(resolve_model("", ModelKind::Llm, cache_, config_), llama.model.path.string());
  fs::remove(llama.model.path);
  msg = error_of([&] { resolve_model("", ModelKind::Llm, cache_, config_); }, ErrorKind::NotFound);
  EXPECT_NE(msg.find("does not exist"), std::string::npos) << msg;
}

TEST_F(CacheTest, ResolveKokoroGivesItsFolder) {
  get("hf://org/kokoro/kokoro-v1_0.pth");
  get("hf://org/kokoro/voices/af_one.pt");
  EXPECT_EQ(resolve_model("kokoro-v1_0", ModelKind::Tts, cache_, config_),
            (cache_.root() / "hf/org/kokoro").string());
  EXPECT_EQ(resolve_model("af_one", ModelKind::Voice, cache_, config_),
            (cache_.root() / "hf/org/kokoro/voices/af_one.pt").string());
}

TEST_F(CacheTest, RemoveDropsFileManifestEntryAndConfigReferences) {
  const PullResult llama = get("hf://org/llama/tiny-Q4_K_M.gguf");
  const PullResult qwen = get("hf://org/qwen/tiny-Q4_K_M.gguf");
  const PullResult tts = get("hf://org/kokoro/kokoro-v1_0.pth");
  // Other keys of the config file belong to others and must survive.
  test::write_bytes(config_, "{\"server\": {\"port\": 8080}}");
  save_defaults(config_, Defaults{llama.model.path.string(), "", tts.model.path.parent_path().string(), ""});

  std::string msg =
      error_of([&] { remove_model("tiny-Q4_K_M.gguf", cache_, config_); }, ErrorKind::InvalidArgument);
  EXPECT_NE(msg.find("hf/org/llama/tiny-Q4_K_M.gguf"), std::string::npos) << msg;
  EXPECT_TRUE(fs::exists(llama.model.path));
  msg = error_of([&] { remove_model("nope.gguf", cache_, config_); }, ErrorKind::NotFound);
  EXPECT_NE(msg.find("'nope.gguf'"), std::string::npos) << msg;

  const CachedModel gone = remove_model("org/llama/tiny-Q4_K_M.gguf", cache_, config_);
  EXPECT_EQ(gone.path, llama.model.path);
  EXPECT_FALSE(fs::exists(llama.model.path));
  EXPECT_FALSE(fs::exists(llama.model.path.parent_path()));  // the empty repo folder too
  EXPECT_FALSE(cache_.entry("hf/org/llama/tiny-Q4_K_M.gguf").has_value());
  EXPECT_TRUE(cache_.entry("hf/org/qwen/tiny-Q4_K_M.gguf").has_value());
  EXPECT_TRUE(fs::exists(qwen.model.path));
  Defaults d = load_defaults(config_);
  EXPECT_EQ(d.llm, "");
  EXPECT_EQ(d.kokoro_dir, tts.model.path.parent_path().string());

  remove_model("kokoro-v1_0.pth", cache_, config_);
  d = load_defaults(config_);
  EXPECT_EQ(d.kokoro_dir, "");
  const auto config = nlohmann::json::parse(test::read_bytes(config_));
  EXPECT_EQ(config["server"]["port"], 8080);
  EXPECT_FALSE(config.contains("llm"));
}

TEST_F(CacheTest, ConfigRoundTripAndErrors) {
  EXPECT_EQ(load_defaults(config_).llm, "");  // no file yet
  save_defaults(config_, Defaults{"/m/a.gguf", "/m/e.gguf", "/m/kokoro", "/m/kokoro/voices/v.pt"});
  const Defaults d = load_defaults(config_);
  EXPECT_EQ(d.llm, "/m/a.gguf");
  EXPECT_EQ(d.embedding, "/m/e.gguf");
  EXPECT_EQ(d.kokoro_dir, "/m/kokoro");
  EXPECT_EQ(d.voice, "/m/kokoro/voices/v.pt");
  test::write_bytes(config_, "{\"llm\": 3}");
  error_of([&] { load_defaults(config_); }, ErrorKind::InvalidFormat);
  test::write_bytes(config_, "not json");
  const std::string msg = error_of([&] { load_defaults(config_); }, ErrorKind::InvalidFormat);
  EXPECT_NE(msg.find(config_.string()), std::string::npos) << msg;
}

TEST_F(CacheTest, DefaultLocationsFollowTheEnvironment) {
  {
    ScopedEnv a("XNAI_MODELS", "/data/models");
    ScopedEnv b("XNAI_CONFIG", "/etc/xnai.json");
    EXPECT_EQ(Cache::default_root(), fs::path("/data/models"));
    EXPECT_EQ(config_path(), fs::path("/etc/xnai.json"));
  }
  ScopedEnv a("XNAI_MODELS", std::nullopt);
  ScopedEnv b("XNAI_CONFIG", std::nullopt);
  ScopedEnv c("XDG_CACHE_HOME", std::nullopt);
  ScopedEnv d("XDG_CONFIG_HOME", std::nullopt);
  ScopedEnv home("HOME", "/home/someone");
  EXPECT_EQ(Cache::default_root(), fs::path("/home/someone/.cache/xnai/models"));
  EXPECT_EQ(config_path(), fs::path("/home/someone/.config/xnai/config.json"));
}

std::vector<RecommendedFile> fake_set(const std::string& llm, const std::string& bge,
                                      const std::string& kokoro, const std::string& voice) {
  // The shape of the real table, served by the fake Hub.
  static std::string sha[4];
  sha[0] = FakeHub::detail_sha256(llm);
  sha[1] = FakeHub::detail_sha256(bge);
  sha[2] = FakeHub::detail_sha256(kokoro);
  sha[3] = FakeHub::detail_sha256(voice);
  return {
      {"llm", "org/llama", "tiny-Q4_K_M.gguf", "main", llm.size(), sha[0].c_str(), ""},
      {"embedding", "org/bge", "bge-f16.gguf", "main", bge.size(), sha[1].c_str(), ""},
      {"tts", "org/kokoro", "kokoro-v1_0.pth", "main", kokoro.size(), sha[2].c_str(), ""},
      {"tts-config", "org/kokoro", "config.json", "main", 17, "", ""},
      {"voice", "org/kokoro", "voices/af_one.pt", "main", voice.size(), sha[3].c_str(), ""},
      {"voice", "org/kokoro", "voices/bf_two.pt", "main", 2048, "", ""},
  };
}

TEST_F(CacheTest, PullSetWritesDefaultsOnlyWhenComplete) {
  const std::string kokoro = test::make_zip_like(4096), voice = test::make_zip_like(2048, 1);
  const auto set = fake_set(llm_, bge_, kokoro, voice);
  test::write_bytes(config_, "{\"theme\": \"dark\", \"llm\": \"/old/model.gguf\"}");

  // Not enough space: refused before a single request.
  PullOptions tight = opts_;
  tight.free_space = [](const fs::path&) { return uint64_t{4096}; };
  const std::string msg = error_of([&] { pull_set(set, cache_, config_, tight); }, ErrorKind::Io);
  EXPECT_NE(msg.find("no space left: need"), std::string::npos) << msg;
  EXPECT_EQ(hub_.hub_requests, 0);

  // A file that fails its checksum stops the set; the defaults stay as they were.
  auto broken = set;
  broken[4].sha256 = "0000000000000000000000000000000000000000000000000000000000000000";
  error_of([&] { pull_set(broken, cache_, config_, opts_); }, ErrorKind::InvalidFormat);
  EXPECT_EQ(load_defaults(config_).llm, "/old/model.gguf");

  std::vector<size_t> started;
  const auto results = pull_set(set, cache_, config_, opts_, [&](size_t i) { started.push_back(i); });
  EXPECT_EQ(started, (std::vector<size_t>{0, 1, 2, 3, 4, 5}));
  ASSERT_EQ(results.size(), set.size());
  const Defaults d = load_defaults(config_);
  EXPECT_EQ(d.llm, (cache_.root() / "hf/org/llama/tiny-Q4_K_M.gguf").string());
  EXPECT_EQ(d.embedding, (cache_.root() / "hf/org/bge/bge-f16.gguf").string());
  EXPECT_EQ(d.kokoro_dir, (cache_.root() / "hf/org/kokoro").string());
  EXPECT_EQ(d.voice, (cache_.root() / "hf/org/kokoro/voices/af_one.pt").string());
  EXPECT_EQ(nlohmann::json::parse(test::read_bytes(config_))["theme"], "dark");
  EXPECT_EQ(results[0].model.verified_by, "sha256 given");
  // With the defaults written, nothing needs naming.
  EXPECT_EQ(resolve_model("", ModelKind::Llm, cache_, config_), d.llm);
  EXPECT_EQ(resolve_model("", ModelKind::Embedding, cache_, config_), d.embedding);
  EXPECT_EQ(resolve_model("", ModelKind::Tts, cache_, config_), d.kokoro_dir);
  EXPECT_EQ(resolve_model("", ModelKind::Config, cache_, config_), d.kokoro_dir + "/config.json");

  // Again, offline: everything comes from the cache, no request is made.
  const int before = hub_.hub_requests + hub_.cdn_requests;
  PullOptions offline = opts_;
  offline.offline = true;
  for (const auto& r : pull_set(set, cache_, config_, offline)) EXPECT_FALSE(r.downloaded);
  EXPECT_EQ(hub_.hub_requests + hub_.cdn_requests, before);
}

}  // namespace
}  // namespace xnai::hub
