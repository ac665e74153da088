// `xnai model synth` and models/synth: the tensor tables must be what llama-quantize writes,
// the files must be valid GGUF with the real models' metadata and special tokens, the
// weights finite and of the promised size, and the output deterministic.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "compute/backend.h"
#include "compute/cpu/quant.h"
#include "core/error.h"
#include "formats/gguf.h"
#include "models/llm/llm.h"
#include "models/synth/synthetic_model.h"
#include "runtime/llm_context.h"
#include "test_support.h"
#include "text/tokenizer.h"

namespace fs = std::filesystem;
using xnai::DType;
using namespace xnai::synth;

namespace {

struct RunResult {
  int code = -1;
  std::string out;
};

// Runs the xnai binary (env XNAI_BIN, set by ctest) with `args`; stdout captured, stderr
// appended to it.
RunResult run_xnai(const std::string& args) {
  const char* bin = std::getenv("XNAI_BIN");
  RunResult r;
  if (!bin || !*bin) return r;
  const std::string cmd = std::string("'") + bin + "' " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

#define REQUIRE_XNAI_BIN() \
  if (!std::getenv("XNAI_BIN")) GTEST_SKIP() << "XNAI_BIN not set (run through ctest)"

// A file in the temp directory, unique to this process, removed when the guard goes out of
// scope (also when an assertion ends the test early: synthetic models are large).
struct TempFile {
  explicit TempFile(const std::string& name)
      : path(fs::temp_directory_path() / ("xnai_synth_test_" + std::to_string(::getpid()) + "_" + name)) {}
  ~TempFile() {
    std::error_code ec;
    fs::remove(path, ec);
  }
  fs::path path;
};

std::map<std::string, int> type_counts(const std::vector<TensorPlan>& plan) {
  std::map<std::string, int> c;
  for (const auto& t : plan) ++c[xnai::dtype_name(t.type)];
  return c;
}

// The tiny spm model of the conformance data: n_embd 256, n_ff 512, 4 heads, 2 kv heads,
// 2 layers, tied embedding, vocab 32000 (testdata/README.md section 2).
ModelShape tiny_spm_shape() {
  ModelShape s = find_shape("tinyllama-1.1b");
  s.n_vocab = 32000, s.n_embd = 256, s.n_ff = 512, s.n_layer = 2, s.n_head = 4, s.n_head_kv = 2;
  s.tied_embeddings = true;
  return s;
}

void expect_plan_matches_file(const std::vector<TensorPlan>& plan, const xnai::gguf::GgufFile& f) {
  ASSERT_EQ(plan.size(), f.tensors().size());
  for (size_t i = 0; i < plan.size(); ++i) {
    const auto& t = f.tensors()[i];
    EXPECT_EQ(plan[i].name, t.name) << "tensor #" << i;
    EXPECT_EQ(plan[i].type, t.type) << t.name << ": " << xnai::dtype_name(plan[i].type) << " vs "
                                    << xnai::dtype_name(t.type);
    EXPECT_EQ(plan[i].ne, t.ne) << t.name;
  }
}

}  // namespace

// llama-quantize's own outputs in the conformance data (Q4_K_M and Q8_0 of the tiny spm
// model): same tensor names, order, shapes and types.
TEST(SynthPlan, MatchesLlamaQuantizeOnConformanceModels) {
  XNAI_SKIP_IF_MISSING(q4km, "llm/tiny-llama-spm-q4_k_m.gguf");
  XNAI_SKIP_IF_MISSING(q8, "llm/tiny-llama-spm-q8_0.gguf");
  expect_plan_matches_file(plan_tensors(tiny_spm_shape(), Recipe::Q4_K_M), xnai::gguf::GgufFile::open(q4km));
  expect_plan_matches_file(plan_tensors(tiny_spm_shape(), Recipe::Q8_0), xnai::gguf::GgufFile::open(q8));
}

// Per-type tensor counts of the real models' quantizations, as llama-quantize (c392e50)
// reports them when quantizing F16 files of these shapes (and as the published GGUFs'
// loader logs list them, e.g. Llama-2-7B Q4_K_M: f32 65, q4_K 193, q6_K 33).
TEST(SynthPlan, TypeMixOfRealModels) {
  using Mix = std::map<std::string, int>;
  const struct {
    const char* key;
    Recipe recipe;
    size_t n_tensors;
    Mix mix;
  } cases[] = {
      {"tinyllama-1.1b", Recipe::Q4_0, 201, Mix{{"f32", 45}, {"q4_0", 155}, {"q6_K", 1}}},
      {"tinyllama-1.1b", Recipe::Q4_K_M, 201, Mix{{"f32", 45}, {"q4_K", 135}, {"q6_K", 21}}},
      {"qwen2.5-0.5b", Recipe::Q4_0, 290, Mix{{"f32", 121}, {"q4_0", 168}, {"q8_0", 1}}},
      {"qwen2.5-0.5b", Recipe::Q4_K_M, 290,
       Mix{{"f32", 121}, {"q4_K", 12}, {"q5_0", 132}, {"q6_K", 12}, {"q8_0", 13}}},
      {"qwen2.5-0.5b", Recipe::Q8_0, 290, Mix{{"f32", 121}, {"q8_0", 169}}},
      {"llama-3.2-1b", Recipe::Q4_0, 147, Mix{{"f32", 34}, {"q4_0", 112}, {"q6_K", 1}}},
      {"llama-3.2-1b", Recipe::Q4_K_M, 147, Mix{{"f32", 34}, {"q4_K", 96}, {"q6_K", 17}}},
      {"llama-2-7b", Recipe::Q4_0, 291, Mix{{"f32", 65}, {"q4_0", 225}, {"q6_K", 1}}},
      {"llama-2-7b", Recipe::Q4_K_M, 291, Mix{{"f32", 65}, {"q4_K", 193}, {"q6_K", 33}}},
      {"qwen2.5-7b", Recipe::Q4_K_M, 339, Mix{{"f32", 141}, {"q4_K", 169}, {"q6_K", 29}}},
      {"qwen2.5-7b", Recipe::F16, 339, Mix{{"f16", 198}, {"f32", 141}}},
  };
  for (const auto& c : cases) {
    const auto plan = plan_tensors(find_shape(c.key), c.recipe);
    EXPECT_EQ(plan.size(), c.n_tensors) << c.key << " " << recipe_name(c.recipe);
    EXPECT_EQ(type_counts(plan), c.mix) << c.key << " " << recipe_name(c.recipe);
  }
}

TEST(SynthPlan, ShapesAndFallbacks) {
  // Qwen2.5-0.5B: n_embd 896 is not a multiple of 256, so Q4_K_M's Q4_K rows of 896 become
  // Q5_0 and its Q6_K (tied head, attn_v on "more bits" layers) become Q8_0; ffn_down
  // (rows of 4864 = 19·256) keeps K-quants.
  const auto plan = plan_tensors(find_shape("qwen2.5-0.5b"), Recipe::Q4_K_M);
  std::map<std::string, TensorPlan> by_name;
  for (const auto& t : plan) by_name[t.name] = t;
  EXPECT_EQ(by_name.count("output.weight"), 0u);
  EXPECT_EQ(by_name.at("token_embd.weight").type, DType::Q8_0);
  EXPECT_EQ(by_name.at("token_embd.weight").ne, (std::vector<int64_t>{896, 151936}));
  EXPECT_EQ(by_name.at("blk.0.attn_q.weight").type, DType::Q5_0);
  EXPECT_EQ(by_name.at("blk.0.attn_k.weight").ne, (std::vector<int64_t>{896, 128}));
  EXPECT_EQ(by_name.at("blk.0.attn_k.bias").ne, (std::vector<int64_t>{128}));
  EXPECT_EQ(by_name.at("blk.0.attn_k.bias").type, DType::F32);
  EXPECT_EQ(by_name.at("blk.0.attn_v.weight").type, DType::Q8_0);  // layer 0 < 24/8: more bits
  EXPECT_EQ(by_name.at("blk.3.attn_v.weight").type, DType::Q5_0);  // plain Q4_K, fallen back
  EXPECT_EQ(by_name.at("blk.0.ffn_down.weight").type, DType::Q6_K);
  EXPECT_EQ(by_name.at("blk.3.ffn_down.weight").type, DType::Q4_K);
  EXPECT_EQ(by_name.at("blk.5.ffn_down.weight").type, DType::Q6_K);  // (5 - 3) % 3 == 2
  EXPECT_EQ(by_name.at("blk.23.ffn_down.weight").ne, (std::vector<int64_t>{4864, 896}));

  // Llama-3.2-1B: head_dim 64 from config.json, rope_freqs of head_dim / 2, tied.
  const auto l = plan_tensors(find_shape("llama-3.2-1b"), Recipe::Q4_0);
  EXPECT_EQ(l[0].name, "output_norm.weight");
  EXPECT_EQ(l[1].name, "rope_freqs.weight");
  EXPECT_EQ(l[1].ne, (std::vector<int64_t>{32}));
  EXPECT_EQ(l[2].name, "token_embd.weight");
  EXPECT_EQ(l[2].type, DType::Q6_K);
  // Layers sort numerically (blk.2 before blk.10), names alphabetically inside a layer.
  const auto big = plan_tensors(find_shape("llama-2-7b"), Recipe::Q8_0);
  EXPECT_EQ(big[3].name, "blk.0.attn_k.weight");
  EXPECT_EQ(big[3 + 9 * 2].name, "blk.2.attn_k.weight");
  EXPECT_EQ(big[3 + 9 * 10].name, "blk.10.attn_k.weight");
}

TEST(SynthPlan, Llama3RopeFactors) {
  // factor 32, low 1, high 4, original context 8192, θ 500000, head_dim 64: wavelengths
  // below 2048 keep factor 1, above 8192 get 32, the band between is blended.
  const std::vector<float> f = llama3_rope_factors(find_shape("llama-3.2-1b"));
  ASSERT_EQ(f.size(), 32u);
  const double kPi = 3.14159265358979323846;
  for (size_t i = 0; i < f.size(); ++i) {
    const double wavelen = 2 * kPi * std::pow(500000.0, 2.0 * static_cast<double>(i) / 64.0);
    if (wavelen < 2048)
      EXPECT_FLOAT_EQ(f[i], 1.0f) << i;
    else if (wavelen > 8192)
      EXPECT_FLOAT_EQ(f[i], 32.0f) << i;
    else {
      const double smooth = (8192.0 / wavelen - 1.0) / 3.0;
      EXPECT_NEAR(f[i], 1.0 / ((1 - smooth) / 32.0 + smooth), 1e-4) << i;
    }
  }
  EXPECT_FLOAT_EQ(f.front(), 1.0f);
  EXPECT_FLOAT_EQ(f.back(), 32.0f);
  EXPECT_TRUE(llama3_rope_factors(find_shape("tinyllama-1.1b")).empty());
}

TEST(SynthPlan, BadNamesAreErrors) {
  EXPECT_THROW(find_shape("llama-9000"), xnai::Error);
  EXPECT_THROW(parse_recipe("q3_k_s"), xnai::Error);
  EXPECT_EQ(parse_recipe("Q4_K_M"), Recipe::Q4_K_M);
  EXPECT_THROW(with_layers(find_shape("llama-2-7b"), 0), xnai::Error);
  EXPECT_EQ(with_layers(find_shape("llama-2-7b"), 100).n_layer, 32);
}

// Every shape at one layer (Q4_0, and every recipe for the smallest model): a valid GGUF
// whose metadata and tensors are those of the real model, capped at one layer.
TEST(SynthFile, EveryShapeOneLayer) {
  REQUIRE_XNAI_BIN();
  for (const auto& shape : known_shapes()) {
    std::vector<std::string> recipes = {"q4_0"};
    if (shape.key == "qwen2.5-0.5b") recipes = {"q4_0", "q8_0", "q4_k_m", "f16"};
    for (const std::string& type : recipes) {
      const TempFile out_file(shape.key + "-" + type + ".gguf");
      const fs::path& out = out_file.path;
      const RunResult r = run_xnai("model synth --like " + shape.key + " --type " + type +
                                   " --layers 1 -t 2 -o '" + out.string() + "'");
      ASSERT_EQ(r.code, 0) << r.out;
      const auto f = xnai::gguf::GgufFile::open(out.string());
      const Recipe recipe = parse_recipe(type);
      expect_plan_matches_file(plan_tensors(with_layers(shape, 1), recipe), f);
      const std::string a = shape.arch + ".";
      EXPECT_EQ(f.architecture(), shape.arch);
      EXPECT_EQ(f.require_int(a + "block_count"), 1);
      EXPECT_EQ(f.require_int(a + "embedding_length"), shape.n_embd);
      EXPECT_EQ(f.require_int(a + "feed_forward_length"), shape.n_ff);
      EXPECT_EQ(f.require_int(a + "attention.head_count"), shape.n_head);
      EXPECT_EQ(f.require_int(a + "attention.head_count_kv"), shape.n_head_kv);
      EXPECT_EQ(f.require_int(a + "context_length"), shape.n_ctx);
      EXPECT_EQ(f.require_int("general.file_type"), static_cast<int64_t>(recipe_file_type(recipe)));
      EXPECT_EQ(f.require_int("general.quantization_version"), 2);
      EXPECT_EQ(f.find(a + "rope.freq_base") != nullptr, shape.key != "llama-2-7b");
      const auto tokens = f.require_strings("tokenizer.ggml.tokens");
      const auto types = f.require_ints("tokenizer.ggml.token_type");
      ASSERT_EQ(static_cast<int64_t>(tokens.size()), shape.n_vocab);
      ASSERT_EQ(tokens.size(), types.size());
      for (const auto& s : shape.specials) {
        EXPECT_EQ(tokens[static_cast<size_t>(s.id)], s.text);
        EXPECT_EQ(types[static_cast<size_t>(s.id)], s.type);
      }
      EXPECT_EQ(f.require_string("tokenizer.chat_template"), shape.chat_template);
      if (shape.vocab == VocabKind::Bpe) {
        // Every merge joins two tokens that exist into one that exists.
        std::map<std::string, int> id;
        for (size_t i = 0; i < tokens.size(); ++i) id.emplace(tokens[i], static_cast<int>(i));
        const auto merges = f.require_strings("tokenizer.ggml.merges");
        EXPECT_EQ(static_cast<int64_t>(merges.size()), shape.n_normal_tokens - 256);
        for (size_t i = 0; i < merges.size(); i += 997) {
          const auto sp = merges[i].find(' ');
          ASSERT_NE(sp, std::string::npos);
          EXPECT_TRUE(id.count(merges[i].substr(0, sp)) && id.count(merges[i].substr(sp + 1)) &&
                      id.count(merges[i].substr(0, sp) + merges[i].substr(sp + 1)))
              << merges[i];
        }
      } else {
        EXPECT_EQ(tokens[3], "<0x00>");
        EXPECT_EQ(tokens[258], "<0xFF>");
        EXPECT_EQ(f.require_floats("tokenizer.ggml.scores").size(), tokens.size());
      }
    }
  }
}

// Decoded with the project's own dequantizers, every weight type holds finite values of
// about N(0, 0.02) (the mean within 0.002, the std between 0.012 and 0.03).
TEST(SynthFile, WeightsAreFiniteAndSized) {
  REQUIRE_XNAI_BIN();
  std::map<DType, int> seen;
  for (const char* args : {"--like qwen2.5-0.5b --type q4_k_m --layers 2",  // q4_K, q5_0, q6_K, q8_0
                           "--like tinyllama-1.1b --type q4_0 --layers 1",  // q4_0, q6_K
                           "--like tinyllama-1.1b --type f16 --layers 1"}) {
    const TempFile out_file("weights.gguf");
    const fs::path& out = out_file.path;
    ASSERT_EQ(run_xnai(std::string("model synth ") + args + " -o '" + out.string() + "'").code, 0);
    const auto f = xnai::gguf::GgufFile::open(out.string());
    for (const auto& t : f.tensors()) {
      if (t.ne.size() < 2) continue;
      const int64_t n = std::min<int64_t>(t.n_elements(), 256 * 1024);
      std::vector<float> v(static_cast<size_t>(n));
      xnai::cpu::kernels(t.type).to_float(t.data, v.data(), n);
      double sum = 0, sq = 0;
      for (float x : v) {
        ASSERT_TRUE(std::isfinite(x)) << t.name;
        sum += x, sq += static_cast<double>(x) * x;
      }
      const double mean = sum / static_cast<double>(n),
                   sd = std::sqrt(sq / static_cast<double>(n) - mean * mean);
      EXPECT_LT(std::fabs(mean), 0.002) << args << ": " << t.name;
      EXPECT_GT(sd, 0.012) << args << ": " << t.name;
      EXPECT_LT(sd, 0.03) << args << ": " << t.name;
      ++seen[t.type];
    }
  }
  EXPECT_EQ(seen.size(), 6u);
}

// Same seed → same bytes, whatever the thread count; another seed → other weights.
TEST(SynthFile, DeterministicAcrossThreadCounts) {
  REQUIRE_XNAI_BIN();
  const TempFile fa("det-a.gguf"), fb("det-b.gguf"), fc("det-c.gguf");
  const fs::path &a = fa.path, &b = fb.path, &c = fc.path;
  const std::string base = "model synth --like tinyllama-1.1b --type q4_k_m --layers 1 ";
  ASSERT_EQ(run_xnai(base + "-t 1 --seed 7 -o '" + a.string() + "'").code, 0);
  ASSERT_EQ(run_xnai(base + "-t 3 --seed 7 -o '" + b.string() + "'").code, 0);
  ASSERT_EQ(run_xnai(base + "-t 2 --seed 8 -o '" + c.string() + "'").code, 0);
  auto slurp = [](const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string ba = slurp(a), bb = slurp(b), bc = slurp(c);
  EXPECT_EQ(ba.size(), bb.size());
  EXPECT_TRUE(ba == bb);
  EXPECT_EQ(ba.size(), bc.size());  // the seed is in the description: same length here
  EXPECT_FALSE(ba == bc);
}

// --vocab copies a real vocabulary, padding it with [PAD<id>] unused tokens to the model's
// n_vocab as the converter does (Qwen2.5-7B has 152064 rows for 151665 real tokens).
TEST(SynthFile, CopiesRealVocabulary) {
  REQUIRE_XNAI_BIN();
  XNAI_SKIP_IF_MISSING(qwen, "llm/tiny-qwen2-f16.gguf");
  XNAI_SKIP_IF_MISSING(spm, "vocab/ggml-vocab-llama-spm.gguf");
  const TempFile out_file("vocab.gguf");
  const fs::path& out = out_file.path;
  ASSERT_EQ(run_xnai("model synth --like qwen2.5-7b --layers 1 --vocab '" + qwen.string() + "' -o '" +
                     out.string() + "'")
                .code,
            0);
  const auto src = xnai::gguf::GgufFile::open(qwen.string());
  const auto f = xnai::gguf::GgufFile::open(out.string());
  const auto src_tokens = src.require_strings("tokenizer.ggml.tokens");
  const auto tokens = f.require_strings("tokenizer.ggml.tokens");
  const auto types = f.require_ints("tokenizer.ggml.token_type");
  ASSERT_EQ(tokens.size(), 152064u);
  ASSERT_EQ(src_tokens.size(), 151936u);
  for (size_t i = 0; i < src_tokens.size(); ++i) ASSERT_EQ(tokens[i], src_tokens[i]) << i;
  EXPECT_EQ(tokens[152063], "[PAD152063]");
  EXPECT_EQ(types[152063], 5);
  EXPECT_EQ(f.require_strings("tokenizer.ggml.merges"), src.require_strings("tokenizer.ggml.merges"));
  EXPECT_EQ(f.require_string("tokenizer.ggml.pre"), "qwen2");

  // A vocabulary larger than the model's is refused.
  const RunResult bad = run_xnai("model synth --like tinyllama-1.1b --layers 1 --vocab '" + qwen.string() +
                                 "' -o '" + out.string() + "'");
  EXPECT_EQ(bad.code, 2) << bad.out;
  EXPECT_NE(bad.out.find("does not fit"), std::string::npos) << bad.out;

  ASSERT_EQ(run_xnai("model synth --like tinyllama-1.1b --layers 1 --vocab '" + spm.string() + "' -o '" +
                     out.string() + "'")
                .code,
            0);
  EXPECT_EQ(xnai::gguf::GgufFile::open(out.string()).require_strings("tokenizer.ggml.tokens"),
            xnai::gguf::GgufFile::open(spm.string()).require_strings("tokenizer.ggml.tokens"));
}

TEST(SynthCli, Errors) {
  REQUIRE_XNAI_BIN();
  RunResult r = run_xnai("model synth --like gpt-5 -o /tmp/never.gguf");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("unknown model shape 'gpt-5'"), std::string::npos) << r.out;
  r = run_xnai("model synth --like tinyllama-1.1b --type q2_k -o /tmp/never.gguf");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("q2_k"), std::string::npos) << r.out;
  r = run_xnai("model synth --like tinyllama-1.1b");
  EXPECT_EQ(r.code, 2);
  r = run_xnai("model synth --list");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("qwen2.5-7b"), std::string::npos);
}

// Embedding shapes: `model synth --like bge-small-en-v1.5` writes a bert file that
// `xnai model info` reads back with the real model's dimensions and `xnai embed` runs.
TEST(SynthCli, EmbeddingShapes) {
  REQUIRE_XNAI_BIN();
  const TempFile out_file("bge-small-2l.gguf");
  RunResult r = run_xnai("model synth --like bge-small-en-v1.5 --layers 2 -o '" + out_file.path.string() + "'");
  ASSERT_EQ(r.code, 0) << r.out;
  xnai::gguf::GgufFile f = xnai::gguf::GgufFile::open(out_file.path.string());
  EXPECT_EQ(f.get_string("general.architecture"), "bert");
  EXPECT_EQ(f.get_int("bert.embedding_length", 0), 384);
  EXPECT_EQ(f.get_int("bert.block_count", 0), 2);
  r = run_xnai("embed -m '" + out_file.path.string() + "' 'hello world'");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find('['), std::string::npos) << r.out;
  r = run_xnai("model synth --like bge-small-en-v1.5 --type q4_0 -o '" + out_file.path.string() + "'");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("f16 only"), std::string::npos) << r.out;
  r = run_xnai("model synth --list");
  EXPECT_NE(r.out.find("all-minilm-l6-v2"), std::string::npos) << r.out;
}

// Our own loader runs a synthetic model: a prompt and a few generated tokens give finite
// logits (random weights of sane size keep activations finite through the layers).
TEST(SynthFile, LoadsAndDecodesWithoutNaN) {
  REQUIRE_XNAI_BIN();
  for (const char* like : {"tinyllama-1.1b", "qwen2.5-0.5b", "llama-3.2-1b"}) {
    const TempFile out_file(std::string(like) + "-run.gguf");
    const fs::path& out = out_file.path;
    ASSERT_EQ(run_xnai(std::string("model synth --like ") + like + " --type q4_k_m --layers 2 -o '" +
                       out.string() + "'")
                  .code,
              0);
    auto backend = xnai::compute::make_cpu_backend({});
    auto model = xnai::models::LlmModel::load(out.string(), *backend);
    xnai::runtime::ContextOptions co;
    co.n_ctx = 64;
    xnai::runtime::LlmContext ctx(*model, co);
    std::vector<int32_t> prompt =
        model->tokenizer().encode("The quick brown fox jumps over the lazy dog", true);
    auto logits = ctx.decode(prompt);
    for (int step = 0; step < 4; ++step) {
      ASSERT_EQ(static_cast<int64_t>(logits.size()), model->hparams().n_vocab);
      int32_t best = 0;
      for (size_t i = 0; i < logits.size(); ++i) {
        ASSERT_TRUE(std::isfinite(logits[i])) << like << " step " << step << " id " << i;
        if (logits[i] > logits[static_cast<size_t>(best)]) best = static_cast<int32_t>(i);
      }
      logits = ctx.decode(std::span<const int32_t>(&best, 1));
    }
  }
}
