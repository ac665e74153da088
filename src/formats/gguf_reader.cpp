// GGUF reader: validates the whole header, metadata and tensor table of a mapped file and
// points each tensor at its bytes. Every length and count is checked against the bytes
// left before anything is allocated: a hostile file can never make us allocate more than
// about 72 bytes (one Value) per byte of its own size, and nothing reads outside
// [data, data + size).
#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <new>

#include "core/error.h"
#include "core/mapped_file.h"
#include "formats/gguf.h"

namespace xnai::gguf {

static_assert(std::endian::native == std::endian::little, "the GGUF reader assumes a little-endian host");

namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32
constexpr uint32_t kMaxDims = 4;         // ggml's limit
constexpr size_t kMaxNameLength = 63;    // ggml keeps names in 64-byte buffers with a NUL
constexpr int kMaxArrayDepth = 16;       // nested arrays; bounds recursion on hostile input
// Array items in the whole file. Each becomes a 72-byte Value, so this caps metadata at
// about 1.2 GB; real files hold well under 1M (a 256k vocabulary has 3 such arrays).
constexpr uint64_t kMaxArrayItems = uint64_t{1} << 24;

// Smallest encoding of one value of type t, used to reject counts the file cannot hold.
size_t min_encoded_size(ValueType t) {
  switch (t) {
    case ValueType::U8:
    case ValueType::I8:
    case ValueType::BOOL:
      return 1;
    case ValueType::U16:
    case ValueType::I16:
      return 2;
    case ValueType::U32:
    case ValueType::I32:
    case ValueType::F32:
      return 4;
    case ValueType::U64:
    case ValueType::I64:
    case ValueType::F64:
    case ValueType::STRING:
      return 8;  // the length prefix
    case ValueType::ARRAY:
      return 12;  // element type + count
  }
  return 0;
}

bool valid_value_type(uint32_t id) { return id <= static_cast<uint32_t>(ValueType::F64); }

// A key or tensor name as it appears in messages: control bytes escaped, cut at 96 bytes,
// so a hostile name cannot flood or garble a log line.
std::string printable(const std::string& s) {
  constexpr size_t kMax = 96;
  std::string r;
  for (size_t i = 0; i < s.size() && i < kMax; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) {
      static const char kHex[] = "0123456789abcdef";
      r += "\\x";
      r += kHex[c >> 4];
      r += kHex[c & 15];
    } else {
      r += static_cast<char>(c);
    }
  }
  if (s.size() > kMax) r += "...";
  return r;
}

}  // namespace

// Reads one file into a GgufFile. Holds the cursor and a description of what is being read
// so every error can say where it happened. (Not in an anonymous namespace: Value and
// GgufFile name it as a friend.)
class Parser {
 public:
  Parser(const uint8_t* data, size_t size, GgufFile& out) : p_(data), size_(size), out_(out) {}

  void run() {
    out_.bytes_ = p_;
    out_.size_ = size_;
    read_header();
    read_metadata();
    apply_alignment();
    read_tensor_infos();
    place_tensor_data();
    build_indexes();
  }

 private:
  const uint8_t* p_;
  size_t size_;
  size_t pos_ = 0;
  GgufFile& out_;
  std::string where_;  // what is being read, e.g. "tensor info 3 ('x')"; empty in the header
  uint64_t n_tensors_ = 0;
  uint64_t n_kv_ = 0;
  uint64_t array_items_ = 0;  // running total, against kMaxArrayItems

  size_t remaining() const { return size_ - pos_; }

  [[noreturn]] void fail(ErrorKind kind, const std::string& msg) const {
    throw Error(kind, out_.path_ + ": " + (where_.empty() ? "" : where_ + ": ") + msg);
  }
  [[noreturn]] void truncated() const {
    throw Error(ErrorKind::InvalidFormat, out_.path_ + ": truncated while reading " +
                                              (where_.empty() ? "header" : where_) + " (file is " +
                                              std::to_string(size_) + " bytes)");
  }

  template <class T>
  T read() {
    if (remaining() < sizeof(T)) truncated();
    T v;
    std::memcpy(&v, p_ + pos_, sizeof v);
    pos_ += sizeof v;
    return v;
  }

  void read_string(std::string& out, const char* what) {
    const uint64_t n = read<uint64_t>();
    if (n > remaining())
      fail(ErrorKind::InvalidFormat, std::string(what) + " length " + std::to_string(n) + " exceeds the " +
                                         std::to_string(remaining()) +
                                         " bytes left in the file (truncated or corrupt)");
    out.assign(reinterpret_cast<const char*>(p_ + pos_), static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
  }

  ValueType read_type(const char* what) {
    const uint32_t id = read<uint32_t>();
    if (!valid_value_type(id))
      fail(ErrorKind::InvalidFormat, std::string("unknown ") + what + " type id " + std::to_string(id));
    return static_cast<ValueType>(id);
  }

  // Fills `count` scalars of a fixed-size type whose bytes were already bounds-checked.
  template <class T, class Store>
  void read_fixed_items(std::vector<Value>& items, Store store) {
    const uint8_t* src = p_ + pos_;
    for (auto& item : items) {
      T x;
      std::memcpy(&x, src, sizeof x);
      src += sizeof x;
      store(item, x);
    }
    pos_ += items.size() * sizeof(T);
  }

  void read_value(Value& v, ValueType t, int depth) {
    v.type_ = t;
    switch (t) {
      case ValueType::U8:
        v.num_.u = read<uint8_t>();
        return;
      case ValueType::I8:
        v.num_.i = read<int8_t>();
        return;
      case ValueType::U16:
        v.num_.u = read<uint16_t>();
        return;
      case ValueType::I16:
        v.num_.i = read<int16_t>();
        return;
      case ValueType::U32:
        v.num_.u = read<uint32_t>();
        return;
      case ValueType::I32:
        v.num_.i = read<int32_t>();
        return;
      case ValueType::U64:
        v.num_.u = read<uint64_t>();
        return;
      case ValueType::I64:
        v.num_.i = read<int64_t>();
        return;
      case ValueType::F32:
        v.num_.f4 = read<float>();
        return;
      case ValueType::F64:
        v.num_.f8 = read<double>();
        return;
      case ValueType::BOOL:
        v.num_.u = read<uint8_t>() != 0;
        return;  // llama.cpp treats any non-zero as true
      case ValueType::STRING:
        read_string(v.str_, "string");
        return;
      case ValueType::ARRAY:
        read_array(v, depth);
        return;
    }
  }

  void read_array(Value& v, int depth) {
    const ValueType elem = read_type("array element");
    const uint64_t n = read<uint64_t>();
    const size_t min = min_encoded_size(elem);
    if (n > remaining() / min)
      fail(ErrorKind::InvalidFormat,
           "array of " + std::to_string(n) + " " + value_type_name(elem) + " items needs at least " +
               (n > SIZE_MAX / min ? std::string("2^64") : std::to_string(n * min)) + " bytes but only " +
               std::to_string(remaining()) + " are left");
    if (elem == ValueType::ARRAY && depth + 1 >= kMaxArrayDepth)
      fail(ErrorKind::Unsupported, "arrays nested more than " + std::to_string(kMaxArrayDepth) + " deep");
    v.array_type_ = elem;
    array_items_ += n;  // every item takes at least one byte of the file: no overflow
    if (array_items_ > kMaxArrayItems)
      fail(ErrorKind::Unsupported, "metadata arrays hold more than " + std::to_string(kMaxArrayItems) +
                                       " items in total; refusing to load them");
    v.items_.resize(static_cast<size_t>(n));
    auto& items = v.items_;
    for (auto& item : items) item.type_ = elem;
    switch (elem) {
      case ValueType::U8:
        read_fixed_items<uint8_t>(items, [](Value& d, uint8_t x) { d.num_.u = x; });
        return;
      case ValueType::I8:
        read_fixed_items<int8_t>(items, [](Value& d, int8_t x) { d.num_.i = x; });
        return;
      case ValueType::U16:
        read_fixed_items<uint16_t>(items, [](Value& d, uint16_t x) { d.num_.u = x; });
        return;
      case ValueType::I16:
        read_fixed_items<int16_t>(items, [](Value& d, int16_t x) { d.num_.i = x; });
        return;
      case ValueType::U32:
        read_fixed_items<uint32_t>(items, [](Value& d, uint32_t x) { d.num_.u = x; });
        return;
      case ValueType::I32:
        read_fixed_items<int32_t>(items, [](Value& d, int32_t x) { d.num_.i = x; });
        return;
      case ValueType::U64:
        read_fixed_items<uint64_t>(items, [](Value& d, uint64_t x) { d.num_.u = x; });
        return;
      case ValueType::I64:
        read_fixed_items<int64_t>(items, [](Value& d, int64_t x) { d.num_.i = x; });
        return;
      case ValueType::F32:
        read_fixed_items<float>(items, [](Value& d, float x) { d.num_.f4 = x; });
        return;
      case ValueType::F64:
        read_fixed_items<double>(items, [](Value& d, double x) { d.num_.f8 = x; });
        return;
      case ValueType::BOOL:
        read_fixed_items<uint8_t>(items, [](Value& d, uint8_t x) { d.num_.u = x != 0; });
        return;
      case ValueType::STRING:
        for (auto& item : items) read_string(item.str_, "string");
        return;
      case ValueType::ARRAY:
        for (auto& item : items) read_array(item, depth + 1);
        return;
    }
  }

  void read_header() {
    if (size_ < 4) truncated();
    const uint32_t magic = read<uint32_t>();
    if (magic != kMagic) {
      std::string shown;
      for (int i = 0; i < 4; ++i) {
        const char c = static_cast<char>(p_[i]);
        shown += (c >= 0x20 && c < 0x7f) ? c : '.';
      }
      fail(ErrorKind::InvalidFormat, "not a GGUF file (magic is '" + shown + "', expected 'GGUF')");
    }
    const uint32_t version = read<uint32_t>();
    if (version == 1)
      fail(ErrorKind::Unsupported, "GGUF version 1 is not supported (only 2 and 3); re-convert the model");
    if (version != 0 && (version & 0xffff) == 0)
      fail(ErrorKind::Unsupported, "the file looks big-endian (version field " + std::to_string(version) +
                                       "); only little-endian GGUF is supported");
    if (version != 2 && version != 3)
      fail(ErrorKind::Unsupported,
           "GGUF version " + std::to_string(version) + " is not supported (only 2 and 3)");
    out_.version_ = version;
    n_tensors_ = read<uint64_t>();
    n_kv_ = read<uint64_t>();
    // Cheapest possible encodings: a kv is key length + type + 1 byte of value; a tensor
    // info is name length + n_dims + type + offset.
    constexpr uint64_t kMinKv = 8 + 4 + 1, kMinTensor = 8 + 4 + 4 + 8;
    if (n_kv_ > remaining() / kMinKv)
      fail(ErrorKind::InvalidFormat, "claims " + std::to_string(n_kv_) + " metadata entries but only " +
                                         std::to_string(remaining()) + " bytes follow the header");
    if (n_tensors_ > remaining() / kMinTensor || n_tensors_ * kMinTensor > remaining() - n_kv_ * kMinKv)
      fail(ErrorKind::InvalidFormat, "claims " + std::to_string(n_tensors_) + " tensors but only " +
                                         std::to_string(remaining()) + " bytes follow the header");
  }

  void read_metadata() {
    auto& md = out_.metadata_;
    md.resize(static_cast<size_t>(n_kv_));
    for (uint64_t i = 0; i < n_kv_; ++i) {
      auto& [key, value] = md[static_cast<size_t>(i)];
      where_ = "metadata entry " + std::to_string(i);
      read_string(key, "key");
      where_ += " ('" + printable(key) + "')";
      const ValueType t = read_type("value");
      read_value(value, t, 0);
    }
    out_.key_index_.reserve(md.size());
    for (size_t i = 0; i < md.size(); ++i) {
      if (!out_.key_index_.emplace(md[i].first, i).second) {
        where_ = "metadata entry " + std::to_string(i) + " ('" + printable(md[i].first) + "')";
        fail(ErrorKind::InvalidFormat,
             "duplicate key (first seen at entry " + std::to_string(out_.key_index_[md[i].first]) + ")");
      }
    }
  }

  void apply_alignment() {
    auto it = out_.key_index_.find("general.alignment");
    if (it == out_.key_index_.end()) return;
    const Value& v = out_.metadata_[it->second].second;
    where_ = "metadata entry " + std::to_string(it->second) + " ('general.alignment')";
    if (!v.is_integer())
      fail(ErrorKind::InvalidFormat, std::string("must be an integer, got ") + value_type_name(v.type()));
    const bool negative = (v.type() == ValueType::I8 || v.type() == ValueType::I16 ||
                           v.type() == ValueType::I32 || v.type() == ValueType::I64) &&
                          v.num_.i < 0;
    const uint64_t a = v.num_.u;
    if (negative || a == 0 || (a & (a - 1)) != 0)
      fail(ErrorKind::InvalidFormat, "alignment " + v.to_display() + " is not a non-zero power of two");
    out_.alignment_ = a;
  }

  void read_tensor_infos() {
    constexpr uint64_t kMinTensor = 8 + 4 + 4 + 8;
    if (n_tensors_ > remaining() / kMinTensor) {
      where_ = "tensor infos";
      fail(ErrorKind::InvalidFormat, "claims " + std::to_string(n_tensors_) + " tensors but only " +
                                         std::to_string(remaining()) + " bytes are left for them");
    }
    auto& tensors = out_.tensors_;
    tensors.resize(static_cast<size_t>(n_tensors_));
    for (uint64_t i = 0; i < n_tensors_; ++i) {
      TensorInfo& t = tensors[static_cast<size_t>(i)];
      where_ = "tensor info " + std::to_string(i);
      read_string(t.name, "tensor name");
      where_ += " ('" + printable(t.name) + "')";
      if (t.name.size() > kMaxNameLength)
        fail(ErrorKind::InvalidFormat, "tensor name is " + std::to_string(t.name.size()) +
                                           " bytes long; the limit is " + std::to_string(kMaxNameLength));
      const uint32_t n_dims = read<uint32_t>();
      if (n_dims > kMaxDims)
        fail(ErrorKind::InvalidFormat,
             "n_dims " + std::to_string(n_dims) + " exceeds the maximum of " + std::to_string(kMaxDims));
      t.ne.resize(n_dims);
      int64_t n_elements = 1;
      for (uint32_t d = 0; d < n_dims; ++d) {
        const int64_t ne = read<int64_t>();
        if (ne < 0)
          fail(ErrorKind::InvalidFormat,
               "dimension " + std::to_string(d) + " is negative (" + std::to_string(ne) + ")");
        if (__builtin_mul_overflow(n_elements, ne, &n_elements))
          fail(ErrorKind::InvalidFormat, "element count overflows 64 bits");
        t.ne[d] = ne;
      }
      const uint32_t type_id = read<uint32_t>();
      const auto dinfo = dtype_info(type_id);
      if (!dinfo) fail(ErrorKind::Unsupported, "unknown tensor type id " + std::to_string(type_id));
      t.type = static_cast<DType>(type_id);
      t.offset = read<uint64_t>();

      const int64_t ne0 = t.dim(0);
      if (ne0 % dinfo->block_size != 0)
        fail(ErrorKind::InvalidFormat, "ne[0] = " + std::to_string(ne0) + " is not a multiple of the " +
                                           dinfo->name + " block size " + std::to_string(dinfo->block_size));
      // nbytes = blocks per row * type_size * rows, all overflow-checked.
      const uint64_t rows = ne0 == 0 ? 0 : static_cast<uint64_t>(n_elements / ne0);
      uint64_t row_bytes = 0, nbytes = 0;
      if (__builtin_mul_overflow(static_cast<uint64_t>(ne0 / dinfo->block_size), dinfo->type_size,
                                 &row_bytes) ||
          __builtin_mul_overflow(row_bytes, rows, &nbytes) || nbytes > SIZE_MAX)
        fail(ErrorKind::InvalidFormat, "byte size overflows");
      t.nbytes = static_cast<size_t>(nbytes);
      if (t.offset % out_.alignment_ != 0)
        fail(ErrorKind::InvalidFormat, "data offset " + std::to_string(t.offset) +
                                           " is not a multiple of the alignment " +
                                           std::to_string(out_.alignment_));
    }
  }

  void place_tensor_data() {
    const uint64_t a = out_.alignment_;
    uint64_t data_offset = 0;
    if (__builtin_add_overflow(static_cast<uint64_t>(pos_), a - 1, &data_offset)) data_offset = UINT64_MAX;
    data_offset &= ~(a - 1);
    if (out_.tensors_.empty()) {
      // Vocab-only files need not pad after the header.
      out_.data_offset_ = static_cast<size_t>(std::min<uint64_t>(data_offset, size_));
      return;
    }
    where_ = "data section";
    if (data_offset > size_)
      fail(ErrorKind::InvalidFormat, "starts at byte " + std::to_string(data_offset) +
                                         ", past the end of the file (" + std::to_string(size_) + " bytes)");
    out_.data_offset_ = static_cast<size_t>(data_offset);
    const uint64_t data_size = size_ - data_offset;
    for (size_t i = 0; i < out_.tensors_.size(); ++i) {
      TensorInfo& t = out_.tensors_[i];
      if (t.offset > data_size || t.nbytes > data_size - t.offset) {
        where_ = "tensor info " + std::to_string(i) + " ('" + printable(t.name) + "')";
        fail(ErrorKind::InvalidFormat, "data [" + std::to_string(t.offset) + ", +" +
                                           std::to_string(t.nbytes) +
                                           ") runs past the end of the file (the data section holds " +
                                           std::to_string(data_size) + " bytes)");
      }
      t.data = p_ + out_.data_offset_ + t.offset;
    }
  }

  void build_indexes() {
    auto& index = out_.tensor_index_;
    index.reserve(out_.tensors_.size());
    for (size_t i = 0; i < out_.tensors_.size(); ++i) {
      const auto [it, inserted] = index.emplace(out_.tensors_[i].name, i);
      if (!inserted) {
        where_ = "tensor info " + std::to_string(i) + " ('" + printable(out_.tensors_[i].name) + "')";
        fail(ErrorKind::InvalidFormat,
             "duplicate tensor name (first seen at tensor info " + std::to_string(it->second) + ")");
      }
    }
  }
};

// ---- TensorInfo ----

int64_t TensorInfo::n_elements() const {
  int64_t n = 1;
  for (int64_t d : ne) n *= d;  // overflow was ruled out when the file was read
  return n;
}

// ---- GgufFile ----

GgufFile::GgufFile(GgufFile&&) noexcept = default;
GgufFile& GgufFile::operator=(GgufFile&&) noexcept = default;
GgufFile::~GgufFile() = default;

GgufFile GgufFile::open(const std::string& path) {
  auto mapping = std::make_unique<MappedFile>(path);
  GgufFile f = parse(mapping->data(), mapping->size(), path);
  f.mapping_ = std::move(mapping);
  return f;
}

GgufFile GgufFile::parse(const uint8_t* data, size_t size, std::string name) {
  GgufFile f;
  f.path_ = std::move(name);
  if (data == nullptr) size = 0;
  try {
    Parser(data, size, f).run();
  } catch (const std::bad_alloc&) {
    throw Error(ErrorKind::Io, f.path_ + ": out of memory while reading the metadata");
  }
  return f;
}

const Value* GgufFile::find(std::string_view key) const {
  auto it = key_index_.find(key);
  return it == key_index_.end() ? nullptr : &metadata_[it->second].second;
}

const Value& GgufFile::get(std::string_view key) const {
  if (const Value* v = find(key)) return *v;
  throw Error(ErrorKind::NotFound, path_ + ": missing key '" + std::string(key) + "'");
}

namespace {

// Runs a typed accessor, adding file and key to a type-mismatch message.
template <class F>
auto typed(const std::string& path, std::string_view key, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error& e) {
    throw Error(e.kind(), path + ": key '" + std::string(key) + "': " + e.what());
  }
}

}  // namespace

std::string GgufFile::get_string(std::string_view key, std::string def) const {
  const Value* v = find(key);
  return v ? typed(path_, key, [&]() -> std::string { return v->as_string(); }) : std::move(def);
}
int64_t GgufFile::get_int(std::string_view key, int64_t def) const {
  const Value* v = find(key);
  return v ? typed(path_, key, [&] { return v->as_int(); }) : def;
}
uint64_t GgufFile::get_uint(std::string_view key, uint64_t def) const {
  const Value* v = find(key);
  return v ? typed(path_, key, [&] { return v->as_uint(); }) : def;
}
double GgufFile::get_float(std::string_view key, double def) const {
  const Value* v = find(key);
  return v ? typed(path_, key, [&] { return v->as_float(); }) : def;
}
bool GgufFile::get_bool(std::string_view key, bool def) const {
  const Value* v = find(key);
  return v ? typed(path_, key, [&] { return v->as_bool(); }) : def;
}

const std::string& GgufFile::require_string(std::string_view key) const {
  const Value& v = get(key);
  return typed(path_, key, [&]() -> const std::string& { return v.as_string(); });
}
int64_t GgufFile::require_int(std::string_view key) const {
  const Value& v = get(key);
  return typed(path_, key, [&] { return v.as_int(); });
}
uint64_t GgufFile::require_uint(std::string_view key) const {
  const Value& v = get(key);
  return typed(path_, key, [&] { return v.as_uint(); });
}
double GgufFile::require_float(std::string_view key) const {
  const Value& v = get(key);
  return typed(path_, key, [&] { return v.as_float(); });
}
bool GgufFile::require_bool(std::string_view key) const {
  const Value& v = get(key);
  return typed(path_, key, [&] { return v.as_bool(); });
}
std::vector<std::string> GgufFile::require_strings(std::string_view key) const {
  const Value& v = get(key);
  return typed(path_, key, [&] { return v.as_strings(); });
}
std::vector<float> GgufFile::require_floats(std::string_view key) const {
  const Value& v = get(key);
  return typed(path_, key, [&] { return v.as_floats(); });
}
std::vector<int32_t> GgufFile::require_ints(std::string_view key) const {
  const Value& v = get(key);
  return typed(path_, key, [&] { return v.as_ints(); });
}

const TensorInfo* GgufFile::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const TensorInfo& GgufFile::get_tensor(std::string_view name) const {
  if (const TensorInfo* t = find_tensor(name)) return *t;
  throw Error(ErrorKind::NotFound, path_ + ": missing tensor '" + std::string(name) + "'");
}

std::string GgufFile::architecture() const { return get_string("general.architecture", ""); }

}  // namespace xnai::gguf
