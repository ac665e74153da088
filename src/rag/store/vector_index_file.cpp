#include "rag/store/vector_index_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/error.h"

namespace xnai::rag::store {

static_assert(std::endian::native == std::endian::little, "the index file is little-endian");

namespace {

constexpr char kMagic[8] = {'X', 'N', 'A', 'I', 'V', 'I', 'X', '1'};
constexpr char kEndMagic[8] = {'X', 'N', 'A', 'I', 'V', 'E', 'N', 'D'};
constexpr uint32_t kFormatVersion = 1;
constexpr size_t kHeaderBytes = 128;
constexpr size_t kFooterBytes = 16;

// The fixed header, written field by field at these offsets (see docs/store-format.md).
struct Header {
  uint32_t version = kFormatVersion;
  uint32_t dim = 0;
  uint32_t m = 0;
  uint32_t n_slots = 0;
  uint64_t n_live = 0;
  uint64_t n_deleted = 0;
  uint32_t entry = VectorIndex::kNone;
  int32_t max_level = -1;
  int64_t generation = 0;
  char uuid[32] = {};
  uint64_t payload_bytes = 0;
  uint64_t upper_words = 0;
};

void put(uint8_t* p, size_t off, const void* v, size_t n) { std::memcpy(p + off, v, n); }
template <class T>
T get(const uint8_t* p, size_t off) {
  T v;
  std::memcpy(&v, p + off, sizeof(T));
  return v;
}

void encode(const Header& h, uint8_t* b) {
  std::memset(b, 0, kHeaderBytes);
  put(b, 0, kMagic, 8);
  put(b, 8, &h.version, 4);
  put(b, 12, &h.dim, 4);
  put(b, 16, &h.m, 4);
  put(b, 20, &h.n_slots, 4);
  put(b, 24, &h.n_live, 8);
  put(b, 32, &h.n_deleted, 8);
  put(b, 40, &h.entry, 4);
  put(b, 44, &h.max_level, 4);
  put(b, 48, &h.generation, 8);
  put(b, 56, h.uuid, 32);
  put(b, 88, &h.payload_bytes, 8);
  put(b, 96, &h.upper_words, 8);
}

bool decode(const uint8_t* b, Header& h) {
  if (std::memcmp(b, kMagic, 8) != 0) return false;
  h.version = get<uint32_t>(b, 8);
  h.dim = get<uint32_t>(b, 12);
  h.m = get<uint32_t>(b, 16);
  h.n_slots = get<uint32_t>(b, 20);
  h.n_live = get<uint64_t>(b, 24);
  h.n_deleted = get<uint64_t>(b, 32);
  h.entry = get<uint32_t>(b, 40);
  h.max_level = get<int32_t>(b, 44);
  h.generation = get<int64_t>(b, 48);
  std::memcpy(h.uuid, b + 56, 32);
  h.payload_bytes = get<uint64_t>(b, 88);
  h.upper_words = get<uint64_t>(b, 96);
  return true;
}

static_assert(sizeof(SlotAttrs) == 16, "SlotAttrs is written to the file as is");

constexpr size_t pad8(size_t n) { return (n + 7) & ~size_t(7); }

// Payload bytes for a header's counts (sections in write order); 0 on overflow.
uint64_t payload_size(const Header& h) {
  const unsigned __int128 n = h.n_slots;
  const unsigned __int128 total = n * 8 + n * 16 + pad8(h.n_slots) + pad8(h.n_slots) +
                                  pad8(size_t(n * (2 * h.m + 1) * 4)) + pad8(size_t(h.upper_words * 4)) +
                                  n * h.dim * 4;
  if (total > (unsigned __int128)(uint64_t(1) << 48)) return 0;
  return uint64_t(total);
}

// A 4-lane multiplicative hash; fast enough (many GB/s) to check gigabyte files on open.
class Checksum {
 public:
  void update(const void* data, size_t n) {
    const auto* p = static_cast<const uint8_t*>(data);
    total_ += n;
    if (nbuf_) {
      const size_t take = std::min(n, sizeof(buf_) - nbuf_);
      std::memcpy(buf_ + nbuf_, p, take);
      nbuf_ += take;
      p += take;
      n -= take;
      if (nbuf_ < sizeof(buf_)) return;
      block(buf_);
      nbuf_ = 0;
    }
    for (; n >= 32; n -= 32, p += 32) block(p);
    std::memcpy(buf_, p, n);
    nbuf_ = n;
  }
  uint64_t finish() {
    std::memset(buf_ + nbuf_, 0, sizeof(buf_) - nbuf_);
    block(buf_);
    uint64_t h = total_ * 0x9e3779b97f4a7c15ull;
    for (uint64_t l : lane_) h = (h ^ l) * 0xff51afd7ed558ccdull, h ^= h >> 33;
    return h;
  }

 private:
  void block(const uint8_t* p) {
    for (int i = 0; i < 4; ++i) {
      uint64_t w;
      std::memcpy(&w, p + 8 * i, 8);
      lane_[i] = (lane_[i] ^ w) * 0x9e3779b97f4a7c15ull;
      lane_[i] ^= lane_[i] >> 29;
    }
  }
  uint64_t lane_[4] = {0x243f6a8885a308d3ull, 0x13198a2e03707344ull, 0xa4093822299f31d0ull,
                       0x082efa98ec4e6c89ull};
  uint8_t buf_[32] = {};
  size_t nbuf_ = 0;
  uint64_t total_ = 0;
};

class Writer {
 public:
  Writer(const std::string& path) : path_(path) {
    f_ = std::fopen(path.c_str(), "wb");
    if (!f_)
      throw Error(ErrorKind::Io, "cannot write the vector index " + path + ": " + std::strerror(errno));
    std::setvbuf(f_, nullptr, _IOFBF, 1 << 20);
  }
  ~Writer() {
    if (f_) std::fclose(f_);
  }
  void write(const void* p, size_t n) {
    sum_.update(p, n);
    if (n && std::fwrite(p, 1, n, f_) != n) fail();
  }
  void pad_to8(size_t n) {
    static const uint8_t zeros[8] = {};
    write(zeros, pad8(n) - n);
  }
  void finish() {
    const uint64_t c = sum_.finish();
    if (std::fwrite(&c, 8, 1, f_) != 1 || std::fwrite(kEndMagic, 8, 1, f_) != 1) fail();
    if (std::fflush(f_) != 0 || ::fsync(fileno(f_)) != 0) fail();
    if (std::fclose(f_) != 0) {
      f_ = nullptr;
      fail();
    }
    f_ = nullptr;
  }

 private:
  [[noreturn]] void fail() {
    throw Error(ErrorKind::Io, "cannot write the vector index " + path_ + ": " + std::strerror(errno));
  }
  std::string path_;
  FILE* f_ = nullptr;
  Checksum sum_;
};

void fsync_dir(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

void VectorIndexFile::save(const VectorIndex& ix, const IndexFileTag& tag, const std::string& path) {
  Header h;
  h.dim = uint32_t(ix.params_.dim);
  h.m = uint32_t(ix.params_.m);
  h.n_slots = ix.n_slots_;
  h.n_live = ix.n_live_;
  h.n_deleted = ix.n_deleted_;
  h.entry = ix.entry_;
  h.max_level = ix.max_level_;
  h.generation = tag.generation;
  std::memcpy(h.uuid, tag.store_uuid.data(), std::min<size_t>(32, tag.store_uuid.size()));
  for (uint32_t s = 0; s < ix.n_slots_; ++s) h.upper_words += uint64_t(ix.levels_[s]) * (ix.params_.m + 1);
  h.payload_bytes = payload_size(h);

  const size_t n = ix.n_slots_;
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  try {
    Writer w(tmp);
    uint8_t hb[kHeaderBytes];
    encode(h, hb);
    w.write(hb, kHeaderBytes);
    w.write(ix.labels_.data(), n * 8);
    w.write(ix.attrs_.data(), n * sizeof(SlotAttrs));
    w.write(ix.state_.data(), n);
    w.pad_to8(n);
    w.write(ix.levels_.data(), n);
    w.pad_to8(n);
    w.write(ix.links0_.data(), n * (ix.m0() + 1) * 4);
    w.pad_to8(n * (ix.m0() + 1) * 4);
    for (uint32_t s = 0; s < n; ++s)
      if (ix.levels_[s] > 0) w.write(ix.upper_[s].get(), size_t(ix.levels_[s]) * (ix.params_.m + 1) * 4);
    w.pad_to8(h.upper_words * 4);
    w.write(ix.vectors_.data(), n * ix.params_.dim * sizeof(float));
    w.finish();
    std::filesystem::rename(tmp, path);
  } catch (const std::exception& e) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    if (dynamic_cast<const Error*>(&e)) throw;
    throw Error(ErrorKind::Io, "cannot write the vector index " + path + ": " + e.what());
  }
  fsync_dir(std::filesystem::path(path).parent_path());
}

namespace {

struct Reader {
  FILE* f = nullptr;
  Checksum sum;
  ~Reader() {
    if (f) std::fclose(f);
  }
  bool read(void* p, size_t n) {
    if (n && std::fread(p, 1, n, f) != n) return false;
    sum.update(p, n);
    return true;
  }
  bool skip_pad(size_t n) {
    uint8_t z[8];
    return read(z, pad8(n) - n);
  }
};

VectorIndexFile::Loaded read_header(Reader& r, const std::string& path, Header& h, uint64_t* file_size) {
  VectorIndexFile::Loaded out;
  r.f = std::fopen(path.c_str(), "rb");
  if (!r.f) {
    out.problem = errno == ENOENT ? "missing" : std::string("cannot open: ") + std::strerror(errno);
    return out;
  }
  struct stat st;
  if (::fstat(fileno(r.f), &st) != 0) {
    out.problem = std::string("cannot stat: ") + std::strerror(errno);
    return out;
  }
  *file_size = uint64_t(st.st_size);
  uint8_t hb[kHeaderBytes];
  if (*file_size < kHeaderBytes + kFooterBytes || !r.read(hb, kHeaderBytes) || !decode(hb, h)) {
    out.problem = "not a vector index file (bad or short header)";
    return out;
  }
  if (h.version != kFormatVersion) {
    out.problem =
        "format version " + std::to_string(h.version) + " (expected " + std::to_string(kFormatVersion) + ")";
    return out;
  }
  out.tag.store_uuid.assign(h.uuid, strnlen(h.uuid, 32));
  out.tag.generation = h.generation;
  return out;
}

}  // namespace

VectorIndexFile::Loaded VectorIndexFile::peek(const std::string& path) {
  Reader r;
  Header h;
  uint64_t size = 0;
  return read_header(r, path, h, &size);
}

VectorIndexFile::Loaded VectorIndexFile::load(const std::string& path, const IndexParams& expect) {
  Reader r;
  Header h;
  uint64_t file_size = 0;
  Loaded out = read_header(r, path, h, &file_size);
  if (!out.problem.empty()) return out;
  if (int(h.dim) != expect.dim || int(h.m) != expect.m) {
    out.problem = "built for dim " + std::to_string(h.dim) + ", m " + std::to_string(h.m) +
                  " (store wants dim " + std::to_string(expect.dim) + ", m " + std::to_string(expect.m) + ")";
    return out;
  }
  const uint64_t payload = payload_size(h);
  if (payload == 0 && h.n_slots != 0) {
    out.problem = "header counts overflow";
    return out;
  }
  if (payload != h.payload_bytes || file_size != kHeaderBytes + payload + kFooterBytes) {
    out.problem = "torn or truncated (size " + std::to_string(file_size) + " bytes, header says " +
                  std::to_string(kHeaderBytes + h.payload_bytes + kFooterBytes) + ")";
    return out;
  }
  if (h.entry != VectorIndex::kNone && h.entry >= h.n_slots) {
    out.problem = "entry point out of range";
    return out;
  }

  auto ix = std::make_unique<VectorIndex>(expect);
  const size_t n = h.n_slots;
  ix->reserve(n);
  ix->n_slots_ = h.n_slots;
  bool ok = r.read(ix->labels_.data(), n * 8) && r.read(ix->attrs_.data(), n * sizeof(SlotAttrs)) &&
            r.read(ix->state_.data(), n) && r.skip_pad(n) && r.read(ix->levels_.data(), n) && r.skip_pad(n) &&
            r.read(ix->links0_.data(), n * (ix->m0() + 1) * 4) && r.skip_pad(n * (ix->m0() + 1) * 4);
  uint64_t upper_words = 0;
  for (uint32_t s = 0; ok && s < n; ++s) {
    const int level = ix->levels_[s];
    if (level == 0) continue;
    if (level > 30 || ix->state_[s] == VectorIndex::kFree) {
      out.problem = "bad level for slot " + std::to_string(s);
      return out;
    }
    const size_t words = size_t(level) * (expect.m + 1);
    upper_words += words;
    if (upper_words > h.upper_words) {
      out.problem = "upper-layer links exceed the header's count";
      return out;
    }
    ix->upper_[s] = std::make_unique<uint32_t[]>(words);
    ok = r.read(ix->upper_[s].get(), words * 4);
  }
  ok = ok && upper_words == h.upper_words && r.skip_pad(h.upper_words * 4) &&
       r.read(ix->vectors_.data(), n * size_t(expect.dim) * 4);
  uint8_t footer[kFooterBytes];
  if (!ok || std::fread(footer, 1, kFooterBytes, r.f) != kFooterBytes) {
    out.problem = "short read";
    return out;
  }
  if (get<uint64_t>(footer, 0) != r.sum.finish() || std::memcmp(footer + 8, kEndMagic, 8) != 0) {
    out.problem = "checksum mismatch (damaged file)";
    return out;
  }

  // Derived state, then the same invariants the tests assert, so a file that passes the
  // checksum but was written by something else still cannot make a search misbehave.
  for (uint32_t s = 0; s < n; ++s) {
    const uint8_t st = ix->state_[s];
    if (st > VectorIndex::kDeleted) {
      out.problem = "bad slot state";
      return out;
    }
    if (st == VectorIndex::kFree) {
      if (ix->links0_[size_t(s) * (ix->m0() + 1)] != 0) {
        out.problem = "free slot with links";
        return out;
      }
      ix->free_.push_back(s);
    } else if (st == VectorIndex::kLive) {
      ix->labels_map_.put(ix->labels_[s], s);
      ++ix->n_live_;
    } else {
      ++ix->n_deleted_;
    }
  }
  std::sort(ix->free_.begin(), ix->free_.end(), std::greater<>());
  ix->entry_ = h.entry;
  ix->max_level_ = h.max_level;
  if (ix->n_live_ != h.n_live || ix->n_deleted_ != h.n_deleted) {
    out.problem = "slot counts disagree with the header";
    return out;
  }
  if (std::string bad = ix->check_graph(); !bad.empty()) {
    out.problem = "inconsistent graph: " + bad;
    return out;
  }
  out.index = std::move(ix);
  return out;
}

}  // namespace xnai::rag::store
