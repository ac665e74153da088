#include "formats/zip_archive.h"

#include <zlib.h>

#include <limits>

#include "core/error.h"

namespace xnai::zip {
namespace {

constexpr uint32_t kLocalSig = 0x04034b50;
constexpr uint32_t kCentralSig = 0x02014b50;
constexpr uint32_t kEocdSig = 0x06054b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr uint32_t kZip64EocdSig = 0x06064b50;

uint64_t le(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

}  // namespace

Archive::Archive(const uint8_t* data, size_t size, std::string name)
    : data_(data), size_(size), name_(std::move(name)) {
  auto broken = [&](const std::string& why) -> Error {
    return Error(ErrorKind::InvalidFormat, name_ + ": not a zip archive (" + why + ")");
  };
  auto need = [&](uint64_t at, uint64_t n, const char* what) {
    if (at > size_ || n > size_ - at) throw broken(std::string(what) + " out of range");
  };
  constexpr size_t kEocd = 22;
  if (size_ < kEocd) throw broken("too short");
  size_t eocd = std::numeric_limits<size_t>::max();
  const size_t lowest = size_ > kEocd + 65535 ? size_ - kEocd - 65535 : 0;
  for (size_t at = size_ - kEocd + 1; at-- > lowest;)
    if (le(data_ + at, 4) == kEocdSig) {
      eocd = at;
      break;
    }
  if (eocd == std::numeric_limits<size_t>::max()) throw broken("no end of central directory record");
  uint64_t n_entries = le(data_ + eocd + 10, 2);
  uint64_t cd_size = le(data_ + eocd + 12, 4);
  uint64_t cd_offset = le(data_ + eocd + 16, 4);
  if (n_entries == 0xFFFF || cd_size == 0xFFFFFFFF || cd_offset == 0xFFFFFFFF) {
    // ZIP64: a locator right before the classic record points at the 64-bit record.
    if (eocd < 20 || le(data_ + eocd - 20, 4) != kZip64LocatorSig) throw broken("missing ZIP64 locator");
    const uint64_t rec = le(data_ + eocd - 20 + 8, 8);
    need(rec, 56, "ZIP64 end of central directory");
    if (le(data_ + rec, 4) != kZip64EocdSig) throw broken("bad ZIP64 end of central directory");
    n_entries = le(data_ + rec + 32, 8);
    cd_size = le(data_ + rec + 40, 8);
    cd_offset = le(data_ + rec + 48, 8);
  }
  need(cd_offset, cd_size, "central directory");
  if (n_entries > cd_size / 46) throw broken("entry count larger than the central directory");
  entries_.reserve(n_entries);
  uint64_t at = cd_offset;
  const uint64_t cd_end = cd_offset + cd_size;
  for (uint64_t i = 0; i < n_entries; ++i) {
    if (at + 46 > cd_end || le(data_ + at, 4) != kCentralSig) throw broken("bad central directory entry");
    const uint8_t* c = data_ + at;
    Entry e;
    const uint32_t flags = le(c + 8, 2);
    e.method = le(c + 10, 2);
    e.compressed_size = le(c + 20, 4);
    e.size = le(c + 24, 4);
    const uint64_t name_len = le(c + 28, 2), extra_len = le(c + 30, 2), comment_len = le(c + 32, 2);
    uint64_t local = le(c + 42, 4);
    if (at + 46 + name_len + extra_len + comment_len > cd_end)
      throw broken("central directory entry out of range");
    e.name.assign(reinterpret_cast<const char*>(c + 46), name_len);
    // ZIP64 extended information: 8-byte values for the fields that hold 0xFFFFFFFF, in order.
    for (uint64_t x = 0; x + 4 <= extra_len;) {
      const uint8_t* f = c + 46 + name_len + x;
      const uint64_t id = le(f, 2), len = le(f + 2, 2);
      if (x + 4 + len > extra_len) break;
      if (id == 0x0001) {
        uint64_t k = 0;
        auto take = [&](uint64_t& field) {
          if (field != 0xFFFFFFFF) return;
          if (k + 8 > len) throw broken("short ZIP64 extra field in " + e.name);
          field = le(f + 4 + k, 8);
          k += 8;
        };
        take(e.size);
        take(e.compressed_size);
        take(local);
      }
      x += 4 + len;
    }
    if (flags & 1) throw Error(ErrorKind::Unsupported, name_ + ": encrypted zip member " + e.name);
    need(local, 30, "local header");
    if (le(data_ + local, 4) != kLocalSig) throw broken("bad local header of " + e.name);
    // The local extra field differs from the central one (torch pads it to align data).
    const uint64_t data_at = local + 30 + le(data_ + local + 26, 2) + le(data_ + local + 28, 2);
    need(data_at, e.compressed_size, ("data of member " + e.name).c_str());
    e.data_offset = data_at;
    entries_.push_back(std::move(e));
    at += 46 + name_len + extra_len + comment_len;
  }
}

const Entry* Archive::find(std::string_view member) const {
  for (const auto& e : entries_)
    if (e.name == member) return &e;
  return nullptr;
}

const uint8_t* Archive::stored_bytes(const Entry& e) const {
  if (e.method != 0)
    throw Error(ErrorKind::Internal, name_ + ": member " + e.name + " is compressed, not stored");
  if (e.size != e.compressed_size)
    throw Error(ErrorKind::InvalidFormat, name_ + ": stored member " + e.name + " has inconsistent sizes");
  return data_ + e.data_offset;
}

std::vector<uint8_t> Archive::read(const Entry& e, uint64_t max_bytes) const {
  if (e.size > max_bytes)
    throw Error(ErrorKind::InvalidFormat, name_ + ": member " + e.name + " is implausibly large (" +
                                              std::to_string(e.size) + " bytes)");
  if (e.method == 0) {
    const uint8_t* p = stored_bytes(e);
    return std::vector<uint8_t>(p, p + e.size);
  }
  if (e.method != 8)
    throw Error(ErrorKind::Unsupported, name_ + ": member " + e.name + " uses zip compression method " +
                                            std::to_string(e.method) + " (only stored and deflate)");
  // Deflate expands at most ~1032:1; a larger claim is a corrupt directory, and believing it
  // would allocate gigabytes before inflate notices.
  if (e.size / 1032 > e.compressed_size + 1)
    throw Error(ErrorKind::InvalidFormat, name_ + ": member " + e.name + " claims " + std::to_string(e.size) +
                                              " bytes from " + std::to_string(e.compressed_size) +
                                              " compressed");
  std::vector<uint8_t> out(e.size);
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK)
    throw Error(ErrorKind::Internal, name_ + ": zlib inflateInit2 failed");
  const uint8_t* in = data_ + e.data_offset;
  uint64_t in_left = e.compressed_size, out_done = 0;
  int rc = Z_OK;
  while (rc == Z_OK) {
    const uInt in_chunk = static_cast<uInt>(std::min<uint64_t>(in_left, 1u << 30));
    const uInt out_chunk = static_cast<uInt>(std::min<uint64_t>(out.size() - out_done, 1u << 30));
    z.next_in = const_cast<Bytef*>(in);
    z.avail_in = in_chunk;
    uint8_t probe = 0;
    z.next_out = out_chunk ? out.data() + out_done : &probe;
    z.avail_out = out_chunk ? out_chunk : 1;
    rc = inflate(&z, Z_NO_FLUSH);
    in += in_chunk - z.avail_in;
    in_left -= in_chunk - z.avail_in;
    if (out_chunk) {
      out_done += out_chunk - z.avail_out;
    } else if (z.avail_out == 0) {
      rc = Z_DATA_ERROR;  // more output than the directory promised
    }
    if (rc == Z_OK && in_chunk == z.avail_in && (out_chunk == 0 || out_chunk == z.avail_out))
      rc = Z_BUF_ERROR;
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END || out_done != e.size)
    throw Error(ErrorKind::InvalidFormat, name_ + ": corrupt compressed data in member " + e.name);
  return out;
}

}  // namespace xnai::zip
