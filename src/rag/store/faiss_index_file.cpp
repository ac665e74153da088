// FAISS serialization, as written by faiss/impl/index_write.cpp (little-endian, packed):
//   index      := fourcc(u32) header body
//   header     := d:i32 ntotal:i64 dummy:i64 dummy:i64 is_trained:u8 metric:i32 [metric_arg:f32 if metric >
//   1] flat body  := n:u64 then n floats (n = ntotal·d) idmap body := index (the wrapped one) then ids:
//   n:u64, n × i64 hnsw body  := HNSW then index (the storage, a flat index) HNSW       := assign_probas
//   (vector f64), cum_nneighbor_per_level (vector i32),
//                 levels (vector i32), offsets (vector u64), neighbors (vector i32),
//                 entry_point:i32 max_level:i32 efConstruction:i32 efSearch:i32 upper_beam:i32
//   vector<T>  := n:u64 then n × T
#include "rag/store/faiss_index_file.h"

#include <bit>
#include <cstring>

#include "core/error.h"
#include "core/mapped_file.h"

namespace xnai::rag {

static_assert(std::endian::native == std::endian::little, "FAISS files are read as little-endian");

namespace {

constexpr uint32_t fourcc(const char (&s)[5]) {
  return uint32_t(uint8_t(s[0])) | uint32_t(uint8_t(s[1])) << 8 | uint32_t(uint8_t(s[2])) << 16 |
         uint32_t(uint8_t(s[3])) << 24;
}

std::string fourcc_text(uint32_t h) {
  std::string s;
  for (int i = 0; i < 4; ++i) {
    const char c = char((h >> (8 * i)) & 0xff);
    s.push_back(c >= 32 && c < 127 ? c : '?');
  }
  return s;
}

class Cursor {
 public:
  Cursor(const uint8_t* p, size_t n, const std::string& path) : p_(p), n_(n), path_(path) {}

  template <class T>
  T get() {
    need(sizeof(T), "value");
    T v;
    std::memcpy(&v, p_ + off_, sizeof(T));
    off_ += sizeof(T);
    return v;
  }
  // A vector<T>'s count, checked against the bytes left.
  uint64_t count(size_t elem, const char* what) {
    const uint64_t n = get<uint64_t>();
    if (n > (n_ - off_) / elem)
      bad(std::string(what) + " claims " + std::to_string(n) + " elements, more than the file holds");
    return n;
  }
  void skip(size_t bytes, const char* what) {
    need(bytes, what);
    off_ += bytes;
  }
  const uint8_t* take(size_t bytes, const char* what) {
    need(bytes, what);
    const uint8_t* p = p_ + off_;
    off_ += bytes;
    return p;
  }
  size_t offset() const { return off_; }
  size_t left() const { return n_ - off_; }
  [[noreturn]] void bad(const std::string& msg) const {
    throw Error(ErrorKind::InvalidFormat,
                "FAISS index " + path_ + ": " + msg + " (at byte " + std::to_string(off_) + ")");
  }

 private:
  void need(size_t bytes, const char* what) {
    if (bytes > n_ - off_) bad(std::string("truncated while reading ") + what);
  }
  const uint8_t* p_;
  size_t n_;
  size_t off_ = 0;
  const std::string& path_;
};

struct Header {
  int32_t d = 0;
  int64_t ntotal = 0;
  int32_t metric = 1;
};

Header read_header(Cursor& c) {
  Header h;
  h.d = c.get<int32_t>();
  h.ntotal = c.get<int64_t>();
  c.get<int64_t>();  // two fields FAISS no longer uses
  c.get<int64_t>();
  c.get<uint8_t>();  // is_trained
  h.metric = c.get<int32_t>();
  if (h.metric > 1) c.get<float>();  // metric_arg
  if (h.d <= 0 || h.d > (1 << 16)) c.bad("dimension " + std::to_string(h.d) + " is out of range");
  if (h.ntotal < 0) c.bad("negative vector count");
  return h;
}

void set_metric(FaissIndexData& out, int32_t metric) {
  out.metric = metric == 0 ? FaissMetric::InnerProduct : metric == 1 ? FaissMetric::L2 : FaissMetric::Other;
}

void read_index(Cursor& c, FaissIndexData& out, int depth);

void read_flat(Cursor& c, FaissIndexData& out, const Header& h) {
  const uint64_t n = c.count(4, "flat vectors");
  if (n != uint64_t(h.ntotal) * uint64_t(h.d))
    c.bad("flat index holds " + std::to_string(n) +
          " floats, expected ntotal·d = " + std::to_string(uint64_t(h.ntotal) * uint64_t(h.d)));
  const uint8_t* p = c.take(n * 4, "flat vectors");
  out.vectors.resize(n);
  std::memcpy(out.vectors.data(), p, n * 4);
  out.dim = h.d;
  out.ids.resize(size_t(h.ntotal));
  for (int64_t i = 0; i < h.ntotal; ++i) out.ids[size_t(i)] = i;
}

// Validates and skips an HNSW graph; the storage index that follows holds the vectors.
void skip_hnsw(Cursor& c, const Header& h) {
  uint64_t n = c.count(8, "HNSW assign_probas");
  c.skip(n * 8, "HNSW assign_probas");
  n = c.count(4, "HNSW cum_nneighbor_per_level");
  c.skip(n * 4, "HNSW cum_nneighbor_per_level");
  n = c.count(4, "HNSW levels");
  if (n != uint64_t(h.ntotal))
    c.bad("HNSW has " + std::to_string(n) + " levels for " + std::to_string(h.ntotal) + " vectors");
  c.skip(n * 4, "HNSW levels");
  n = c.count(8, "HNSW offsets");
  if (n != uint64_t(h.ntotal) + 1) c.bad("HNSW offsets count " + std::to_string(n) + " is not ntotal + 1");
  c.skip(n * 8, "HNSW offsets");
  n = c.count(4, "HNSW neighbors");
  c.skip(n * 4, "HNSW neighbors");
  c.skip(5 * 4, "HNSW parameters");  // entry_point, max_level, efConstruction, efSearch, upper_beam
}

void read_index(Cursor& c, FaissIndexData& out, int depth) {
  if (depth > 8) c.bad("index nesting deeper than 8");
  const uint32_t h4 = c.get<uint32_t>();
  if (!out.type.empty()) out.type += "/";
  out.type += fourcc_text(h4);
  if (h4 == fourcc("IxFI") || h4 == fourcc("IxF2") || h4 == fourcc("IxFl")) {
    const Header h = read_header(c);
    read_flat(c, out, h);
    set_metric(out, h.metric);
    return;
  }
  if (h4 == fourcc("IxMp") || h4 == fourcc("IxM2")) {
    const Header h = read_header(c);
    read_index(c, out, depth + 1);
    if (out.dim != h.d || int64_t(out.ids.size()) != h.ntotal)
      c.bad("id map header (d " + std::to_string(h.d) + ", n " + std::to_string(h.ntotal) +
            ") disagrees with the wrapped index");
    const uint64_t n = c.count(8, "id map");
    if (n != uint64_t(h.ntotal))
      c.bad("id map holds " + std::to_string(n) + " ids for " + std::to_string(h.ntotal) + " vectors");
    const uint8_t* p = c.take(n * 8, "id map");
    std::memcpy(out.ids.data(), p, n * 8);
    set_metric(out, h.metric);
    return;
  }
  if (h4 == fourcc("IHNf")) {
    const Header h = read_header(c);
    skip_hnsw(c, h);
    read_index(c, out, depth + 1);
    if (out.dim != h.d || int64_t(out.ids.size()) != h.ntotal)
      c.bad("HNSW header disagrees with its storage");
    set_metric(out, h.metric);
    return;
  }
  if (h4 == fourcc("null")) c.bad("the index has no storage (written with IO_FLAG_SKIP_STORAGE)");
  throw Error(ErrorKind::Unsupported,
              "FAISS index type '" + fourcc_text(h4) +
                  "' is not supported (supported: IndexFlatIP/L2 'IxFI'/'IxF2'/'IxFl', "
                  "IndexIDMap/IDMap2 'IxMp'/'IxM2', IndexHNSWFlat 'IHNf')");
}

}  // namespace

FaissIndexData read_faiss_index(const std::string& path) {
  MappedFile file(path);
  Cursor c(file.data(), file.size(), path);
  FaissIndexData out;
  try {
    read_index(c, out, 0);
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::Unsupported) throw Error(ErrorKind::Unsupported, path + ": " + e.what());
    throw;
  }
  if (c.left() != 0) c.bad(std::to_string(c.left()) + " unexpected bytes after the index");
  return out;
}

}  // namespace xnai::rag
