// Hand-assembled GGUF bytes for tests. Written independently of GgufWriter so reader
// tests (and the writer's layout test) do not check our code against itself.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace xnai::test {

class GgufBytes {
 public:
  std::vector<uint8_t> bytes;

  GgufBytes& u8(uint8_t v) { return put(v); }
  GgufBytes& u32(uint32_t v) { return put(v); }
  GgufBytes& i32(int32_t v) { return put(v); }
  GgufBytes& u64(uint64_t v) { return put(v); }
  GgufBytes& i64(int64_t v) { return put(v); }
  GgufBytes& f32(float v) { return put(v); }
  GgufBytes& str(const std::string& s) {
    u64(s.size());
    bytes.insert(bytes.end(), s.begin(), s.end());
    return *this;
  }
  GgufBytes& raw(const std::string& s) {
    bytes.insert(bytes.end(), s.begin(), s.end());
    return *this;
  }
  GgufBytes& zeros(size_t n) {
    bytes.resize(bytes.size() + n, 0);
    return *this;
  }
  GgufBytes& pad(size_t a) {
    bytes.resize((bytes.size() + a - 1) / a * a, 0);
    return *this;
  }
  // "GGUF", version, n_tensors, n_kv
  GgufBytes& header(uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    return raw("GGUF").u32(version).u64(n_tensors).u64(n_kv);
  }
  // key + type 4 (u32) + value
  GgufBytes& kv_u32(const std::string& key, uint32_t v) { return str(key).u32(4).u32(v); }
  GgufBytes& kv_str(const std::string& key, const std::string& v) { return str(key).u32(8).str(v); }
  // name, n_dims, ne…, type id, offset
  GgufBytes& tensor(const std::string& name, std::vector<int64_t> ne, uint32_t type, uint64_t offset) {
    str(name).u32(static_cast<uint32_t>(ne.size()));
    for (int64_t d : ne) i64(d);
    return u32(type).u64(offset);
  }
  size_t size() const { return bytes.size(); }
  const uint8_t* data() const { return bytes.data(); }

 private:
  template <class T>
  GgufBytes& put(T v) {
    const size_t n = bytes.size();
    bytes.resize(n + sizeof v);
    std::memcpy(bytes.data() + n, &v, sizeof v);
    return *this;
  }
};

}  // namespace xnai::test
