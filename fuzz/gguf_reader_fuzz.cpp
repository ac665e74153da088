// libFuzzer target for the GGUF reader: parse arbitrary bytes, then touch everything the
// parser hands out (every value through every accessor, every tensor byte), so a value
// or pointer that escaped validation shows up under ASan/UBSan.
#include <bit>
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "formats/gguf.h"

namespace {

volatile uint64_t g_sink;

void touch(const xnai::gguf::Value& v, int depth) {
  uint64_t h = static_cast<uint64_t>(v.type());
  try {
    h += static_cast<uint64_t>(v.as_int());
  } catch (const xnai::Error&) {
  }
  try {
    h += v.as_uint();
  } catch (const xnai::Error&) {
  }
  try {
    h += std::bit_cast<uint64_t>(v.as_float());
  } catch (const xnai::Error&) {
  }
  try {
    h += v.as_bool();
  } catch (const xnai::Error&) {
  }
  try {
    h += v.as_string().size();
  } catch (const xnai::Error&) {
  }
  if (v.is_array()) {
    try {
      h += v.as_strings().size();
    } catch (const xnai::Error&) {
    }
    try {
      h += v.as_floats().size();
    } catch (const xnai::Error&) {
    }
    try {
      h += v.as_ints().size();
    } catch (const xnai::Error&) {
    }
    for (size_t i = 0; i < v.size(); ++i) touch(v.at(i), depth + 1);
    try {
      h += v.at(v.size()).size();
    } catch (const xnai::Error&) {
    }
  }
  if (depth == 0) h += v.to_display(4).size();
  g_sink = g_sink + h;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto f = xnai::gguf::GgufFile::parse(data, size, "fuzz.gguf");
    uint64_t h = f.version() + f.alignment() + f.data_offset();
    for (const auto& [key, v] : f.metadata()) {
      touch(v, 0);
      h += f.find(key) == &v;
    }
    h += f.architecture().size();
    h += static_cast<uint64_t>(f.get_int("general.alignment", 0));
    for (const auto& t : f.tensors()) {
      h += static_cast<uint64_t>(t.n_elements()) + t.ne.size() + t.offset;
      for (size_t i = 0; i < t.nbytes; ++i) h += t.data[i];
      h += f.find_tensor(t.name) == &t;
    }
    g_sink = g_sink + h;
  } catch (const xnai::Error&) {
    // Rejecting bad input with an Error is the expected outcome.
  }
  return 0;
}
