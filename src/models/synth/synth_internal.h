// Private pieces of the synthetic-model writer (models/synth). Not part of the public
// interface: use synthetic_model.h.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "models/synth/synthetic_model.h"

namespace xnai {
class ThreadPool;
}
namespace xnai::gguf {
class GgufWriter;
}

namespace xnai::synth::detail {

// chat_templates.cpp
extern const char* const kTemplateZephyr;
extern const char* const kTemplateLlama2Chat;
extern const char* const kTemplateLlama32Instruct;
extern const char* const kTemplateQwen25Instruct;

// synthetic_vocab.cpp: sets every tokenizer.* key of `shape`'s synthetic vocabulary (real
// size, real special tokens at their ids, real flags and chat template), in the order the
// converter writes them.
void add_synthetic_vocab(gguf::GgufWriter& w, const ModelShape& shape);
// Copies every tokenizer.* key of the GGUF at `path`, padding the token arrays with
// "[PAD<id>]" unused tokens up to shape.n_vocab as the converter does. Throws
// Error(InvalidArgument) when the file holds more tokens than n_vocab.
void add_vocab_from_file(gguf::GgufWriter& w, const ModelShape& shape, const std::string& path);

// random_weights.cpp: fills `nbytes` bytes (whole blocks) of `type` with random values of
// roughly N(0, stddev): random quant bytes with valid finite fp16 scales. The result
// depends only on (type, seed, stddev), not on the pool size. Types: F32, F16, Q4_0, Q5_0,
// Q8_0, Q4_K, Q6_K; anything else throws Error(Unsupported).
void fill_random(DType type, uint8_t* dst, size_t nbytes, uint64_t seed, float stddev, ThreadPool& pool);
// F32 values mean + N(0, stddev), deterministic in seed (small 1-D tensors: norms, biases).
void fill_gaussian_f32(float* dst, size_t n, uint64_t seed, float mean, float stddev);

// A stable 64-bit hash of a tensor name mixed with the user seed (per-tensor streams).
uint64_t tensor_seed(uint64_t seed, const std::string& name);

}  // namespace xnai::synth::detail
