// Builders for hand-made torch.save files in tests: a zip writer (stored or deflated
// members) and a tiny pickle assembler for the opcodes torch.save emits.
#pragma once
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace xnai::test {

inline void put_le(std::string& s, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// members: (name, bytes); compress = compress every member with raw deflate.
inline std::string build_zip(const std::vector<std::pair<std::string, std::string>>& members, bool compress) {
  std::string out, cd;
  for (const auto& [name, data] : members) {
    std::string body = data;
    uint16_t method = 0;
    if (compress) {
      z_stream z{};
      deflateInit2(&z, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
      body.assign(deflateBound(&z, data.size()) + 16, '\0');
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
      z.avail_in = static_cast<uInt>(data.size());
      z.next_out = reinterpret_cast<Bytef*>(body.data());
      z.avail_out = static_cast<uInt>(body.size());
      ::deflate(&z, Z_FINISH);
      body.resize(body.size() - z.avail_out);
      deflateEnd(&z);
      method = 8;
    }
    const uint32_t crc =
        crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size()));
    const uint64_t local = out.size();
    put_le(out, 0x04034b50, 4);
    put_le(out, 20, 2);
    put_le(out, 0, 2);
    put_le(out, method, 2);
    put_le(out, 0, 4);
    put_le(out, crc, 4);
    put_le(out, body.size(), 4);
    put_le(out, data.size(), 4);
    put_le(out, name.size(), 2);
    put_le(out, 3, 2);  // 3 bytes of extra padding, like torch's alignment
    out += name;
    out += std::string(3, '\0');
    out += body;
    put_le(cd, 0x02014b50, 4);
    put_le(cd, 20, 2);
    put_le(cd, 20, 2);
    put_le(cd, 0, 2);
    put_le(cd, method, 2);
    put_le(cd, 0, 4);
    put_le(cd, crc, 4);
    put_le(cd, body.size(), 4);
    put_le(cd, data.size(), 4);
    put_le(cd, name.size(), 2);
    put_le(cd, 0, 2);
    put_le(cd, 0, 2);
    put_le(cd, 0, 2);
    put_le(cd, 0, 2);
    put_le(cd, 0, 4);
    put_le(cd, local, 4);
    cd += name;
  }
  const uint64_t cd_offset = out.size();
  out += cd;
  put_le(out, 0x06054b50, 4);
  put_le(out, 0, 2);
  put_le(out, 0, 2);
  put_le(out, members.size(), 2);
  put_le(out, members.size(), 2);
  put_le(out, cd.size(), 4);
  put_le(out, cd_offset, 4);
  put_le(out, 0, 2);
  return out;
}

// Pickle assembler (protocol 2 subset).
struct Pickler {
  std::string s = "\x80\x02";
  Pickler& op(char c) {
    s.push_back(c);
    return *this;
  }
  Pickler& raw(const std::string& r) {
    s += r;
    return *this;
  }
  Pickler& str(const std::string& v) {
    s.push_back('X');
    put_le(s, v.size(), 4);
    s += v;
    return *this;
  }
  Pickler& integer(uint32_t v) {
    s.push_back('J');
    put_le(s, v, 4);
    return *this;
  }
  Pickler& global(const std::string& module, const std::string& name) {
    s += "c" + module + "\n" + name + "\n";
    return *this;
  }
  Pickler& ints(const std::vector<uint32_t>& v) {
    op('(');
    for (auto x : v) integer(x);
    return op('t');
  }
  // _rebuild_tensor_v2((storage,...), offset, size, stride, False, OrderedDict())
  Pickler& tensor(const std::string& storage_type, const std::string& key, uint32_t numel, uint32_t offset,
                  const std::vector<uint32_t>& size, const std::vector<uint32_t>& stride) {
    global("torch._utils", "_rebuild_tensor_v2");
    op('(');
    op('(').str("storage").global("torch", storage_type).str(key).str("cpu").integer(numel).op('t').op('Q');
    integer(offset).ints(size).ints(stride).op('\x89');
    global("collections", "OrderedDict").op(')').op('R');
    return op('t').op('R');
  }
  std::string done() { return s + "."; }
};

inline std::string f32_bytes(const std::vector<float>& v) {
  std::string s(v.size() * 4, '\0');
  std::memcpy(s.data(), v.data(), s.size());
  return s;
}

}  // namespace xnai::test
