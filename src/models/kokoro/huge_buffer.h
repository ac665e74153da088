// Private to models/kokoro: a growable float buffer on transparent huge pages where the
// kernel offers them (THP in madvise mode), for the convolutions' big per-call workspaces
// whose access strides of a few KiB would otherwise miss the TLB on nearly every access.
// Contents are undefined after a growth; the buffer is never shrunk.
#pragma once
#include <sys/mman.h>

#include <cstddef>
#include <cstdlib>
#include <new>

namespace xnai::models::kokoro {

class HugeBuffer {
 public:
  HugeBuffer() = default;
  HugeBuffer(const HugeBuffer&) = delete;
  HugeBuffer& operator=(const HugeBuffer&) = delete;
  ~HugeBuffer() { std::free(p_); }
  float* data() { return p_; }
  size_t size() const { return n_; }
  // At least n floats (rounded up to whole 2 MiB pages).
  void reserve(size_t n) {
    if (n <= n_) return;
    constexpr size_t kHuge = size_t{2} << 20;
    const size_t bytes = (n * sizeof(float) + kHuge - 1) / kHuge * kHuge;
    void* q = std::aligned_alloc(kHuge, bytes);
    if (!q) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
    madvise(q, bytes, MADV_HUGEPAGE);  // advice only: plain pages if refused
#endif
    std::free(p_);
    p_ = static_cast<float*>(q);
    n_ = bytes / sizeof(float);
  }

 private:
  float* p_ = nullptr;
  size_t n_ = 0;
};

}  // namespace xnai::models::kokoro
