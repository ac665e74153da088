// libFuzzer target for the PyTorch checkpoint reader (zip + pickle): parse arbitrary bytes,
// then read every element of every tensor the reader hands out, so a view that escaped the
// range checks shows up under ASan/UBSan. Seeds: any small .pt file (voice packs).
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "formats/torch_checkpoint.h"

namespace {
volatile float g_sink;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto ck = xnai::torch::Checkpoint::parse(data, size, "fuzz.pth");
    float h = 0;
    for (const auto& [key, t] : ck->tensors()) {
      if (t.numel() > (int64_t{1} << 24)) continue;  // valid but too big to touch quickly
      for (float v : t.to_float()) h += v;
      h += static_cast<float>(key.size() + t.is_contiguous());
    }
    g_sink = g_sink + h;
  } catch (const xnai::Error&) {
    // Rejecting bad input with an Error is the expected outcome.
  }
  return 0;
}
