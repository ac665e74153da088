// How `pull` and `models` name a cached file's quantization: general.file_type the way
// llama-quantize names it ("Q4_K_M"), else the tensor type holding most of the weights.
#pragma once
#include <string>

#include "hub/hub.h"
#include "runtime/bench_llm.h"

namespace xnai::cli {

inline std::string quantization_label(const hub::CachedModel& m) {
  if (m.file_type >= 0) {
    const std::string name = runtime::file_type_name(m.file_type);
    if (name != "unknown") return name;
  }
  return m.dominant_type;
}

}  // namespace xnai::cli
