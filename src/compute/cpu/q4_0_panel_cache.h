// Private to compute/cpu: the CPU backend's repacked copies of Q4_0 weights (matmul.h's
// 16-row panels), made the first time each weight is multiplied.
//
// A repacked matrix replaces its mapped rows in memory: once a copy is made the file's pages
// of that range are handed back to the kernel (MADV_PAGEOUT keeps their contents, so a later
// reader such as an embedding lookup still works; it faults them in again). Peak RSS stays
// the file size plus one matrix rather than doubling as a load-time repack of every weight
// would. XNAI_Q4_0_PANELS=0 turns the layout off (to compare against the row kernels).
#pragma once
#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "core/thread_pool.h"

namespace xnai::cpu {

class Q4PanelCache {
 public:
  Q4PanelCache();
  ~Q4PanelCache();
  Q4PanelCache(const Q4PanelCache&) = delete;
  Q4PanelCache& operator=(const Q4PanelCache&) = delete;

  // The panels of the Q4_0 weight at w (N rows of K values), made on first use; null when
  // the layout does not apply (no AVX-512, N % 16 != 0, turned off, or out of memory).
  const void* panels_for(const void* w, int64_t K, int64_t N);

 private:
  bool enabled_;
  std::mutex mu_;
  std::unordered_map<const void*, void*> panels_;
};

}  // namespace xnai::cpu
