// An open-addressing hash map from int64 labels (chunk seq numbers) to uint32 slots of the
// vector index: 16 bytes per entry at <= 50% load, no per-entry allocation, deletion by
// backward shifting (no tombstones), so it stays compact under heavy churn.
//
// Thread-safety: find() may run concurrently with other find() calls; mutation needs
// exclusive access.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

namespace xnai::rag::store {

class LabelMap {
 public:
  size_t size() const { return size_; }

  std::optional<uint32_t> find(int64_t label) const {
    if (keys_.empty()) return std::nullopt;
    for (size_t i = home(label);; i = (i + 1) & mask_) {
      if (slots_[i] == kEmpty) return std::nullopt;
      if (keys_[i] == label) return slots_[i];
    }
  }

  // Inserts or overwrites.
  void put(int64_t label, uint32_t slot) {
    if ((size_ + 1) * 2 > keys_.size()) grow();
    for (size_t i = home(label);; i = (i + 1) & mask_) {
      if (slots_[i] == kEmpty) {
        keys_[i] = label;
        slots_[i] = slot;
        ++size_;
        return;
      }
      if (keys_[i] == label) {
        slots_[i] = slot;
        return;
      }
    }
  }

  bool erase(int64_t label) {
    if (keys_.empty()) return false;
    size_t i = home(label);
    for (;; i = (i + 1) & mask_) {
      if (slots_[i] == kEmpty) return false;
      if (keys_[i] == label) break;
    }
    // Backward-shift: move later members of the probe run into the hole when their home
    // position does not lie cyclically in (hole, j].
    size_t hole = i;
    for (size_t j = (i + 1) & mask_; slots_[j] != kEmpty; j = (j + 1) & mask_) {
      const size_t h = home(keys_[j]);
      const bool stays = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j);
      if (!stays) {
        keys_[hole] = keys_[j];
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    slots_[hole] = kEmpty;
    --size_;
    return true;
  }

  void clear() {
    keys_.clear();
    slots_.clear();
    size_ = 0;
    mask_ = 0;
  }

  void reserve(size_t n) {
    while (keys_.size() < n * 2) grow();
  }

 private:
  static constexpr uint32_t kEmpty = 0xffffffffu;

  size_t home(int64_t label) const {
    uint64_t x = uint64_t(label) * 0x9e3779b97f4a7c15ull;
    return size_t(x ^ (x >> 29)) & mask_;
  }

  void grow() {
    std::vector<int64_t> old_keys;
    std::vector<uint32_t> old_slots;
    old_keys.swap(keys_);
    old_slots.swap(slots_);
    const size_t cap = old_keys.empty() ? 64 : old_keys.size() * 2;
    keys_.assign(cap, 0);
    slots_.assign(cap, kEmpty);
    mask_ = cap - 1;
    size_ = 0;
    for (size_t i = 0; i < old_keys.size(); ++i)
      if (old_slots[i] != kEmpty) put(old_keys[i], old_slots[i]);
  }

  std::vector<int64_t> keys_;
  std::vector<uint32_t> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace xnai::rag::store
