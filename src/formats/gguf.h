// GGUF: the single-file model format of llama.cpp (versions 2 and 3, little-endian).
// Reading maps the file and keeps tensor data in place; writing builds a version-3 file.
// The layout and every check the reader makes are described in docs/gguf.md.
//
// Thread-safety: a GgufFile is immutable after open()/parse(); any number of threads may
// read it at once. A GgufWriter is a plain builder for one thread.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/dtype.h"

namespace xnai {
class MappedFile;
}

namespace xnai::gguf {

// Metadata value types, numbered as stored in the file.
enum class ValueType : uint32_t {
  U8 = 0,
  I8 = 1,
  U16 = 2,
  I16 = 3,
  U32 = 4,
  I32 = 5,
  F32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  U64 = 10,
  I64 = 11,
  F64 = 12,
};

// "u8", "i32", "f32", "bool", "string", "array", … ("?" for an id outside the enum).
const char* value_type_name(ValueType t);

// One metadata value: a scalar, a string, or an array whose elements all have one type
// (arrays may nest). Accessors throw Error(InvalidFormat) when the stored type does not
// fit the request; those messages name the types, not the key (GgufFile's typed lookups
// add file and key).
class Value {
 public:
  Value() = default;  // an U8 zero; only useful as a placeholder

  static Value u8(uint8_t v);
  static Value i8(int8_t v);
  static Value u16(uint16_t v);
  static Value i16(int16_t v);
  static Value u32(uint32_t v);
  static Value i32(int32_t v);
  static Value u64(uint64_t v);
  static Value i64(int64_t v);
  static Value f32(float v);
  static Value f64(double v);
  static Value boolean(bool v);
  static Value string(std::string v);
  // An array of `elem_type`; every item must have that type (arrays of arrays may mix
  // inner element types, as the format allows). Throws Error(InvalidArgument) otherwise.
  static Value array(ValueType elem_type, std::vector<Value> items);
  static Value strings(const std::vector<std::string>& v);  // ARRAY of STRING
  static Value floats(const std::vector<float>& v);         // ARRAY of F32
  static Value ints(const std::vector<int32_t>& v);         // ARRAY of I32

  ValueType type() const { return type_; }
  ValueType array_type() const { return array_type_; }  // element type when ARRAY
  bool is_array() const { return type_ == ValueType::ARRAY; }
  bool is_integer() const;  // U8..I64 (not BOOL)
  bool is_number() const;   // integer or F32/F64

  size_t size() const { return items_.size(); }               // array length (0 for scalars)
  const Value& at(size_t i) const;                            // bounds-checked array element
  const std::vector<Value>& items() const { return items_; }  // array elements, no copy

  int64_t as_int() const;                // any integer type; a U64 above INT64_MAX throws
  uint64_t as_uint() const;              // any integer type; a negative value throws
  double as_float() const;               // F32/F64 or any integer type
  bool as_bool() const;                  // BOOL only
  const std::string& as_string() const;  // STRING only

  // Typed copies of a whole array. as_strings needs STRING elements; as_floats accepts
  // any numeric element type; as_ints accepts integer and BOOL elements whose values fit
  // int32 (anything else throws).
  std::vector<std::string> as_strings() const;
  std::vector<float> as_floats() const;
  std::vector<int32_t> as_ints() const;

  // Short human form for `xnai model info`: numbers as written, strings quoted with
  // control bytes escaped (cut after 64 bytes), arrays as "[a, b, … (N items)]" with at
  // most max_items elements shown.
  std::string to_display(size_t max_items = 8) const;

  friend bool operator==(const Value& a, const Value& b);  // same type(s) and contents

 private:
  friend class Parser;      // the reader fills values in place (gguf_reader.cpp)
  friend class Serializer;  // the writer copies stored bits exactly (gguf_writer.cpp)
  ValueType type_ = ValueType::U8;
  ValueType array_type_ = ValueType::U8;
  // Integers: u for unsigned types and bool, i for signed; F32 in f4 (kept as stored, so
  // NaN payloads survive a round trip), F64 in f8. Unused bytes stay zero.
  union {
    uint64_t u;
    int64_t i;
    float f4;
    double f8;
  } num_{0};
  std::string str_;
  std::vector<Value> items_;
};

// One tensor as described by the file.
struct TensorInfo {
  std::string name;
  DType type = DType::F32;
  std::vector<int64_t> ne;        // dims innermost first, as stored (1 to 4 entries, or 0 for a scalar)
  uint64_t offset = 0;            // relative to the data section, a multiple of the alignment
  size_t nbytes = 0;              // bytes of tensor data
  const uint8_t* data = nullptr;  // into the mapping (or parse()'s bytes); valid while the GgufFile lives

  int64_t n_elements() const;                                        // product of ne (1 for a scalar)
  int64_t dim(size_t i) const { return i < ne.size() ? ne[i] : 1; }  // ggml-style, padded with 1
};

// A parsed GGUF file. Move-only; owns its mapping (open) or borrows bytes (parse).
class GgufFile {
 public:
  // Maps the file and parses it. Throws Error naming the path and the problem
  // (NotFound/Io for the file itself, InvalidFormat/Unsupported for its contents).
  static GgufFile open(const std::string& path);
  // Parses bytes the caller keeps alive for the GgufFile's lifetime (no copy). `name` is
  // used in error messages and returned by path().
  static GgufFile parse(const uint8_t* data, size_t size, std::string name);

  GgufFile(GgufFile&&) noexcept;
  GgufFile& operator=(GgufFile&&) noexcept;
  GgufFile(const GgufFile&) = delete;
  GgufFile& operator=(const GgufFile&) = delete;
  ~GgufFile();

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  size_t data_offset() const {
    return data_offset_;
  }  // start of the data section (may equal file_size with no tensors)
  size_t file_size() const { return size_; }
  const uint8_t* bytes() const { return bytes_; }  // the whole file

  const std::vector<std::pair<std::string, Value>>& metadata() const { return metadata_; }  // file order
  const Value* find(std::string_view key) const;  // nullptr if absent
  const Value& get(std::string_view key) const;   // throws Error(NotFound) "file: missing key 'k'"

  // Typed lookups: the default when the key is absent; a present key of the wrong type
  // throws Error(InvalidFormat) naming file and key.
  std::string get_string(std::string_view key, std::string def = "") const;
  int64_t get_int(std::string_view key, int64_t def) const;
  uint64_t get_uint(std::string_view key, uint64_t def) const;
  double get_float(std::string_view key, double def) const;
  bool get_bool(std::string_view key, bool def) const;
  // Required lookups: absent throws Error(NotFound), wrong type Error(InvalidFormat), both
  // naming file and key.
  const std::string& require_string(std::string_view key) const;
  int64_t require_int(std::string_view key) const;
  uint64_t require_uint(std::string_view key) const;
  double require_float(std::string_view key) const;
  bool require_bool(std::string_view key) const;
  std::vector<std::string> require_strings(std::string_view key) const;
  std::vector<float> require_floats(std::string_view key) const;
  std::vector<int32_t> require_ints(std::string_view key) const;

  const std::vector<TensorInfo>& tensors() const { return tensors_; }  // file order
  const TensorInfo* find_tensor(std::string_view name) const;          // nullptr if absent
  const TensorInfo& get_tensor(std::string_view name) const;           // throws Error(NotFound)

  std::string architecture() const;  // general.architecture or ""

 private:
  friend class Parser;
  GgufFile() = default;

  std::unique_ptr<MappedFile> mapping_;  // null for parse()
  std::string path_;
  const uint8_t* bytes_ = nullptr;
  size_t size_ = 0;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  size_t data_offset_ = 0;
  std::vector<std::pair<std::string, Value>> metadata_;
  std::vector<TensorInfo> tensors_;
  // Views into metadata_ keys / tensors_ names; their heap buffers survive moves.
  std::unordered_map<std::string_view, size_t> key_index_;
  std::unordered_map<std::string_view, size_t> tensor_index_;
};

// Builds a GGUF v3 file. Metadata keeps insertion order; setting an existing key replaces
// its value in place. Tensors are laid out in insertion order, each at an aligned offset.
class GgufWriter {
 public:
  GgufWriter();
  ~GgufWriter();
  GgufWriter(GgufWriter&&) noexcept;
  GgufWriter& operator=(GgufWriter&&) noexcept;

  // "general.alignment" is special: it must be a power-of-two integer and also sets the
  // alignment used for the data (as set_alignment does).
  void set(std::string key, Value v);
  void set_u32(std::string key, uint32_t v) { set(std::move(key), Value::u32(v)); }
  void set_i32(std::string key, int32_t v) { set(std::move(key), Value::i32(v)); }
  void set_u64(std::string key, uint64_t v) { set(std::move(key), Value::u64(v)); }
  void set_f32(std::string key, float v) { set(std::move(key), Value::f32(v)); }
  void set_bool(std::string key, bool v) { set(std::move(key), Value::boolean(v)); }
  void set_string(std::string key, std::string v) { set(std::move(key), Value::string(std::move(v))); }
  void set_strings(std::string key, const std::vector<std::string>& v) {
    set(std::move(key), Value::strings(v));
  }
  void set_floats(std::string key, const std::vector<float>& v) { set(std::move(key), Value::floats(v)); }
  void set_ints(std::string key, const std::vector<int32_t>& v) { set(std::move(key), Value::ints(v)); }
  void set_array(std::string key, ValueType elem_type, std::vector<Value> values) {
    set(std::move(key), Value::array(elem_type, std::move(values)));
  }
  bool remove(std::string_view key);  // true if it was there

  // `data` holds row_size(type, ne[0]) * rows bytes; the caller keeps it alive until
  // write() returns. Throws Error(InvalidArgument) for a duplicate or over-long name
  // (llama.cpp's limit: 63 bytes), more than 4 dims, a negative dim, or ne[0] not a
  // multiple of the type's block size.
  void add_tensor(std::string name, DType type, std::vector<int64_t> ne, const void* data);
  // Like add_tensor, but the bytes are produced during write(): `fill` gets the tensor's
  // place in the output (nbytes bytes, zeroed) and must fill it. Nothing is held in RAM;
  // the output is written through a mapping of the file.
  void add_tensor_generated(std::string name, DType type, std::vector<int64_t> ne,
                            std::function<void(uint8_t* dst, size_t nbytes)> fill);
  // A power of two; written as "general.alignment" (u32) unless it is the default 32.
  void set_alignment(uint64_t a);
  uint64_t alignment() const { return alignment_; }

  // Crash-safe: writes "<path>.tmp-XXXXXX" beside the target, fsyncs it, renames it over
  // `path`, then fsyncs the directory. On any error the temporary file is removed and
  // Error(Io) names the path. An exception thrown by a fill callback propagates after
  // the same cleanup.
  void write(const std::string& path) const;

 private:
  struct PendingTensor;
  uint64_t alignment_ = 32;
  std::vector<std::pair<std::string, Value>> metadata_;
  std::vector<PendingTensor> tensors_;
};

}  // namespace xnai::gguf
