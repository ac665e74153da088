// Read-only memory mapping of a whole file. Weights are used in place from the mapping,
// never copied (DESIGN.md). Movable, not copyable; unmaps on destruction.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace xnai {

class MappedFile {
 public:
  // Throws Error(NotFound / Io) naming the path.
  explicit MappedFile(const std::string& path);
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

  // Asks the kernel to read the range ahead (large sequential model loads).
  void prefetch(size_t offset, size_t length) const;

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace xnai
