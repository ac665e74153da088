// Private to models/llm: the table that turns a GGUF file into hyper-parameters and
// weights for each supported architecture (llm_arch.cpp).
#pragma once
#include <functional>

#include "compute/backend.h"
#include "models/llm/llm.h"

namespace xnai::gguf {
class GgufFile;
}

namespace xnai::models::detail {

// Reads `<arch>.*` keys. Throws Error naming the file and key on anything missing or
// inconsistent, Error(Unsupported) for an architecture or rope scaling we do not run.
LlmHParams read_hparams(const gguf::GgufFile& file);

// Finds, checks (shape, type) and wraps every tensor the architecture needs, and sets
// hp.qkv_bias from what is present. The caller points hp.rope.freq_factors at the stored
// rope_freqs tensor once the weights have their final home. `progress` may be empty.
LlmWeights map_weights(const gguf::GgufFile& file, LlmHParams& hp, compute::Backend& backend,
                       const std::function<void(float)>& progress);

}  // namespace xnai::models::detail
