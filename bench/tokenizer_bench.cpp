// Tokenization speed on 100 KB of English prose per vocabulary family, and on long single
// "words" (the inputs that make naive BPE/SPM merge loops quadratic).
// Goal: 100 KB well under 100 ms for every family.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "formats/gguf.h"
#include "text/tokenizer.h"

namespace {

std::string testdata(const std::string& rel) {
  const char* env = std::getenv("XNAI_TESTDATA");
  return std::string(env && *env ? env : "../shared/testdata") + "/" + rel;
}

const xnai::text::Tokenizer* load(const std::string& rel) {
  static std::map<std::string, std::unique_ptr<xnai::text::Tokenizer>> cache;
  auto& slot = cache[rel];
  if (!slot) {
    const std::string path = testdata(rel);
    if (!std::filesystem::exists(path)) return nullptr;
    slot = xnai::text::Tokenizer::from_gguf(xnai::gguf::GgufFile::open(path));
  }
  return slot.get();
}

std::string english_100k() {
  const std::string paragraph =
      "The quick brown fox jumps over the lazy dog. It was a sunny day in the park, and children "
      "were playing near the fountain while their parents talked about the weather, the news and "
      "the price of bread. \"Isn't it wonderful?\" asked Mary; John didn't answer - he'd already "
      "left for the 3:45 train to Boston (platform 12).\n\n";
  std::string s;
  while (s.size() < 100 * 1024) s += paragraph;
  return s;
}

void run(benchmark::State& state, const char* rel, const std::string& text) {
  const auto* tok = load(rel);
  if (!tok) {
    state.SkipWithError((std::string("missing ") + testdata(rel) + " (set XNAI_TESTDATA)").c_str());
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(tok->encode(text, true, true).size());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}

const std::string kEnglish = english_100k();
const std::string kLongWord(100000, 'a');

void BM_English100k_LlamaBpe(benchmark::State& s) { run(s, "llm/tiny-llama-bpe-f16.gguf", kEnglish); }
void BM_English100k_Qwen2(benchmark::State& s) { run(s, "llm/tiny-qwen2-f16.gguf", kEnglish); }
void BM_English100k_LlamaSpm(benchmark::State& s) { run(s, "vocab/ggml-vocab-llama-spm.gguf", kEnglish); }
void BM_English100k_Gpt2(benchmark::State& s) { run(s, "vocab/ggml-vocab-gpt-2.gguf", kEnglish); }
void BM_LongWord_LlamaBpe(benchmark::State& s) { run(s, "llm/tiny-llama-bpe-f16.gguf", kLongWord); }
void BM_LongWord_LlamaSpm(benchmark::State& s) { run(s, "vocab/ggml-vocab-llama-spm.gguf", kLongWord); }

BENCHMARK(BM_English100k_LlamaBpe)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_English100k_Qwen2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_English100k_LlamaSpm)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_English100k_Gpt2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LongWord_LlamaBpe)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LongWord_LlamaSpm)->Unit(benchmark::kMillisecond);

}  // namespace
