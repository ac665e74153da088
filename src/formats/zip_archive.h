// Read-only view of a zip archive held in memory (a mapped file): the central directory,
// stored and deflated members, ZIP64 sizes and offsets. No encryption, no multi-disk.
// Used by the PyTorch checkpoint reader (torch.save writes a stored zip).
//
// Thread-safety: immutable after construction; read_member may run on many threads.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace xnai::zip {

struct Entry {
  std::string name;
  uint16_t method = 0;  // 0 = stored, 8 = deflated
  uint64_t compressed_size = 0;
  uint64_t size = 0;
  uint64_t data_offset = 0;  // of the member's bytes, computed from its local header
};

class Archive {
 public:
  // Parses the directory of `data[0, size)`; `name` (a path) prefixes every error message.
  // Throws Error(InvalidFormat) for anything that is not a readable zip.
  Archive(const uint8_t* data, size_t size, std::string name);

  const std::vector<Entry>& entries() const { return entries_; }
  const Entry* find(std::string_view member) const;

  // Bytes of a stored member, in place (no copy). Throws for a deflated member.
  const uint8_t* stored_bytes(const Entry& e) const;
  // Decompressed copy of any member; refuses members larger than max_bytes.
  std::vector<uint8_t> read(const Entry& e, uint64_t max_bytes) const;

  const std::string& name() const { return name_; }

 private:
  const uint8_t* data_;
  size_t size_;
  std::string name_;
  std::vector<Entry> entries_;
};

}  // namespace xnai::zip
