// llama.cpp's own tokenizer vectors (tests/test-tokenizer-0 inputs and expected ids), checked
// exactly: encode(text, add_special = false, parse_special = false) must give the listed ids.
#include <gtest/gtest.h>

#include "tokenizer_test_data.h"

namespace xnai::test {
namespace {

struct VocabCase {
  const char* name;
  const char* gguf;     // under testdata/
  const char* vectors;  // testdata/<vectors>.inp / .out
};

class TokenizerVectors : public ::testing::TestWithParam<VocabCase> {};

TEST_P(TokenizerVectors, EncodeMatchesLlamaCpp) {
  const VocabCase& c = GetParam();
  XNAI_SKIP_IF_MISSING(gguf_path, c.gguf);
  XNAI_SKIP_IF_MISSING(inp, std::string(c.vectors) + ".inp");
  XNAI_SKIP_IF_MISSING(out, std::string(c.vectors) + ".out");
  const auto& tok = cached_tokenizer(gguf_path);
  const auto vectors = read_vectors(inp, out);
  ASSERT_GE(vectors.size(), 40u) << "could not read the vectors of " << c.name;

  size_t failed = 0;
  for (size_t i = 0; i < vectors.size(); ++i) {
    const auto got = tok.encode(vectors[i].text, /*add_special=*/false, /*parse_special=*/false);
    if (got != vectors[i].ids) {
      ++failed;
      ADD_FAILURE() << c.name << " vector #" << i << " \"" << escape(vectors[i].text)
                    << "\"\n  expected: " << join(vectors[i].ids) << "\n  got:      " << join(got);
    }
  }
  EXPECT_EQ(failed, 0u) << c.name << ": " << failed << " of " << vectors.size() << " vectors differ";
  std::printf("[ %s ] %zu/%zu vectors match\n", c.name, vectors.size() - failed, vectors.size());
}

INSTANTIATE_TEST_SUITE_P(
    LlamaCpp, TokenizerVectors,
    ::testing::Values(
        VocabCase{"llama_spm", "vocab/ggml-vocab-llama-spm.gguf", "vocab/ggml-vocab-llama-spm.gguf"},
        VocabCase{"phi_3", "vocab/ggml-vocab-phi-3.gguf", "vocab/ggml-vocab-phi-3.gguf"},
        VocabCase{"gpt_2", "vocab/ggml-vocab-gpt-2.gguf", "vocab/ggml-vocab-gpt-2.gguf"},
        VocabCase{"deepseek_coder", "vocab/ggml-vocab-deepseek-coder.gguf",
                  "vocab/ggml-vocab-deepseek-coder.gguf"},
        VocabCase{"llama_bpe", "llm/tiny-llama-bpe-f16.gguf", "vocab/ggml-vocab-llama-bpe.gguf"},
        VocabCase{"qwen2", "llm/tiny-qwen2-f16.gguf", "vocab/ggml-vocab-qwen2.gguf"},
        VocabCase{"bert_bge", "vocab/ggml-vocab-bert-bge.gguf", "vocab/ggml-vocab-bert-bge.gguf"}),
    [](const ::testing::TestParamInfo<VocabCase>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace xnai::test
