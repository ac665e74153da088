// Private to models/encoder: the table that turns a GGUF file into hyper-parameters and
// weights for each encoder architecture we run (bert_arch.cpp).
#pragma once
#include "compute/backend.h"
#include "models/encoder/bert.h"

namespace xnai::gguf {
class GgufFile;
}

namespace xnai::models::encoder_detail {

// Reads `<arch>.*` keys. Throws Error naming the file and key on anything missing or
// inconsistent, Error(Unsupported) naming the architecture when it is not an encoder.
BertHParams read_hparams(const gguf::GgufFile& file);

// Finds, checks (shape, type) and wraps every tensor the architecture needs.
BertWeights map_weights(const gguf::GgufFile& file, const BertHParams& hp, compute::Backend& backend);

// Hands every weight back to the backend (a no-op on the CPU, where weights stay mapped).
void release_weights(BertWeights& w, compute::Backend& backend);

}  // namespace xnai::models::encoder_detail
