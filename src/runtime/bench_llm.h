// LLM speed benchmark with llama-bench's semantics (llama.cpp c392e50), so the numbers are
// directly comparable with `llama-bench -p 512 -n 128`:
// - pp<N>: N random tokens (the first one BOS when the vocabulary adds it) decoded from an
//   empty cache in batches of n_batch, logits of the last token only;
// - tg<N>: N tokens decoded one at a time from an empty cache (the first BOS when added),
//   each computing its logits;
// - every test runs once as a warm-up (the whole prompt for pp, one token for tg), then
//   `repetitions` timed runs; the rate of each run is tokens / seconds and the report
//   gives their mean and sample standard deviation, as llama-bench prints "avg ± sd".
// Besides speed it measures what a deployment needs to know: load time, peak RSS, and the
// share of the machine's memory bandwidth decode achieves (weight bytes read per token ×
// tokens/s ÷ a STREAM-like read bandwidth measured with the same thread count).
//
// Used by `xnai bench llm` and the server's benchmark endpoint; prints nothing.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "models/llm/llm.h"

namespace xnai::runtime {

struct BenchLlmOptions {
  int n_prompt = 512;   // pp test size; 0 skips it
  int n_gen = 128;      // tg test size; 0 skips it
  int repetitions = 5;  // timed runs per test (≥ 1)
  int n_batch = 512;    // tokens per forward pass in the pp test
  DType kv_type = DType::F16;
  // > 1 adds "tg<n_gen> x<S>": S sequences decoding n_gen tokens each in batched steps
  // (LlmContext::decode_batch, as the server's continuous batching runs them); its rate is
  // all S × n_gen tokens over the wall time, so against tg<n_gen> it is the batch speed-up.
  int n_seqs = 1;
  uint64_t seed = 0;  // token stream of the tests (any fixed value: the rate does not depend on it)
  // Called before each run with a short description ("pp512 run 2/5"); must not throw.
  std::function<void(const std::string&)> on_progress;
};

struct BenchTestResult {
  std::string name;                // "pp512", "tg128"
  int n_prompt = 0;                // tokens of the pp part (0 for tg)
  int n_gen = 0;                   // tokens of the tg part (0 for pp), over all sequences
  int n_seqs = 1;                  // sequences decoded side by side
  std::vector<double> samples_ns;  // wall time of each timed run
  std::vector<double> samples_ts;  // tokens per second of each timed run
  double avg_ts = 0;               // mean of samples_ts
  double stddev_ts = 0;            // sample standard deviation of samples_ts (0 for one run)
};

// The model columns of llama-bench's table.
struct BenchModelInfo {
  std::string desc;         // "llama 1.1B Q4_0": architecture, general.size_label (else the
                            // parameter count: "1.2B", "9M"), file type
  uint64_t size_bytes = 0;  // tensor data
  int64_t n_params = 0;
};
BenchModelInfo describe_model(const models::LlmModel& model);

// general.file_type (LLAMA_FTYPE_*) as llama-quantize names it: "Q4_0", "Q4_K_M", …;
// "unknown" for other values.
const char* file_type_name(int64_t general_file_type);

// Bytes of weights one decode step streams from memory: every tensor once, except that
// only one row of an untied token embedding is read. KV cache reads are not included
// (they grow with the context; at tg128 they are small next to the weights).
uint64_t weight_bytes_per_token(const models::LlmModel& model);

// Runs the tests on a loaded model with a context of max(n_prompt, n_gen) positions.
// Throws Error(InvalidArgument) for sizes < 0, repetitions < 1 or a batch < 1.
std::vector<BenchTestResult> bench_llm(const models::LlmModel& model, const BenchLlmOptions& opts);

struct BandwidthResult {
  double gb_per_s = 0;  // best of the passes, 1 GB = 1e9 bytes
  uint64_t bytes = 0;   // buffer size read per pass
  int n_threads = 0;
  int passes = 0;
};

// A STREAM-like read test: n_threads threads each sum their slice of a `bytes` buffer
// (far larger than any cache), best of `passes`. Allocates and touches the buffer first.
BandwidthResult measure_read_bandwidth(int n_threads, uint64_t bytes = 1ull << 30, int passes = 5);

// Peak resident set size of this process in bytes (VmHWM, else getrusage ru_maxrss).
// Mapped model pages count once they have been read.
uint64_t peak_rss_bytes();

}  // namespace xnai::runtime
