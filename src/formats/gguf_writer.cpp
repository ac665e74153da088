// GGUF writer: serializes the header, metadata and tensor table, then writes the data
// section through a shared mapping of a temporary file, so generated tensors are produced
// straight into the page cache and never held in RAM. The file only appears under its
// final name after everything is on disk.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <unordered_set>

#include "core/error.h"
#include "formats/gguf.h"

namespace xnai::gguf {

static_assert(std::endian::native == std::endian::little, "the GGUF writer assumes a little-endian host");

namespace {

constexpr uint32_t kMagic = 0x46554747;
constexpr uint32_t kVersion = 3;
constexpr uint64_t kDefaultAlignment = 32;
constexpr size_t kMaxNameLength = 63;
constexpr size_t kMaxDims = 4;
constexpr const char* kAlignmentKey = "general.alignment";

bool is_power_of_two(uint64_t a) { return a != 0 && (a & (a - 1)) == 0; }

uint64_t pad_to(uint64_t x, uint64_t a) { return (x + a - 1) & ~(a - 1); }

class Buffer {
 public:
  template <class T>
  void put(T v) {
    const size_t n = bytes_.size();
    bytes_.resize(n + sizeof v);
    std::memcpy(bytes_.data() + n, &v, sizeof v);
  }
  void put_string(const std::string& s) {
    put<uint64_t>(s.size());
    bytes_.insert(bytes_.end(), s.begin(), s.end());
  }
  void pad(uint64_t a) { bytes_.resize(pad_to(bytes_.size(), a), 0); }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

[[noreturn]] void io_error(const std::string& path, const std::string& what) {
  throw Error(ErrorKind::Io, path + ": " + what + ": " + std::strerror(errno));
}

// Owns the temporary file until commit(); removes it on every other way out.
class TempFile {
 public:
  explicit TempFile(const std::string& target) : target_(target) {
    std::string templ = target + ".tmp-XXXXXX";
    fd_ = ::mkstemp(templ.data());
    if (fd_ < 0) io_error(target, "cannot create a temporary file beside it");
    path_ = templ;
    ::fchmod(fd_, 0644);  // mkstemp makes 0600; give the file what a plain create would under umask 022
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    unmap();
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(path_.c_str());
  }

  uint8_t* map(size_t size) {
    if (const int e = ::posix_fallocate(fd_, 0, static_cast<off_t>(size)); e != 0) {
      errno = e;
      io_error(target_, "cannot reserve " + std::to_string(size) + " bytes");
    }
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
    if (p == MAP_FAILED) io_error(target_, "mmap of the temporary file failed");
    map_ = static_cast<uint8_t*>(p);
    map_size_ = size;
    return map_;
  }

  void commit() {
    if (::msync(map_, map_size_, MS_SYNC) != 0) io_error(target_, "msync failed");
    unmap();
    if (::fsync(fd_) != 0) io_error(target_, "fsync failed");
    if (::close(fd_) != 0) {
      fd_ = -1;
      io_error(target_, "close failed");
    }
    fd_ = -1;
    if (::rename(path_.c_str(), target_.c_str()) != 0) io_error(target_, "cannot rename " + path_ + " to it");
    committed_ = true;
    // Make the rename itself durable. A failure here leaves a complete file in place, so
    // it is not reported.
    std::filesystem::path dir = std::filesystem::path(target_).parent_path();
    if (dir.empty()) dir = ".";
    if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
  }

 private:
  void unmap() {
    if (map_) ::munmap(map_, map_size_);
    map_ = nullptr;
  }

  std::string target_, path_;
  int fd_ = -1;
  uint8_t* map_ = nullptr;
  size_t map_size_ = 0;
  bool committed_ = false;
};

}  // namespace

// Encodes values; a friend of Value so floats are written from their stored bits.
class Serializer {
 public:
  // Writes the value without its type tag (the caller writes that where the format has one).
  static void put_value(Buffer& b, const Value& v) {
    switch (v.type()) {
      case ValueType::U8:
        b.put<uint8_t>(static_cast<uint8_t>(v.num_.u));
        return;
      case ValueType::I8:
        b.put<int8_t>(static_cast<int8_t>(v.num_.i));
        return;
      case ValueType::U16:
        b.put<uint16_t>(static_cast<uint16_t>(v.num_.u));
        return;
      case ValueType::I16:
        b.put<int16_t>(static_cast<int16_t>(v.num_.i));
        return;
      case ValueType::U32:
        b.put<uint32_t>(static_cast<uint32_t>(v.num_.u));
        return;
      case ValueType::I32:
        b.put<int32_t>(static_cast<int32_t>(v.num_.i));
        return;
      case ValueType::U64:
        b.put<uint64_t>(v.num_.u);
        return;
      case ValueType::I64:
        b.put<int64_t>(v.num_.i);
        return;
      case ValueType::F32:
        b.put<float>(v.num_.f4);
        return;
      case ValueType::F64:
        b.put<double>(v.num_.f8);
        return;
      case ValueType::BOOL:
        b.put<uint8_t>(v.num_.u ? 1 : 0);
        return;
      case ValueType::STRING:
        b.put_string(v.str_);
        return;
      case ValueType::ARRAY:
        b.put<uint32_t>(static_cast<uint32_t>(v.array_type_));
        b.put<uint64_t>(v.items_.size());
        for (const Value& item : v.items_) put_value(b, item);
        return;
    }
  }
};

struct GgufWriter::PendingTensor {
  std::string name;
  DType type;
  std::vector<int64_t> ne;
  size_t nbytes;
  const void* data;  // or null when fill is set
  std::function<void(uint8_t*, size_t)> fill;
};

GgufWriter::GgufWriter() = default;
GgufWriter::~GgufWriter() = default;
GgufWriter::GgufWriter(GgufWriter&&) noexcept = default;
GgufWriter& GgufWriter::operator=(GgufWriter&&) noexcept = default;

void GgufWriter::set(std::string key, Value v) {
  if (key == kAlignmentKey) {
    // llama.cpp reads this key as a u32 and nothing else.
    if (v.type() != ValueType::U32 || !is_power_of_two(v.as_uint()))
      throw Error(ErrorKind::InvalidArgument, std::string(kAlignmentKey) +
                                                  " must be a u32 power of two, got " +
                                                  value_type_name(v.type()) + " " + v.to_display());
    alignment_ = v.as_uint();
  }
  for (auto& [k, old] : metadata_) {
    if (k == key) {
      old = std::move(v);
      return;
    }
  }
  metadata_.emplace_back(std::move(key), std::move(v));
}

bool GgufWriter::remove(std::string_view key) {
  for (auto it = metadata_.begin(); it != metadata_.end(); ++it) {
    if (it->first == key) {
      if (key == kAlignmentKey) alignment_ = kDefaultAlignment;
      metadata_.erase(it);
      return true;
    }
  }
  return false;
}

void GgufWriter::set_alignment(uint64_t a) {
  if (!is_power_of_two(a) || a > UINT32_MAX)
    throw Error(ErrorKind::InvalidArgument,
                "alignment " + std::to_string(a) + " is not a power of two that fits u32");
  bool present = false;
  for (const auto& kv : metadata_) present = present || kv.first == kAlignmentKey;
  if (a != kDefaultAlignment || present)
    set(kAlignmentKey, Value::u32(static_cast<uint32_t>(a)));
  else
    alignment_ = a;
}

void GgufWriter::add_tensor(std::string name, DType type, std::vector<int64_t> ne, const void* data) {
  const std::string what = "tensor '" + name + "'";
  if (name.size() > kMaxNameLength)
    throw Error(ErrorKind::InvalidArgument,
                what + ": name longer than " + std::to_string(kMaxNameLength) + " bytes");
  for (const auto& t : tensors_)
    if (t.name == name) throw Error(ErrorKind::InvalidArgument, what + ": added twice");
  if (ne.size() > kMaxDims)
    throw Error(ErrorKind::InvalidArgument,
                what + ": " + std::to_string(ne.size()) + " dims; the limit is 4");
  const DTypeInfo* dinfo = nullptr;
  const auto found = dtype_info(static_cast<uint32_t>(type));
  if (!found)
    throw Error(ErrorKind::InvalidArgument,
                what + ": unknown type id " + std::to_string(static_cast<uint32_t>(type)));
  dinfo = &*found;
  int64_t n = 1;
  for (int64_t d : ne) {
    if (d < 0) throw Error(ErrorKind::InvalidArgument, what + ": negative dimension " + std::to_string(d));
    if (__builtin_mul_overflow(n, d, &n))
      throw Error(ErrorKind::InvalidArgument, what + ": element count overflows");
  }
  const int64_t ne0 = ne.empty() ? 1 : ne[0];
  if (ne0 % dinfo->block_size != 0)
    throw Error(ErrorKind::InvalidArgument, what + ": ne[0] = " + std::to_string(ne0) +
                                                " is not a multiple of the " + dinfo->name + " block size " +
                                                std::to_string(dinfo->block_size));
  const uint64_t rows = ne0 == 0 ? 0 : static_cast<uint64_t>(n / ne0);
  uint64_t nbytes = 0;
  if (__builtin_mul_overflow(static_cast<uint64_t>(ne0 / dinfo->block_size) * dinfo->type_size, rows,
                             &nbytes))
    throw Error(ErrorKind::InvalidArgument, what + ": byte size overflows");
  if (data == nullptr && nbytes > 0) throw Error(ErrorKind::InvalidArgument, what + ": no data");
  tensors_.push_back(
      PendingTensor{std::move(name), type, std::move(ne), static_cast<size_t>(nbytes), data, {}});
}

void GgufWriter::add_tensor_generated(std::string name, DType type, std::vector<int64_t> ne,
                                      std::function<void(uint8_t* dst, size_t nbytes)> fill) {
  if (!fill) throw Error(ErrorKind::InvalidArgument, "tensor '" + name + "': no fill function");
  static const uint8_t kNoBytes = 0;
  add_tensor(std::move(name), type, std::move(ne), &kNoBytes);
  tensors_.back().data = nullptr;
  tensors_.back().fill = std::move(fill);
}

void GgufWriter::write(const std::string& path) const {
  Buffer head;
  head.put<uint32_t>(kMagic);
  head.put<uint32_t>(kVersion);
  head.put<uint64_t>(tensors_.size());
  head.put<uint64_t>(metadata_.size());
  for (const auto& [key, v] : metadata_) {
    head.put_string(key);
    head.put<uint32_t>(static_cast<uint32_t>(v.type()));
    Serializer::put_value(head, v);
  }
  // Tensors follow each other in insertion order, each padded to the alignment, which is
  // the layout llama.cpp itself requires.
  std::vector<uint64_t> offsets(tensors_.size());
  uint64_t data_size = 0;
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const auto& t = tensors_[i];
    head.put_string(t.name);
    head.put<uint32_t>(static_cast<uint32_t>(t.ne.size()));
    for (int64_t d : t.ne) head.put<int64_t>(d);
    head.put<uint32_t>(static_cast<uint32_t>(t.type));
    head.put<uint64_t>(data_size);
    offsets[i] = data_size;
    data_size += pad_to(t.nbytes, alignment_);
  }
  // gguf-py pads only when a data section follows; doing the same keeps a re-written
  // vocab-only file byte-identical.
  if (!tensors_.empty()) head.pad(alignment_);
  const size_t data_offset = head.bytes().size();
  const size_t total = data_offset + static_cast<size_t>(data_size);

  TempFile tmp(path);
  uint8_t* out = tmp.map(total);
  std::memcpy(out, head.bytes().data(), data_offset);
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const auto& t = tensors_[i];
    uint8_t* dst = out + data_offset + offsets[i];
    if (t.fill)
      t.fill(dst, t.nbytes);
    else if (t.nbytes)
      std::memcpy(dst, t.data, t.nbytes);
  }
  tmp.commit();
}

}  // namespace xnai::gguf
