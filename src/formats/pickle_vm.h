// The restricted unpickler behind torch_checkpoint.cpp (private to formats/). It builds a
// tree of plain values; calls (REDUCE) are only allowed for the few globals torch.save
// uses for state dicts, and persistent ids only for storages. Nothing is executed.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace xnai::pickle {

struct Value;
// Values live in the arena of their Pickled; pointers between them may form cycles (the
// memo allows that), so nothing here owns anything.
using ValuePtr = Value*;

struct Value {
  enum class Kind { None, Bool, Int, Float, String, Tuple, List, Dict, Global, Storage, Tensor };
  Kind kind = Kind::None;
  int64_t i = 0;                                    // Bool, Int; Storage: numel
  double f = 0;                                     // Float
  std::string s;                                    // String; Global "module.name"; Storage: dtype global
  std::string key;                                  // Storage: its key in data/
  std::vector<ValuePtr> items;                      // Tuple, List; Tensor: its rebuild args
  std::vector<std::pair<ValuePtr, ValuePtr>> dict;  // Dict (insertion order)
};

struct Pickled {
  std::vector<std::unique_ptr<Value>> arena;
  ValuePtr root = nullptr;
};

// Runs the pickle `data[0,size)` and returns the top object. `name` prefixes errors.
// Throws Error(InvalidFormat / Unsupported).
Pickled unpickle(const uint8_t* data, size_t size, const std::string& name);

}  // namespace xnai::pickle
