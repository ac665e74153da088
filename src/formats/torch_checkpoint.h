// PyTorch checkpoints written by torch.save (zip container, PyTorch >= 1.6): the pickle in
// <root>/data.pkl holding nested dicts / OrderedDicts of tensors, whose storages are the
// members <root>/data/<key>. Only the restricted set of pickle opcodes and globals that
// torch.save emits for state dicts is accepted; nothing is ever executed. The layout and
// the checks are described in ../shared/kokoro-spec.md §5.
//
// Thread-safety: a Checkpoint is immutable after open(); any number of threads may read it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace xnai {
class MappedFile;
}

namespace xnai::torch {

enum class ScalarType { F32, F64, F16, BF16, I64, I32, I16, I8, U8, Bool };
const char* scalar_type_name(ScalarType t);
size_t scalar_type_size(ScalarType t);

// A strided view into a storage of the checkpoint (element units, like torch). Valid while
// the Checkpoint that produced it lives. Every element the view can address lies inside
// its storage (checked at load).
struct TensorView {
  ScalarType dtype = ScalarType::F32;
  std::vector<int64_t> shape;
  std::vector<int64_t> strides;
  int64_t storage_offset = 0;
  const uint8_t* storage = nullptr;  // first byte of the storage (may be unaligned)
  int64_t storage_numel = 0;
  std::string storage_key;  // tensors sharing a storage share this key

  int64_t numel() const;
  bool is_contiguous() const;
  // Row-major contiguous copy converted to float32 / int64 (from any float/int dtype).
  std::vector<float> to_float() const;
  std::vector<int64_t> to_int64() const;
};

class Checkpoint {
 public:
  // Maps the file. Throws Error naming the path: NotFound/Io, InvalidFormat (not a zip,
  // missing data.pkl, storage out of range, bad pickle), Unsupported (pickle opcode N,
  // unknown global X, dtype).
  static std::unique_ptr<Checkpoint> open(const std::string& path);
  // Same on bytes held by the caller, which must outlive the result (tests, fuzzing).
  static std::unique_ptr<Checkpoint> parse(const uint8_t* data, size_t size, const std::string& name);

  ~Checkpoint();
  Checkpoint(const Checkpoint&) = delete;
  Checkpoint& operator=(const Checkpoint&) = delete;

  // Nested dict keys joined with '.', e.g. "bert.module.embeddings.word_embeddings.weight".
  // A file whose top-level object is a single tensor (a voice pack) has one entry "".
  const std::map<std::string, TensorView>& tensors() const { return tensors_; }
  const TensorView* find(std::string_view key) const;
  // For a caller that has copied a tensor out (to_float): hands the file pages under its
  // storage back to the kernel, so a loader's resident memory is the converted weights
  // and not the file as well. The view stays valid (touched pages are read from the file
  // again); no effect on deflated members or on parse()d bytes.
  void release_pages(const TensorView& t) const;
  const std::string& name() const { return name_; }

 private:
  Checkpoint() = default;
  void load(const uint8_t* data, size_t size);

  std::string name_;
  std::unique_ptr<MappedFile> file_;
  std::vector<std::vector<uint8_t>> inflated_;  // storages of deflated members
  std::map<std::string, TensorView> tensors_;
};

}  // namespace xnai::torch
