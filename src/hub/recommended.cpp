// The tested default set of `xnai pull --recommended`: one table, kept identical to the
// README and docs/models.md. Sized for an 8 GB laptop running all three at once
// (≈ 2.3 GiB of files; ≈ 3.5 GB resident with a 4k context).
//
// Checksums come from the publishers' LFS pointers as mirrored in public pin lists (see
// docs/models.md, "Where the checksums come from"); Kokoro's config.json was also checked
// against the copy in ../shared/testdata/kokoro. A pull checks them in addition to the
// Hub's own ETag.
#include "core/error.h"
#include "hub/hub.h"

namespace xnai::hub {
namespace {

struct Row {
  const char* lang;  // "*" = every language
  RecommendedFile file;
};

constexpr const char* kKokoroRev = "f3ff3571791e39611d31c381e3a41a3af07b4987";

// clang-format off
constexpr Row kRows[] = {
    {"*", {"llm", "bartowski/Llama-3.2-3B-Instruct-GGUF", "Llama-3.2-3B-Instruct-Q4_K_M.gguf", "main",
           2019377696, "6c1a2b41161032677be168d354123594c0e6e67d2b9227c84f296ad037c728ff",
           "Llama 3.2 3B Instruct, Q4_K_M (arch llama, 128k context); Llama 3.2 Community License"}},
    {"en", {"embedding", "CompendiumLabs/bge-small-en-v1.5-gguf", "bge-small-en-v1.5-f16.gguf", "main",
            67308128, "f0b2fef971e8366438bfd2d9aefea1b0115919389448806d290237f638bae999",
            "BAAI bge-small-en-v1.5, f16 (arch bert, 384 dims, CLS pooling); MIT"}},
    {"*", {"tts", "hexgrad/Kokoro-82M", "kokoro-v1_0.pth", kKokoroRev,
           327212226, "496dba118d1a58f5f3db2efc88dbdc216e0483fc89fe6e47ee1f2c53f18ad1e4",
           "Kokoro-82M v1.0 weights (torch.save, f32); Apache-2.0"}},
    {"*", {"tts-config", "hexgrad/Kokoro-82M", "config.json", kKokoroRev,
           2351, "5abb01e2403b072bf03d04fde160443e209d7a0dad49a423be15196b9b43c17f",
           "Kokoro-82M v1.0 config (phoneme vocabulary, shapes)"}},
    {"en", {"voice", "hexgrad/Kokoro-82M", "voices/af_heart.pt", kKokoroRev,
            523425, "0ab5709b8ffab19bfd849cd11d98f75b60af7733253ad0d67b12382a102cb4ff",
            "American English, female (the default voice)"}},
    {"en", {"voice", "hexgrad/Kokoro-82M", "voices/af_bella.pt", kKokoroRev,
            523425, "8cb64e02fcc8de0327a8e13817e49c76c945ecf0052ceac97d3081480e8e48d6",
            "American English, female"}},
    {"en", {"voice", "hexgrad/Kokoro-82M", "voices/am_michael.pt", kKokoroRev,
            523435, "9a443b79a4b22489a5b0ab7c651a0bcd1a30bef675c28333f06971abbd47bd37",
            "American English, male"}},
    {"en", {"voice", "hexgrad/Kokoro-82M", "voices/bf_emma.pt", kKokoroRev,
            523420, "d0a423deabf4a52b4f49318c51742c54e21bb89bbbe9a12141e7758ddb5da701",
            "British English, female"}},
};
// clang-format on

constexpr const char* kLanguages[] = {"en"};

}  // namespace

std::vector<std::string> recommended_languages() { return {std::begin(kLanguages), std::end(kLanguages)}; }

std::vector<RecommendedFile> recommended_set(std::string_view lang) {
  bool known = false;
  for (const char* l : kLanguages) known = known || lang == l;
  if (!known) {
    std::string list;
    for (const char* l : kLanguages) list += std::string(list.empty() ? "" : ", ") + l;
    throw Error(ErrorKind::InvalidArgument, "no recommended set for language '" + std::string(lang) +
                                                "' yet (known: " + list +
                                                "); pull files one by one with hf://");
  }
  std::vector<RecommendedFile> out;
  for (const Row& r : kRows)
    if (std::string_view(r.lang) == "*" || lang == r.lang) out.push_back(r.file);
  return out;
}

Source recommended_source(const RecommendedFile& f) {
  const std::string rev = f.revision;
  return parse_source("hf://" + std::string(f.repo) + "/" + f.path + (rev == "main" ? "" : "@" + rev));
}

}  // namespace xnai::hub
