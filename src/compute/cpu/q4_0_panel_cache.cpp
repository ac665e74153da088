#include "compute/cpu/q4_0_panel_cache.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "compute/cpu/matmul.h"
#include "compute/cpu/quant.h"

namespace xnai::cpu {
namespace {

bool panels_enabled() {
  const char* v = std::getenv("XNAI_Q4_0_PANELS");
  return v == nullptr || std::strcmp(v, "0") != 0;
}

// Gives the whole pages inside [p, p + bytes) back; their contents stay readable.
void page_out(const void* p, size_t bytes) {
#ifdef MADV_PAGEOUT
  const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const auto begin = (reinterpret_cast<uintptr_t>(p) + page - 1) / page * page;
  const auto end = (reinterpret_cast<uintptr_t>(p) + bytes) / page * page;
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_PAGEOUT);  // advice only
#else
  (void)p, (void)bytes;
#endif
}

}  // namespace

Q4PanelCache::Q4PanelCache() : enabled_(panels_enabled()) {}

Q4PanelCache::~Q4PanelCache() {
  for (auto& [w, panels] : panels_) std::free(panels);
}

const void* Q4PanelCache::panels_for(const void* w, int64_t K, int64_t N) {
  if (!enabled_ || !q4_0_panels_supported(K, N)) return nullptr;
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = panels_.find(w); it != panels_.end()) return it->second;
  const size_t bytes = row_size(DType::Q4_0, K) * static_cast<size_t>(N);
  void* panels = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
  if (panels == nullptr) return nullptr;  // the row kernels still work
  repack_q4_0_panels(w, K, N, panels);
  page_out(w, bytes);
  panels_.emplace(w, panels);
  return panels;
}

}  // namespace xnai::cpu
