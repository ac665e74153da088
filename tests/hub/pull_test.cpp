// pull() against the fake Hub on loopback (fake_hub.h): the redirect to a second host,
// ETag and size headers, Range resumes after a dropped connection or a killed process,
// checksum mismatches, 401/404, HTML instead of GGUF, offline mode and a full disk.
// Every failure must leave nothing under the final name.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

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

class PullTest : public ::testing::Test {
 protected:
  PullTest()
      : endpoint_env_("HF_ENDPOINT", hub_.endpoint()),
        token_env_("HF_TOKEN", std::nullopt),
        cache_(tmp_.path() / "models") {
    llm_ = test::make_gguf("llama", 7, DType::Q8_0, 1024, 1);  // ~272 KiB: many chunks
    hub_.add("org/llm", "model-q8_0.gguf", FakeFile{llm_});
    opts_.retry_delay_ms = 0;
    opts_.max_attempts = 3;
  }

  PullResult pull_hf(const std::string& ref) { return pull(parse_source(ref), cache_, opts_); }

  // Runs f, expecting an Error of `kind`; returns its message.
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

  fs::path final_path(const std::string& ref) const { return cache_.path_for(parse_source(ref)); }
  static fs::path with(fs::path p, const char* suffix) { return p += suffix; }

  FakeHub hub_;
  TempDir tmp_;
  ScopedEnv endpoint_env_, token_env_;
  Cache cache_;
  PullOptions opts_;
  std::string llm_;
};

constexpr const char* kLlm = "hf://org/llm/model-q8_0.gguf";

TEST_F(PullTest, FollowsRedirectToSecondHostAndVerifiesEtag) {
  std::vector<DownloadProgress> seen;
  opts_.on_progress = [&](const DownloadProgress& p) { seen.push_back(p); };
  const PullResult r = pull_hf(kLlm);
  EXPECT_TRUE(r.downloaded);
  EXPECT_EQ(r.model.path, cache_.root() / "hf/org/llm/model-q8_0.gguf");
  EXPECT_EQ(test::read_bytes(r.model.path), llm_);
  EXPECT_EQ(r.model.sha256, FakeHub::detail_sha256(llm_));
  EXPECT_EQ(r.model.verified_by, "Hub ETag");
  EXPECT_EQ(r.model.size, llm_.size());
  EXPECT_EQ(r.model.kind, ModelKind::Llm);
  EXPECT_EQ(r.model.architecture, "llama");
  EXPECT_EQ(r.model.file_type, 7);
  EXPECT_EQ(r.model.dominant_type, "q8_0");
  EXPECT_EQ(r.model.commit, "0123456789abcdef0123456789abcdef01234567");
  EXPECT_EQ(r.model.revision, "main");
  EXPECT_EQ(hub_.hub_requests, 1);
  EXPECT_EQ(hub_.cdn_requests, 1);
  EXPECT_EQ(hub_.cdn_ranges(), std::vector<std::string>{""});
  EXPECT_FALSE(fs::exists(with(r.model.path, ".part")));
  EXPECT_FALSE(fs::exists(with(r.model.path, ".part.json")));
  // Progress: the total is known from the start and the last report is complete.
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.front().total, llm_.size());
  EXPECT_EQ(seen.back().done, llm_.size());
  for (size_t i = 1; i < seen.size(); ++i) EXPECT_GE(seen[i].done, seen[i - 1].done);
  // The manifest (written atomically) records the file.
  const auto manifest = nlohmann::json::parse(test::read_bytes(cache_.manifest_path()));
  const auto& e = manifest["files"]["hf/org/llm/model-q8_0.gguf"];
  EXPECT_EQ(e["source"], kLlm);
  EXPECT_EQ(e["sha256"], FakeHub::detail_sha256(llm_));
  EXPECT_EQ(e["size"], llm_.size());
  EXPECT_EQ(e["kind"], "llm");
  EXPECT_EQ(e["url"], hub_.endpoint() + "/org/llm/resolve/main/model-q8_0.gguf");
}

TEST_F(PullTest, SecondPullUsesTheCacheWithoutTheNetwork) {
  pull_hf(kLlm);
  const PullResult again = pull_hf(kLlm);
  EXPECT_FALSE(again.downloaded);
  EXPECT_EQ(again.model.sha256, FakeHub::detail_sha256(llm_));
  EXPECT_EQ(hub_.hub_requests, 1);
  // --verify re-hashes; an edited file is no longer a verified copy and is fetched again.
  opts_.reverify = true;
  EXPECT_FALSE(pull_hf(kLlm).downloaded);
  std::string edited = llm_;
  edited[edited.size() - 1] ^= 1;
  test::write_bytes(final_path(kLlm), edited);
  opts_.reverify = false;
  EXPECT_TRUE(pull_hf(kLlm).downloaded);
  EXPECT_EQ(test::read_bytes(final_path(kLlm)), llm_);
  EXPECT_EQ(hub_.hub_requests, 2);
}

TEST_F(PullTest, OfflineNeverOpensASocket) {
  opts_.offline = true;
  const std::string msg = error_of([&] { pull_hf(kLlm); }, ErrorKind::NotFound);
  EXPECT_NE(msg.find("offline"), std::string::npos) << msg;
  EXPECT_NE(msg.find("not in the cache"), std::string::npos) << msg;
  EXPECT_EQ(hub_.hub_requests + hub_.cdn_requests, 0);
  EXPECT_FALSE(fs::exists(final_path(kLlm)));

  opts_.offline = false;
  pull_hf(kLlm);
  opts_.offline = true;
  const int before = hub_.hub_requests + hub_.cdn_requests;
  const PullResult r = pull_hf(kLlm);
  EXPECT_FALSE(r.downloaded);
  EXPECT_EQ(hub_.hub_requests + hub_.cdn_requests, before);
  // A cached copy with another checksum than asked for is not good enough offline.
  opts_.expected_sha256 = std::string(64, 'a');
  error_of([&] { pull_hf(kLlm); }, ErrorKind::NotFound);
  EXPECT_EQ(hub_.hub_requests + hub_.cdn_requests, before);
}

TEST_F(PullTest, DroppedConnectionResumesWithRange) {
  hub_.drop_at = llm_.size() / 2;
  hub_.drops = 1;
  const PullResult r = pull_hf(kLlm);
  EXPECT_EQ(test::read_bytes(r.model.path), llm_);
  EXPECT_EQ(r.model.verified_by, "Hub ETag");
  const auto ranges = hub_.cdn_ranges();
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[0], "");
  // The second request continues where the bytes stopped (all that was sent arrived).
  EXPECT_EQ(ranges[1], "bytes=" + std::to_string(llm_.size() / 2) + "-");
  EXPECT_EQ(hub_.hub_requests, 2);  // each attempt starts at the Hub (CDN URLs expire)
}

TEST_F(PullTest, KilledProcessResumesFromThePartFile) {
  // A first pull that gives up after its attempts leaves the part and says so.
  hub_.drop_at = 100000;
  hub_.drops = 1;
  opts_.max_attempts = 1;
  const std::string msg = error_of([&] { pull_hf(kLlm); }, ErrorKind::Io);
  EXPECT_NE(msg.find("kept in"), std::string::npos) << msg;
  EXPECT_NE(msg.find("resume"), std::string::npos) << msg;
  const fs::path final = final_path(kLlm);
  EXPECT_FALSE(fs::exists(final));
  EXPECT_EQ(fs::file_size(with(final, ".part")), 100000u);
  const auto meta = nlohmann::json::parse(test::read_bytes(with(final, ".part.json")));
  EXPECT_EQ(meta["etag"], FakeHub::detail_sha256(llm_));
  EXPECT_EQ(meta["size"], llm_.size());

  // The next process continues from byte 100000 and verifies the whole file.
  opts_.max_attempts = 3;
  const PullResult r = pull_hf(kLlm);
  EXPECT_EQ(r.resumed_from, 100000u);
  EXPECT_EQ(test::read_bytes(final), llm_);
  EXPECT_EQ(hub_.cdn_ranges().back(), "bytes=100000-");
  EXPECT_FALSE(fs::exists(with(final, ".part")));
  EXPECT_FALSE(fs::exists(with(final, ".part.json")));
}

TEST_F(PullTest, PartOfAnOlderVersionIsNotContinued) {
  hub_.drop_at = 100000;
  hub_.drops = 1;
  opts_.max_attempts = 1;
  error_of([&] { pull_hf(kLlm); }, ErrorKind::Io);
  // The file changes upstream: the Hub's ETag differs from the part's sidecar.
  const std::string v2 = test::make_gguf("llama", 7, DType::Q8_0, 1024, 2);
  hub_.add("org/llm", "model-q8_0.gguf", FakeFile{v2});
  opts_.max_attempts = 3;
  const PullResult r = pull_hf(kLlm);
  EXPECT_EQ(r.resumed_from, 0u);  // the old bytes were dropped, not reused
  EXPECT_EQ(test::read_bytes(r.model.path), v2);
  EXPECT_EQ(hub_.cdn_ranges().back(), "");  // fetched from byte 0, not appended
}

TEST_F(PullTest, PartWithoutSidecarStartsOver) {
  const fs::path final = final_path(kLlm);
  test::write_bytes(with(final, ".part"), "garbage from somewhere else");
  const PullResult r = pull_hf(kLlm);
  EXPECT_EQ(test::read_bytes(r.model.path), llm_);
  EXPECT_EQ(r.resumed_from, 0u);
  EXPECT_EQ(hub_.cdn_ranges(), std::vector<std::string>{""});
}

TEST_F(PullTest, ServerIgnoringRangeRestartsFromZero) {
  hub_.drop_at = llm_.size() / 3;
  hub_.drops = 1;
  hub_.ignore_range = true;
  const PullResult r = pull_hf(kLlm);
  EXPECT_EQ(test::read_bytes(r.model.path), llm_);
  const auto ranges = hub_.cdn_ranges();
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_NE(ranges[1], "");  // asked for the rest, got 200 with everything
}

TEST_F(PullTest, CompletePartIsVerifiedOnRangeNotSatisfiable) {
  const fs::path final = final_path(kLlm);
  test::write_bytes(with(final, ".part"), llm_);
  const Source s = parse_source(kLlm);
  test::write_bytes(
      with(final, ".part.json"),
      nlohmann::json{{"url", s.url}, {"etag", FakeHub::detail_sha256(llm_)}, {"size", llm_.size()}}.dump());
  const PullResult r = pull_hf(kLlm);
  EXPECT_EQ(r.resumed_from, llm_.size());
  EXPECT_EQ(hub_.cdn_ranges(), std::vector<std::string>{"bytes=" + std::to_string(llm_.size()) + "-"});
  EXPECT_EQ(r.model.sha256, FakeHub::detail_sha256(llm_));
  EXPECT_EQ(r.model.verified_by, "Hub ETag");
}

TEST_F(PullTest, WrongBytesFailTheChecksumAndLeaveNothing) {
  std::string bad = llm_;
  bad[bad.size() / 2] ^= 0x55;
  hub_.add("org/llm", "bad.gguf", FakeFile{bad, FakeHub::detail_sha256(llm_)});
  const std::string msg = error_of([&] { pull_hf("hf://org/llm/bad.gguf"); }, ErrorKind::InvalidFormat);
  EXPECT_NE(msg.find("checksum mismatch for bad.gguf"), std::string::npos) << msg;
  EXPECT_NE(msg.find(FakeHub::detail_sha256(llm_)), std::string::npos) << msg;
  EXPECT_NE(msg.find(FakeHub::detail_sha256(bad)), std::string::npos) << msg;
  const fs::path final = final_path("hf://org/llm/bad.gguf");
  EXPECT_FALSE(fs::exists(final));
  EXPECT_FALSE(fs::exists(with(final, ".part")));
  EXPECT_FALSE(fs::exists(with(final, ".part.json")));
  EXPECT_FALSE(cache_.entry("hf/org/llm/bad.gguf").has_value());
}

TEST_F(PullTest, UserChecksumIsChecked) {
  opts_.expected_sha256 = FakeHub::detail_sha256("something else");
  const std::string msg = error_of([&] { pull_hf(kLlm); }, ErrorKind::InvalidFormat);
  EXPECT_NE(msg.find("expected sha256 " + opts_.expected_sha256), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(final_path(kLlm)));
  opts_.expected_sha256 = FakeHub::detail_sha256(llm_);
  EXPECT_EQ(pull_hf(kLlm).model.verified_by, "sha256 given");
  opts_.expected_sha256 = "xyz";
  error_of([&] { pull_hf(kLlm); }, ErrorKind::InvalidArgument);
}

TEST_F(PullTest, SizeDifferentFromExpectedFailsBeforeDownloading) {
  opts_.expected_size = llm_.size() + 1;
  const std::string msg = error_of([&] { pull_hf(kLlm); }, ErrorKind::InvalidFormat);
  EXPECT_NE(msg.find("expected " + std::to_string(llm_.size() + 1)), std::string::npos) << msg;
  EXPECT_EQ(hub_.cdn_requests, 0);
}

TEST_F(PullTest, PrivateRepoNeedsTheRightToken) {
  hub_.add("org/private", "m.gguf", FakeFile{llm_});
  hub_.set_private("org/private", "hf_good");
  const char* ref = "hf://org/private/m.gguf";
  std::string msg = error_of([&] { pull_hf(ref); }, ErrorKind::InvalidArgument);
  EXPECT_NE(msg.find("needs authentication (HTTP 401)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("set HF_TOKEN"), std::string::npos) << msg;
  {
    ScopedEnv bad("HF_TOKEN", "hf_bad");
    msg = error_of([&] { pull_hf(ref); }, ErrorKind::InvalidArgument);
    EXPECT_NE(msg.find("rejected HF_TOKEN (HTTP 401)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("Invalid credentials"), std::string::npos) << msg;
  }
  EXPECT_FALSE(fs::exists(final_path(ref)));
  EXPECT_FALSE(fs::exists(with(final_path(ref), ".part")));
  {
    ScopedEnv good("HF_TOKEN", "hf_good");
    EXPECT_EQ(test::read_bytes(pull_hf(ref).model.path), llm_);
  }
  EXPECT_EQ(hub_.hub_authorizations().back(), "Bearer hf_good");
  EXPECT_FALSE(hub_.cdn_saw_authorization);  // never forwarded to the other host
  // PullOptions::token overrides the environment.
  opts_.token = "hf_good";
  opts_.force = true;
  EXPECT_TRUE(pull_hf(ref).downloaded);
  EXPECT_FALSE(hub_.cdn_saw_authorization);
}

TEST_F(PullTest, RenamedRepoRedirectKeepsTokenOnTheSameHost) {
  hub_.add("org/new-name", "m.gguf", FakeFile{llm_});
  hub_.set_private("org/new-name", "hf_good");
  hub_.set_moved("org/old-name", "org/new-name");
  ScopedEnv good("HF_TOKEN", "hf_good");
  const PullResult r = pull_hf("hf://org/old-name/m.gguf");
  EXPECT_EQ(test::read_bytes(r.model.path), llm_);
  EXPECT_EQ(r.model.path, cache_.root() / "hf/org/old-name/m.gguf");
  EXPECT_EQ(hub_.hub_authorizations(), (std::vector<std::string>{"Bearer hf_good", "Bearer hf_good"}));
  EXPECT_FALSE(hub_.cdn_saw_authorization);
}

TEST_F(PullTest, UnknownRepoFileOrRevisionIsNamed) {
  std::string msg = error_of([&] { pull_hf("hf://nobody/nothing/x.gguf"); }, ErrorKind::NotFound);
  EXPECT_NE(msg.find("repository 'nobody/nothing' not found"), std::string::npos) << msg;
  msg = error_of([&] { pull_hf("hf://org/llm/missing.gguf"); }, ErrorKind::NotFound);
  EXPECT_NE(msg.find("file 'missing.gguf' not found in 'org/llm' at revision 'main'"), std::string::npos)
      << msg;
  msg = error_of([&] { pull_hf("hf://org/llm/model-q8_0.gguf@v9"); }, ErrorKind::NotFound);
  EXPECT_NE(msg.find("revision 'v9' not found in 'org/llm'"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(cache_.root() / "hf/nobody"));
  EXPECT_FALSE(fs::exists(final_path("hf://org/llm/missing.gguf")));
  EXPECT_FALSE(fs::exists(with(final_path("hf://org/llm/missing.gguf"), ".part")));
}

TEST_F(PullTest, HtmlInsteadOfGgufIsRefused) {
  hub_.add("org/llm", "page.gguf", FakeFile{"<!DOCTYPE html>\n<html><body>Sign in</body></html>\n"});
  const std::string msg = error_of([&] { pull_hf("hf://org/llm/page.gguf"); }, ErrorKind::InvalidFormat);
  EXPECT_NE(msg.find("page.gguf is not a GGUF file (starts with '<!DOCTYPE html>')"), std::string::npos)
      << msg;
  EXPECT_FALSE(fs::exists(final_path("hf://org/llm/page.gguf")));
  EXPECT_FALSE(fs::exists(with(final_path("hf://org/llm/page.gguf"), ".part")));
}

TEST_F(PullTest, ContentMustMatchTheName) {
  std::string truncated = llm_.substr(0, 200);  // a GGUF header cut short
  hub_.add("org/llm", "cut.gguf", FakeFile{truncated});
  std::string msg = error_of([&] { pull_hf("hf://org/llm/cut.gguf"); }, ErrorKind::InvalidFormat);
  EXPECT_NE(msg.find("cut.gguf is not a valid GGUF file"), std::string::npos) << msg;
  hub_.add("org/tts", "kokoro-v1_0.pth",
           FakeFile{"version https://git-lfs.github.com/spec/v1\noid sha256:00\n"});
  msg = error_of([&] { pull_hf("hf://org/tts/kokoro-v1_0.pth"); }, ErrorKind::InvalidFormat);
  EXPECT_NE(msg.find("kokoro-v1_0.pth is not a PyTorch checkpoint"), std::string::npos) << msg;
  EXPECT_NE(msg.find("starts with 'version https://git-lfs.…'"), std::string::npos) << msg;
  hub_.add("org/tts", "config.json", FakeFile{"{\"n_token\": 178", "", false});
  msg = error_of([&] { pull_hf("hf://org/tts/config.json"); }, ErrorKind::InvalidFormat);
  EXPECT_NE(msg.find("config.json is not valid JSON"), std::string::npos) << msg;
  hub_.add("org/tts", "empty.gguf", FakeFile{""});
  msg = error_of([&] { pull_hf("hf://org/tts/empty.gguf"); }, ErrorKind::InvalidFormat);
  EXPECT_NE(msg.find("the download is empty"), std::string::npos) << msg;
  for (const char* f : {"hf/org/llm/cut.gguf", "hf/org/tts/kokoro-v1_0.pth", "hf/org/tts/config.json",
                        "hf/org/tts/empty.gguf"}) {
    EXPECT_FALSE(fs::exists(cache_.root() / f)) << f;
    EXPECT_FALSE(fs::exists(cache_.root() / (std::string(f) + ".part"))) << f;
  }
}

TEST_F(PullTest, KindsOfTtsFiles) {
  hub_.add("org/tts", "kokoro-v1_0.pth", FakeFile{test::make_zip_like(5000)});
  hub_.add("org/tts", "voices/af_test.pt", FakeFile{test::make_zip_like(3000, 9)});
  hub_.add("org/tts", "config.json", FakeFile{"{\"n_token\": 178}\n", "", false});
  EXPECT_EQ(pull_hf("hf://org/tts/kokoro-v1_0.pth").model.kind, ModelKind::Tts);
  EXPECT_EQ(pull_hf("hf://org/tts/voices/af_test.pt").model.kind, ModelKind::Voice);
  const PullResult cfg = pull_hf("hf://org/tts/config.json");
  EXPECT_EQ(cfg.model.kind, ModelKind::Config);
  // A git (non-LFS) file: its ETag is a sha1, so there is nothing to verify against.
  EXPECT_EQ(cfg.model.verified_by, "");
  EXPECT_EQ(cfg.model.sha256, FakeHub::detail_sha256("{\"n_token\": 178}\n"));
  EXPECT_EQ(hub_.cdn_requests, 2);
}

TEST_F(PullTest, EmbeddingKindFromArchitectureOrPooling) {
  hub_.add("org/emb", "bge.gguf", FakeFile{test::make_gguf("bert", 1, DType::F16, 8)});
  hub_.add("org/emb", "qwen3-embed.gguf", FakeFile{test::make_gguf("qwen3", 1, DType::F16, 8, 1, true)});
  EXPECT_EQ(pull_hf("hf://org/emb/bge.gguf").model.kind, ModelKind::Embedding);
  const PullResult q = pull_hf("hf://org/emb/qwen3-embed.gguf");
  EXPECT_EQ(q.model.kind, ModelKind::Embedding);
  EXPECT_EQ(q.model.architecture, "qwen3");
  EXPECT_EQ(q.model.dominant_type, "f16");
}

TEST_F(PullTest, NoSpaceIsReportedBeforeDownloading) {
  opts_.free_space = [](const fs::path&) { return uint64_t{1000}; };
  const std::string msg = error_of([&] { pull_hf(kLlm); }, ErrorKind::Io);
  EXPECT_NE(msg.find("no space left: need " + format_bytes(llm_.size()) + ", have 1000 B"), std::string::npos)
      << msg;
  EXPECT_EQ(hub_.cdn_requests, 0);
  EXPECT_FALSE(fs::exists(final_path(kLlm)));
  EXPECT_FALSE(fs::exists(with(final_path(kLlm), ".part")));
}

TEST_F(PullTest, NoSpaceDuringTheWriteIsTheSameClearMessage) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "/dev/full not available";
  const fs::path final = final_path(kLlm);
  fs::create_directories(final.parent_path());
  fs::create_symlink("/dev/full", with(final, ".part"));  // every write fails with ENOSPC
  const std::string msg = error_of([&] { pull_hf(kLlm); }, ErrorKind::Io);
  EXPECT_NE(msg.find("no space left: need " + format_bytes(llm_.size())), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(final));
}

TEST_F(PullTest, PlainUrlWithAndWithoutChecksum) {
  ScopedEnv token("HF_TOKEN", "hf_secret");  // a Hub token is never sent to another host
  hub_.add_plain("file.gguf", llm_);
  const std::string url = hub_.cdn_origin() + "/plain/file.gguf";
  const PullResult r = pull(parse_source(url), cache_, opts_);
  const std::string port = hub_.cdn_origin().substr(hub_.cdn_origin().rfind(':') + 1);
  EXPECT_EQ(r.model.rel, "url/127.0.0.2_" + port + "/file.gguf");
  EXPECT_EQ(test::read_bytes(r.model.path), llm_);
  EXPECT_EQ(r.model.verified_by, "");  // nothing published to compare with
  EXPECT_EQ(r.model.sha256, FakeHub::detail_sha256(llm_));
  opts_.expected_sha256 = FakeHub::detail_sha256(llm_);
  opts_.force = true;
  EXPECT_EQ(pull(parse_source(url), cache_, opts_).model.verified_by, "sha256 given");
  const std::string msg =
      error_of([&] { pull(parse_source(hub_.cdn_origin() + "/plain/nope.gguf"), cache_, opts_); },
               ErrorKind::NotFound);
  EXPECT_NE(msg.find("not found (HTTP 404)"), std::string::npos) << msg;
  EXPECT_FALSE(hub_.cdn_saw_authorization);
}

TEST_F(PullTest, RedirectLoopIsBounded) {
  opts_.max_redirects = 4;
  const std::string msg = error_of([&] { pull_hf("hf://loop/loop/x.gguf"); }, ErrorKind::Io);
  EXPECT_NE(msg.find("more than 4 redirects"), std::string::npos) << msg;
  EXPECT_EQ(hub_.hub_requests, 5);
}

TEST_F(PullTest, UnreachableServerFailsAfterBoundedAttempts) {
  ScopedEnv dead("HF_ENDPOINT", "http://127.0.0.1:1");
  opts_.max_attempts = 2;
  const std::string msg = error_of([&] { pull_hf(kLlm); }, ErrorKind::Io);
  EXPECT_NE(msg.find("failed after 2 attempts: cannot reach http://127.0.0.1:1"), std::string::npos) << msg;
}

TEST_F(PullTest, ConcurrentPullOfTheSameFileIsRefused) {
  const fs::path part = with(final_path(kLlm), ".part");
  fs::create_directories(part.parent_path());
  const int fd = ::open(part.c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  const std::string msg = error_of([&] { pull_hf(kLlm); }, ErrorKind::Io);
  EXPECT_NE(msg.find("another xnai pull is already downloading"), std::string::npos) << msg;
  ::close(fd);
  EXPECT_EQ(test::read_bytes(pull_hf(kLlm).model.path), llm_);
}

}  // namespace
}  // namespace xnai::hub
