// The recommended set: well-formed (every row parses as a Hub source, sizes and checksums
// are there and well-formed, no file twice), complete (an instruct LLM in Q4_K_M, an
// embedding model in GGUF, Kokoro weights + config + voices), small enough for an 8 GB
// laptop, and Kokoro's config.json checksum agrees with the copy in ../shared/testdata.
#include <gtest/gtest.h>

#include <set>

#include "core/error.h"
#include "hub/hub_internal.h"
#include "test_support.h"

namespace xnai::hub {
namespace {

TEST(Recommended, EnglishSetIsCompleteAndWellFormed) {
  EXPECT_EQ(recommended_languages(), std::vector<std::string>{"en"});
  const auto set = recommended_set("en");
  std::multiset<std::string> roles;
  std::set<std::string> files;
  uint64_t total = 0;
  for (const auto& f : set) {
    roles.insert(f.role);
    const Source s = recommended_source(f);
    EXPECT_TRUE(s.hf) << f.path;
    EXPECT_EQ(s.repo, f.repo);
    EXPECT_EQ(s.path, f.path);
    EXPECT_EQ(s.revision, f.revision);
    EXPECT_TRUE(files.insert(s.text).second) << "listed twice: " << s.text;
    EXPECT_GT(f.size, 0u) << f.path;
    const std::string sha = f.sha256;
    EXPECT_TRUE(sha.empty() || (detail::is_sha256_hex(sha) && detail::to_lower(sha) == sha)) << f.path;
    EXPECT_FALSE(std::string(f.what).empty()) << f.path;
    total += f.size;
  }
  EXPECT_EQ(roles.count("llm"), 1u);
  EXPECT_EQ(roles.count("embedding"), 1u);
  EXPECT_EQ(roles.count("tts"), 1u);
  EXPECT_EQ(roles.count("tts-config"), 1u);
  EXPECT_GE(roles.count("voice"), 1u);
  // The first voice becomes the default: Kokoro's own default voice.
  for (const auto& f : set)
    if (std::string(f.role) == "voice") {
      EXPECT_STREQ(f.path, "voices/af_heart.pt");
      break;
    }
  // Room for the OS, a 4k KV cache and the runtime on an 8 GB machine.
  EXPECT_LT(total, 3ull << 30);
}

TEST(Recommended, ChosenFilesFitTheEngine) {
  for (const auto& f : recommended_set("en")) {
    const std::string role = f.role, path = f.path;
    if (role == "llm") {
      EXPECT_NE(path.find("Q4_K_M.gguf"), std::string::npos) << path;
    }
    if (role == "embedding") {
      EXPECT_NE(path.find(".gguf"), std::string::npos) << path;
    }
    if (role == "tts") {
      EXPECT_EQ(path, "kokoro-v1_0.pth");
    }
    if (role == "tts-config") {
      EXPECT_EQ(path, "config.json");
    }
    if (role == "tts" || role == "tts-config" || role == "voice") {
      EXPECT_STREQ(f.repo, "hexgrad/Kokoro-82M");
      EXPECT_EQ(std::string(f.revision).size(), 40u) << "Kokoro is pinned to a commit";
    }
  }
}

TEST(Recommended, KokoroConfigChecksumMatchesTheReferenceCopy) {
  XNAI_SKIP_IF_MISSING(config, "kokoro/kokoro-82m-v1.0-config.json");
  for (const auto& f : recommended_set("en")) {
    if (std::string(f.role) != "tts-config") continue;
    EXPECT_EQ(detail::sha256_file(config), f.sha256);
    EXPECT_EQ(std::filesystem::file_size(config), f.size);
  }
}

TEST(Recommended, UnknownLanguageListsTheKnownOnes) {
  try {
    recommended_set("xx");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("known: en"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace xnai::hub
