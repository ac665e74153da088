// Tokenization recorded from llama.cpp (c392e50) for the tiny models in testdata/llm/reference:
// prompt ids with add_special = true, the exact bytes of every token piece, and the pieces and
// end-of-generation flags of the greedy continuations; for BERT the [CLS] … [SEP] ids of the
// embedding sentences.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tokenizer_test_data.h"

namespace xnai::test {
namespace {

std::string hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string r;
  for (unsigned char c : bytes) {
    r.push_back(digits[c >> 4]);
    r.push_back(digits[c & 15]);
  }
  return r;
}

// Python's bytes.decode("utf-8", "replace") (how the reference JSON stores text that is not
// UTF-8): each maximal invalid subpart becomes one U+FFFD.
std::string utf8_replace_invalid(const std::string& s) {
  std::string r;
  const auto byte = [&](size_t i) { return i < s.size() ? static_cast<unsigned char>(s[i]) : 0u; };
  for (size_t i = 0; i < s.size();) {
    const unsigned b = byte(i);
    size_t need = 0;
    unsigned lo = 0x80, hi = 0xBF;
    if (b < 0x80)
      need = 1;
    else if (b >= 0xC2 && b <= 0xDF)
      need = 2;
    else if (b >= 0xE0 && b <= 0xEF) {
      need = 3;
      if (b == 0xE0) lo = 0xA0;
      if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      need = 4;
      if (b == 0xF0) lo = 0x90;
      if (b == 0xF4) hi = 0x8F;
    }
    if (need == 0) {
      r += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    size_t k = 1;
    for (; k < need; ++k) {
      const unsigned c = byte(i + k);
      const unsigned l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
      if (i + k >= s.size() || c < l || c > h) break;
    }
    if (k == need)
      r.append(s, i, need);
    else
      r += "\xEF\xBF\xBD";
    i += k;
  }
  return r;
}

std::vector<std::filesystem::path> reference_jsons() {
  std::vector<std::filesystem::path> files;
  const auto dir = testdata_dir() / "llm" / "reference";
  if (!std::filesystem::is_directory(dir)) return files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(TokenizerReference, PromptTokensAndPiecesMatchLlamaCpp) {
  const auto files = reference_jsons();
  if (files.empty()) GTEST_SKIP() << "conformance data missing: " << (testdata_dir() / "llm/reference");
  size_t checked = 0, skipped = 0;
  for (const auto& path : files) {
    const auto j = nlohmann::json::parse(read_file_bytes(path));
    if (!j.contains("prompt")) continue;  // the BERT embedding files have their own test
    const auto model = testdata_dir() / "llm" / j.at("model").get<std::string>();
    if (!std::filesystem::exists(model)) {
      ++skipped;  // "made but not stored" models: only their JSON exists
      continue;
    }
    SCOPED_TRACE(path.filename().string());
    const auto& tok = cached_tokenizer(model);
    ASSERT_TRUE(j.at("settings").at("add_special").get<bool>());
    ASSERT_FALSE(j.at("settings").at("parse_special").get<bool>());

    const auto expected = j.at("tokens").get<std::vector<int32_t>>();
    const auto got =
        tok.encode(j.at("prompt").get<std::string>(), /*add_special=*/true, /*parse_special=*/false);
    EXPECT_EQ(join(got), join(expected)) << "prompt ids differ";

    const auto hexes = j.at("token_pieces_hex").get<std::vector<std::string>>();
    ASSERT_EQ(hexes.size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(hex(tok.token_to_piece(expected[i], /*special=*/true)), hexes[i])
          << "piece of token " << expected[i];
    }

    const auto& greedy = j.at("greedy");
    const auto g_tokens = greedy.at("tokens").get<std::vector<int32_t>>();
    const auto g_eog = greedy.at("is_eog").get<std::vector<bool>>();
    const auto g_pieces = greedy.at("pieces").get<std::vector<std::string>>();
    ASSERT_EQ(g_tokens.size(), g_eog.size());
    ASSERT_EQ(g_tokens.size(), g_pieces.size());
    std::string concatenated;
    for (size_t k = 0; k < g_tokens.size(); ++k) {
      EXPECT_EQ(tok.is_eog(g_tokens[k]), bool(g_eog[k])) << "is_eog of greedy token " << g_tokens[k];
      concatenated += tok.token_to_piece(g_tokens[k]);
    }
    EXPECT_EQ(utf8_replace_invalid(concatenated), greedy.at("text").get<std::string>());
    ++checked;
  }
  std::printf("[ reference ] %zu prompt files checked, %zu skipped (model file not stored)\n", checked,
              skipped);
  EXPECT_GE(checked, 21u);
}

TEST(TokenizerReference, BertEmbeddingSentences) {
  XNAI_SKIP_IF_MISSING(json_path, "llm/reference/tiny-bert-bge-f16.embeddings.json");
  XNAI_SKIP_IF_MISSING(model, "llm/tiny-bert-bge-f16.gguf");
  const auto j = nlohmann::json::parse(read_file_bytes(json_path));
  const auto& tok = cached_tokenizer(model);
  size_t n = 0;
  for (const auto& s : j.at("sentences")) {
    const auto text = s.at("text").get<std::string>();
    EXPECT_EQ(join(tok.encode(text, true)), join(s.at("tokens").get<std::vector<int32_t>>())) << text;
    ++n;
  }
  EXPECT_EQ(n, 5u);
}

}  // namespace
}  // namespace xnai::test
