// Time to open and index a GGUF with a large vocabulary (151,936 tokens + merges), the cost
// every model load pays before touching weights. Goal: < 150 ms for tiny-qwen2-f16.gguf.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "formats/gguf.h"

namespace {

std::string qwen2_path() {
  const char* env = std::getenv("XNAI_TESTDATA");
  return std::string(env && *env ? env : "../shared/testdata") + "/llm/tiny-qwen2-f16.gguf";
}

void BM_OpenQwen2Vocab(benchmark::State& state) {
  const std::string path = qwen2_path();
  if (!std::filesystem::exists(path)) {
    state.SkipWithError(("missing " + path + " (set XNAI_TESTDATA)").c_str());
    return;
  }
  for (auto _ : state) {
    auto f = xnai::gguf::GgufFile::open(path);
    benchmark::DoNotOptimize(f.tensors().size());
  }
}
BENCHMARK(BM_OpenQwen2Vocab)->Unit(benchmark::kMillisecond);

}  // namespace
