// Helpers for the hub tests: a temporary directory, scoped environment variables, small
// synthetic GGUF payloads written with our own GgufWriter, and a zip-looking checkpoint.
#pragma once
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "formats/gguf.h"

namespace xnai::test {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "xnai-hub-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Sets (or unsets, with nullopt) an environment variable for the scope.
class ScopedEnv {
 public:
  ScopedEnv(std::string name, std::optional<std::string> value) : name_(std::move(name)) {
    if (const char* old = std::getenv(name_.c_str())) old_ = old;
    if (value)
      ::setenv(name_.c_str(), value->c_str(), 1);
    else
      ::unsetenv(name_.c_str());
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_.c_str(), old_->c_str(), 1);
    else
      ::unsetenv(name_.c_str());
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

inline std::string read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void write_bytes(const std::filesystem::path& p, const std::string& bytes) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A GGUF file with general.architecture = arch, general.file_type = file_type, and one
// 2-D weight of `type` with rows × 256 values of seeded random bytes (plus one f32 norm).
inline std::string make_gguf(const std::string& arch, int file_type, DType type, int64_t rows,
                             uint32_t seed = 1, bool pooling = false) {
  gguf::GgufWriter w;
  w.set_string("general.architecture", arch);
  w.set_string("general.name", "synthetic " + arch);
  w.set_u32("general.file_type", static_cast<uint32_t>(file_type));
  w.set_u32(arch + ".block_count", 1);
  if (pooling) w.set_u32(arch + ".pooling_type", 2);
  const size_t nbytes = row_size(type, 256) * static_cast<size_t>(rows);
  std::vector<uint8_t> weight(nbytes);
  std::mt19937 rng(seed);
  for (auto& b : weight) b = static_cast<uint8_t>(rng());
  if (type == DType::F16 || type == DType::F32) std::fill(weight.begin(), weight.end(), 0);  // finite values
  std::vector<float> norm(256, 1.0f);
  w.add_tensor("blk.0.attn_q.weight", type, {256, rows}, weight.data());
  w.add_tensor("blk.0.attn_norm.weight", DType::F32, {256}, norm.data());
  char tmpl[] = "/tmp/xnai-gguf-XXXXXX";
  const int fd = ::mkstemp(tmpl);
  ::close(fd);
  w.write(tmpl);
  std::string bytes = read_bytes(tmpl);
  ::unlink(tmpl);
  return bytes;
}

// Bytes that start like a torch.save zip (enough for the content check; not loadable).
inline std::string make_zip_like(size_t n, uint32_t seed = 7) {
  std::string s = std::string("PK\x03\x04", 4);
  std::mt19937 rng(seed);
  while (s.size() < n) s += static_cast<char>(rng());
  return s;
}

}  // namespace xnai::test
