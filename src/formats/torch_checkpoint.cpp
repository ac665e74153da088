#include "formats/torch_checkpoint.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <functional>

#include "core/error.h"
#include "core/fp16.h"
#include "core/mapped_file.h"
#include "formats/pickle_vm.h"
#include "formats/zip_archive.h"

namespace xnai::torch {
namespace {

using pickle::Value;

struct StorageInfo {
  const char* global;
  ScalarType type;
};
constexpr StorageInfo kStorages[] = {
    {"torch.FloatStorage", ScalarType::F32}, {"torch.DoubleStorage", ScalarType::F64},
    {"torch.HalfStorage", ScalarType::F16},  {"torch.BFloat16Storage", ScalarType::BF16},
    {"torch.LongStorage", ScalarType::I64},  {"torch.IntStorage", ScalarType::I32},
    {"torch.ShortStorage", ScalarType::I16}, {"torch.CharStorage", ScalarType::I8},
    {"torch.ByteStorage", ScalarType::U8},   {"torch.BoolStorage", ScalarType::Bool},
};

constexpr int kMaxDepth = 64;
constexpr int kMaxDims = 16;

template <class T>
T load_as(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

double element(ScalarType t, const uint8_t* p) {
  switch (t) {
    case ScalarType::F32:
      return load_as<float>(p);
    case ScalarType::F64:
      return load_as<double>(p);
    case ScalarType::F16:
      return fp16_to_f32(load_as<uint16_t>(p));
    case ScalarType::BF16:
      return bf16_to_f32(load_as<uint16_t>(p));
    case ScalarType::I64:
      return static_cast<double>(load_as<int64_t>(p));
    case ScalarType::I32:
      return load_as<int32_t>(p);
    case ScalarType::I16:
      return load_as<int16_t>(p);
    case ScalarType::I8:
      return load_as<int8_t>(p);
    case ScalarType::U8:
      return *p;
    case ScalarType::Bool:
      return *p != 0;
  }
  return 0;
}

// Calls fn(flat_row_major_index, storage_element_index) for every element of the view.
template <class Fn>
void for_each_element(const TensorView& t, Fn fn) {
  const int64_t n = t.numel();
  if (n == 0) return;
  const size_t nd = t.shape.size();
  std::vector<int64_t> idx(nd, 0);
  int64_t off = t.storage_offset;
  for (int64_t k = 0; k < n; ++k) {
    fn(k, off);
    for (size_t d = nd; d-- > 0;) {
      if (++idx[d] < t.shape[d]) {
        off += t.strides[d];
        break;
      }
      off -= t.strides[d] * (t.shape[d] - 1);
      idx[d] = 0;
    }
  }
}

std::vector<int64_t> int_tuple(const Value* v, const std::string& what,
                               const std::function<void(std::string)>& fail) {
  if (v->kind != Value::Kind::Tuple && v->kind != Value::Kind::List) fail(what + " is not a tuple");
  if (v->items.size() > kMaxDims) fail(what + " has more than 16 dimensions");
  std::vector<int64_t> out;
  for (const Value* x : v->items) {
    if (x->kind != Value::Kind::Int || x->i < 0) fail(what + " holds a value that is not a non-negative int");
    out.push_back(x->i);
  }
  return out;
}

}  // namespace

const char* scalar_type_name(ScalarType t) {
  switch (t) {
    case ScalarType::F32:
      return "float32";
    case ScalarType::F64:
      return "float64";
    case ScalarType::F16:
      return "float16";
    case ScalarType::BF16:
      return "bfloat16";
    case ScalarType::I64:
      return "int64";
    case ScalarType::I32:
      return "int32";
    case ScalarType::I16:
      return "int16";
    case ScalarType::I8:
      return "int8";
    case ScalarType::U8:
      return "uint8";
    case ScalarType::Bool:
      return "bool";
  }
  return "?";
}

size_t scalar_type_size(ScalarType t) {
  switch (t) {
    case ScalarType::F64:
    case ScalarType::I64:
      return 8;
    case ScalarType::F32:
    case ScalarType::I32:
      return 4;
    case ScalarType::F16:
    case ScalarType::BF16:
    case ScalarType::I16:
      return 2;
    default:
      return 1;
  }
}

int64_t TensorView::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

bool TensorView::is_contiguous() const {
  int64_t expect = 1;
  for (size_t d = shape.size(); d-- > 0;) {
    if (shape[d] != 1 && strides[d] != expect) return false;
    expect *= shape[d];
  }
  return true;
}

std::vector<float> TensorView::to_float() const {
  std::vector<float> out(static_cast<size_t>(numel()));
  const size_t es = scalar_type_size(dtype);
  if (dtype == ScalarType::F32 && is_contiguous()) {
    if (!out.empty()) std::memcpy(out.data(), storage + storage_offset * es, out.size() * 4);
    return out;
  }
  for_each_element(*this, [&](int64_t k, int64_t off) {
    out[k] = static_cast<float>(element(dtype, storage + off * es));
  });
  return out;
}

std::vector<int64_t> TensorView::to_int64() const {
  std::vector<int64_t> out(static_cast<size_t>(numel()));
  const size_t es = scalar_type_size(dtype);
  for_each_element(*this, [&](int64_t k, int64_t off) {
    out[k] = dtype == ScalarType::I64 ? load_as<int64_t>(storage + off * es)
                                      : static_cast<int64_t>(element(dtype, storage + off * es));
  });
  return out;
}

Checkpoint::~Checkpoint() = default;

std::unique_ptr<Checkpoint> Checkpoint::open(const std::string& path) {
  auto file = std::make_unique<MappedFile>(path);
  std::unique_ptr<Checkpoint> c(new Checkpoint());
  c->name_ = path;
  c->load(file->data(), file->size());
  c->file_ = std::move(file);
  return c;
}

std::unique_ptr<Checkpoint> Checkpoint::parse(const uint8_t* data, size_t size, const std::string& name) {
  std::unique_ptr<Checkpoint> c(new Checkpoint());
  c->name_ = name;
  c->load(data, size);
  return c;
}

const TensorView* Checkpoint::find(std::string_view key) const {
  auto it = tensors_.find(std::string(key));
  return it == tensors_.end() ? nullptr : &it->second;
}

void Checkpoint::release_pages(const TensorView& t) const {
  if (!file_ || !t.storage) return;
  const uint8_t* base = file_->data();
  const uintptr_t lo = reinterpret_cast<uintptr_t>(base), hi = lo + file_->size();
  const uintptr_t b = reinterpret_cast<uintptr_t>(t.storage);
  const uintptr_t e = b + static_cast<uintptr_t>(t.storage_numel) * scalar_type_size(t.dtype);
  if (b < lo || e > hi) return;  // an inflated member: heap bytes
  // Whole pages inside the storage only (its neighbours' partial pages stay).
  const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t start = (b + page - 1) & ~(page - 1), end = e & ~(page - 1);
  if (end > start) ::madvise(reinterpret_cast<void*>(start), end - start, MADV_DONTNEED);
}

void Checkpoint::load(const uint8_t* data, size_t size) {
  zip::Archive zip(data, size, name_);
  if (zip.entries().empty())
    throw Error(ErrorKind::InvalidFormat, name_ + ": empty zip archive, not a torch.save file");
  // <root> is whatever the first member starts with (file stem, or "archive").
  const std::string& first = zip.entries().front().name;
  const size_t slash = first.find('/');
  if (slash == std::string::npos)
    throw Error(ErrorKind::InvalidFormat,
                name_ + ": not a torch.save archive (member " + first + " has no folder)");
  const std::string root = first.substr(0, slash + 1);
  const zip::Entry* pkl = zip.find(root + "data.pkl");
  if (!pkl)
    throw Error(ErrorKind::InvalidFormat,
                name_ + ": not a torch.save archive (missing " + root + "data.pkl)");
  const std::vector<uint8_t> pkl_bytes = zip.read(*pkl, uint64_t{1} << 30);
  const pickle::Pickled pickled = pickle::unpickle(pkl_bytes.data(), pkl_bytes.size(), name_);

  std::map<std::string, std::pair<const uint8_t*, uint64_t>> storages;  // key -> bytes, size
  auto storage_bytes = [&](const std::string& key) -> std::pair<const uint8_t*, uint64_t> {
    if (auto it = storages.find(key); it != storages.end()) return it->second;
    const zip::Entry* e = zip.find(root + "data/" + key);
    if (!e)
      throw Error(ErrorKind::InvalidFormat,
                  name_ + ": storage " + key + " has no member " + root + "data/" + key);
    std::pair<const uint8_t*, uint64_t> r;
    if (e->method == 0) {
      r = {zip.stored_bytes(*e), e->size};
    } else {
      inflated_.push_back(zip.read(*e, uint64_t{1} << 40));
      r = {inflated_.back().data(), inflated_.back().size()};
    }
    storages[key] = r;
    return r;
  };

  auto make_tensor = [&](const Value* t, const std::string& key) {
    auto fail = [&](const std::string& why) {
      throw Error(ErrorKind::InvalidFormat, name_ + ": tensor " + (key.empty() ? "<top>" : key) + ": " + why);
    };
    const Value* st = t->items[0];
    if (st->kind != Value::Kind::Storage) fail("first rebuild argument is not a storage");
    if (t->items[1]->kind != Value::Kind::Int || t->items[1]->i < 0)
      fail("storage offset is not a non-negative int");
    TensorView v;
    bool known = false;
    for (const auto& s : kStorages)
      if (st->s == s.global) {
        v.dtype = s.type;
        known = true;
      }
    if (!known) throw Error(ErrorKind::Unsupported, name_ + ": tensor " + key + ": storage type " + st->s);
    v.storage_key = st->key;
    v.storage_offset = t->items[1]->i;
    v.shape = int_tuple(t->items[2], "size", fail);
    v.strides = int_tuple(t->items[3], "stride", fail);
    if (v.shape.size() != v.strides.size()) fail("size and stride have different lengths");
    const uint64_t es = scalar_type_size(v.dtype);
    const uint64_t numel = static_cast<uint64_t>(st->i);
    auto [bytes, nbytes] = storage_bytes(st->key);
    if (numel > nbytes / es)
      fail("storage " + st->key + " out of range (" + std::to_string(numel) + " elements of " +
           std::to_string(es) + " bytes, member has " + std::to_string(nbytes) + ")");
    // Highest element index the view touches, with overflow checks (fuzzed sizes are huge).
    uint64_t last = static_cast<uint64_t>(v.storage_offset), count = 1;
    bool empty = false;
    for (size_t d = 0; d < v.shape.size(); ++d) {
      const uint64_t n = static_cast<uint64_t>(v.shape[d]), s = static_cast<uint64_t>(v.strides[d]);
      if (n == 0) empty = true;
      if (n > (uint64_t{1} << 40) || (n && s > (uint64_t{1} << 40))) fail("size or stride implausibly large");
      if (n) last += (n - 1) * s;
      count *= n ? n : 1;
      if (count > (uint64_t{1} << 34)) fail("too many elements");
    }
    if (!empty && last >= numel)
      fail("storage out of range (view reaches element " + std::to_string(last) + " of " +
           std::to_string(numel) + ")");
    v.storage = bytes;
    v.storage_numel = static_cast<int64_t>(numel);
    tensors_[key] = std::move(v);
  };

  // Depth-first walk of nested dicts; non-tensor leaves (ints, strings …) are skipped. The
  // memo lets a pickle reuse a dict many times, so the walk is bounded: a real file has at
  // most one visit per entry it spells out (each needs at least one byte of pickle).
  size_t visits = 0;
  std::function<void(const Value*, const std::string&, int)> walk =
      [&](const Value* v, const std::string& prefix, int depth) {
        if (depth > kMaxDepth)
          throw Error(ErrorKind::InvalidFormat, name_ + ": dicts nested deeper than 64 levels");
        if (++visits > pkl_bytes.size() + 16)
          throw Error(ErrorKind::InvalidFormat,
                      name_ + ": the pickle reuses dicts more often than it could spell out");
        if (v->kind == Value::Kind::Tensor) {
          if (tensors_.count(prefix))
            throw Error(ErrorKind::InvalidFormat, name_ + ": duplicate tensor key " + prefix);
          make_tensor(v, prefix);
        } else if (v->kind == Value::Kind::Dict) {
          for (const auto& [k, x] : v->dict) {
            std::string ks;
            if (k->kind == Value::Kind::String)
              ks = k->s;
            else if (k->kind == Value::Kind::Int)
              ks = std::to_string(k->i);
            else
              continue;
            walk(x, prefix.empty() ? ks : prefix + "." + ks, depth + 1);
          }
        }
      };
  walk(pickled.root, "", 0);
  if (tensors_.empty()) throw Error(ErrorKind::InvalidFormat, name_ + ": the checkpoint holds no tensors");
}

}  // namespace xnai::torch
