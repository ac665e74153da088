// Just enough of the zip format to read a member of an Office Open XML file: the central
// directory, stored and deflated members (zlib), no zip64, no encryption.
#include <zlib.h>

#include <cstdint>
#include <cstring>

#include "core/error.h"
#include "rag/loaders/loader_internal.h"

namespace xnai::rag::detail {
namespace {

uint32_t u16(std::string_view s, size_t at) {
  return static_cast<uint32_t>(static_cast<uint8_t>(s[at])) |
         static_cast<uint32_t>(static_cast<uint8_t>(s[at + 1])) << 8;
}
uint32_t u32(std::string_view s, size_t at) { return u16(s, at) | u16(s, at + 2) << 16; }

[[noreturn]] void broken(const std::string& name, const std::string& why) {
  throw Error(ErrorKind::InvalidFormat, name + ": not a valid .docx (" + why + ")");
}

std::string inflate_raw(std::string_view in, size_t expected, size_t max_bytes, const std::string& name) {
  if (expected > max_bytes) broken(name, "a part is larger than " + std::to_string(max_bytes >> 20) + " MiB");
  std::string out(expected, '\0');
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK)
    throw Error(ErrorKind::Internal, name + ": zlib inflateInit2 failed");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int rc = inflate(&z, Z_FINISH);
  const size_t produced = out.size() - z.avail_out;
  // Z_BUF_ERROR with no output room left means the member is longer than it claims.
  char probe = 0;
  if (rc == Z_BUF_ERROR && z.avail_out == 0) {
    z.next_out = reinterpret_cast<Bytef*>(&probe);
    z.avail_out = 1;
    rc = inflate(&z, Z_FINISH);
    if (z.avail_out == 0) rc = Z_DATA_ERROR;
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END || produced != expected) broken(name, "corrupt compressed data");
  return out;
}

}  // namespace

std::optional<std::string> read_zip_member(std::string_view zip, std::string_view member, size_t max_bytes,
                                           const std::string& name) {
  // End of central directory: 22 bytes plus a comment of up to 65535 bytes at the end.
  constexpr size_t kEocd = 22;
  if (zip.size() < kEocd) broken(name, "too short for a zip archive");
  size_t eocd = std::string_view::npos;
  const size_t lowest = zip.size() > kEocd + 65535 ? zip.size() - kEocd - 65535 : 0;
  for (size_t at = zip.size() - kEocd + 1; at-- > lowest;)
    if (u32(zip, at) == 0x06054b50) {
      eocd = at;
      break;
    }
  if (eocd == std::string_view::npos) broken(name, "no zip central directory");
  const uint32_t n_entries = u16(zip, eocd + 10);
  const uint32_t cd_size = u32(zip, eocd + 12);
  const uint32_t cd_offset = u32(zip, eocd + 16);
  if (n_entries == 0xFFFF || cd_offset == 0xFFFFFFFF) broken(name, "zip64 archives are not supported");
  if (size_t{cd_offset} + cd_size > eocd) broken(name, "central directory out of range");

  size_t at = cd_offset;
  for (uint32_t i = 0; i < n_entries; ++i) {
    if (at + 46 > eocd || u32(zip, at) != 0x02014b50) broken(name, "bad central directory entry");
    const uint32_t flags = u16(zip, at + 8);
    const uint32_t method = u16(zip, at + 10);
    const uint32_t comp_size = u32(zip, at + 20);
    const uint32_t size = u32(zip, at + 24);
    const uint32_t name_len = u16(zip, at + 28);
    const uint32_t extra_len = u16(zip, at + 30);
    const uint32_t comment_len = u16(zip, at + 32);
    const uint32_t local = u32(zip, at + 42);
    if (at + 46 + name_len > eocd) broken(name, "bad central directory entry");
    const std::string_view entry_name = zip.substr(at + 46, name_len);
    at += 46 + size_t{name_len} + extra_len + comment_len;
    if (entry_name != member) continue;

    if (flags & 1) throw Error(ErrorKind::Unsupported, name + ": .docx is encrypted");
    if (size_t{local} + 30 > zip.size() || u32(zip, local) != 0x04034b50)
      broken(name, "bad local file header");
    const size_t data = size_t{local} + 30 + u16(zip, local + 26) + u16(zip, local + 28);
    if (data > zip.size() || comp_size > zip.size() - data) broken(name, "member data out of range");
    const std::string_view raw = zip.substr(data, comp_size);
    if (method == 0) {
      if (size != comp_size) broken(name, "stored member with inconsistent sizes");
      if (size > max_bytes) broken(name, "a part is larger than " + std::to_string(max_bytes >> 20) + " MiB");
      return std::string(raw);
    }
    if (method == 8) return inflate_raw(raw, size, max_bytes, name);
    throw Error(ErrorKind::Unsupported,
                name + ": zip compression method " + std::to_string(method) + " is not supported");
  }
  return std::nullopt;
}

}  // namespace xnai::rag::detail
