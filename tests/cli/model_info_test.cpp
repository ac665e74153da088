// `xnai model info`: checked against the conformance models, whose sizes and quantization
// mix follow from their documented shapes (testdata/README.md) by hand arithmetic.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "test_support.h"
#include "text/chat_template.h"

namespace fs = std::filesystem;

namespace {

struct RunResult {
  int code = -1;
  std::string out, err;
};

// Runs the xnai binary (env XNAI_BIN, set by ctest); stdout and stderr separately.
RunResult run_xnai(const std::string& args) {
  const char* bin = std::getenv("XNAI_BIN");
  RunResult r;
  if (!bin || !*bin) return r;
  const fs::path err = fs::temp_directory_path() / ("xnai_info_err_" + std::to_string(::getpid()));
  const std::string cmd = std::string("'") + bin + "' " + args + " 2>'" + err.string() + "'";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(err);
  r.err.assign(std::istreambuf_iterator<char>(in), {});
  fs::remove(err);
  return r;
}

#define REQUIRE_XNAI_BIN() \
  if (!std::getenv("XNAI_BIN")) GTEST_SKIP() << "XNAI_BIN not set (run through ctest)"

const nlohmann::json* find_type(const nlohmann::json& mix, const std::string& type) {
  for (const auto& e : mix)
    if (e.at("type") == type) return &e;
  return nullptr;
}

}  // namespace

// tiny-llama-spm-q4_k_m: n_embd 256, n_ff 512, 4 heads / 2 kv heads, 2 layers, tied,
// vocab 32000; llama-quantize Q4_K_M puts token_embd, blk.1.attn_v and blk.1.ffn_down at
// Q6_K (README), the other 12 matrices at Q4_K, the 5 norms stay F32.
TEST(ModelInfo, JsonOfQuantizedConformanceModel) {
  REQUIRE_XNAI_BIN();
  XNAI_SKIP_IF_MISSING(path, "llm/tiny-llama-spm-q4_k_m.gguf");
  const RunResult r = run_xnai("model info --json '" + path.string() + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["architecture"], "llama");
  EXPECT_EQ(j["file_bytes"], fs::file_size(path));
  // 256·32000 + 256 + 2 · (2·256 + 2·256² + 2·256·128 + 3·256·512)
  EXPECT_EQ(j["n_params"], 9372928);
  EXPECT_EQ(j["n_tensors"], 20);
  EXPECT_EQ(j["file_type"]["name"], "Q4_K_M");
  EXPECT_EQ(j["context_length"], 256);
  EXPECT_EQ(j["n_layer"], 2);
  EXPECT_EQ(j["n_embd"], 256);
  EXPECT_EQ(j["n_ff"], 512);
  EXPECT_EQ(j["n_head"], 4);
  EXPECT_EQ(j["n_head_kv"], 2);
  EXPECT_EQ(j["head_dim"], 64);
  EXPECT_EQ(j["rope"]["freq_base"], 10000.0);
  EXPECT_EQ(j["rms_eps"], 1e-5);
  EXPECT_EQ(j["vocab"]["size"], 32000);
  EXPECT_EQ(j["vocab"]["model"], "llama");
  EXPECT_EQ(j["vocab"]["bos_token_id"], 1);
  EXPECT_EQ(j["vocab"]["eos_token_id"], 2);

  const auto& mix = j["quantization"];
  ASSERT_EQ(mix.size(), 3u);
  const auto* f32 = find_type(mix, "f32");
  const auto* q4k = find_type(mix, "q4_K");
  const auto* q6k = find_type(mix, "q6_K");
  ASSERT_TRUE(f32 && q4k && q6k);
  EXPECT_EQ((*f32)["tensors"], 5);
  EXPECT_EQ((*f32)["bytes"], 5 * 256 * 4);
  EXPECT_EQ((*q6k)["tensors"], 3);
  // token_embd 32000 rows + attn_v 128 rows of one 210-byte block; ffn_down 256 rows of two.
  EXPECT_EQ((*q6k)["bytes"], 32000 * 210 + 128 * 210 + 256 * 2 * 210);
  EXPECT_EQ((*q4k)["tensors"], 12);
  // Per layer q, k, v, o, gate, up, down = 256, 128, 128, 256, 512, 512 rows of one 144-byte
  // block and 256 rows of two; layer 1 lacks v and down.
  const int layer = (256 + 128 + 128 + 256 + 512 + 512 + 2 * 256) * 144;
  EXPECT_EQ((*q4k)["bytes"], 2 * layer - 128 * 144 - 2 * 256 * 144);
  const double pct = (*q6k)["percent_of_file"];
  EXPECT_NEAR(pct,
              100.0 * (32000 * 210 + 128 * 210 + 256 * 2 * 210) / static_cast<double>(fs::file_size(path)),
              1e-9);
}

TEST(ModelInfo, TextOutput) {
  REQUIRE_XNAI_BIN();
  XNAI_SKIP_IF_MISSING(path, "llm/tiny-qwen2-f16.gguf");
  const RunResult r = run_xnai("model info '" + path.string() + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("architecture    qwen2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("151936 tokens, byte-level BPE (gpt2, pre qwen2)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("heads           4 (kv heads 2)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("base 1000000"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("quantization mix:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("f16"), std::string::npos) << r.out;
}

TEST(ModelInfo, ChatTemplateFamilyOfSynthesizedModel) {
  REQUIRE_XNAI_BIN();
  const fs::path out = fs::temp_directory_path() / ("xnai_info_qwen_" + std::to_string(::getpid()) + ".gguf");
  ASSERT_EQ(run_xnai("model synth --like qwen2.5-0.5b --layers 1 -o '" + out.string() + "'").code, 0);
  const RunResult r = run_xnai("model info --json '" + out.string() + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["chat_template"]["family"],
            xnai::text::chat_template_name(xnai::text::ChatTemplateKind::Qwen25));
  EXPECT_EQ(j["name"], "Qwen2.5 0.5B Instruct");
  EXPECT_EQ(j["n_layer"], 1);
  EXPECT_EQ(j["vocab"]["eos_token_id"], 151645);
  fs::remove(out);
}

TEST(ModelInfo, VocabOnlyFile) {
  REQUIRE_XNAI_BIN();
  XNAI_SKIP_IF_MISSING(path, "vocab/ggml-vocab-llama-spm.gguf");
  const RunResult r = run_xnai("model info --json '" + path.string() + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["n_tensors"], 0);
  EXPECT_EQ(j["n_params"], 0);
  EXPECT_TRUE(j["quantization"].empty());
  EXPECT_EQ(j["vocab"]["size"], 32000);
  EXPECT_EQ(j["vocab"]["model"], "llama");
  EXPECT_TRUE(j["chat_template"].is_null());
  const RunResult t = run_xnai("model info '" + path.string() + "'");
  EXPECT_NE(t.out.find("vocabulary-only"), std::string::npos) << t.out;
}

TEST(ModelInfo, ClearErrors) {
  REQUIRE_XNAI_BIN();
  const fs::path txt =
      fs::temp_directory_path() / ("xnai_info_not_gguf_" + std::to_string(::getpid()) + ".txt");
  std::ofstream(txt) << "hello, I am not a model\n";
  RunResult r = run_xnai("model info '" + txt.string() + "'");
  EXPECT_EQ(r.code, 4);
  EXPECT_NE(r.err.find("not a GGUF file"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(txt.filename().string()), std::string::npos) << r.err;
  fs::remove(txt);
  r = run_xnai("model info /nonexistent/model.gguf");
  EXPECT_EQ(r.code, 3) << r.err;
  r = run_xnai("model info");
  EXPECT_EQ(r.code, 2);
}
