// matmul(): activation conversion, work split over the pool and the choice between the
// row kernels (decode) and the packed tile kernels (prefill).
#include "compute/cpu/matmul.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include "compute/cpu/kernel_table.h"
#include "compute/cpu/matmul_kernels.h"
#include "compute/cpu/q4_0_r16.h"
#include "compute/cpu/quant.h"
#include "core/error.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define XNAI_SPIN_PAUSE() _mm_pause()
#else
#define XNAI_SPIN_PAUSE() ((void)0)
#endif

namespace xnai::cpu {
namespace {

constexpr size_t kAlign = 64;
constexpr int64_t kGemmMinColumns = 2;  // without a row kernel, the tiles win from here on
constexpr int64_t kRowChunk = 32;       // rows per work item of the row path

size_t align_up(size_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

// All threads of one pool job meet here; the last one to arrive releases the others.
class SpinBarrier {
 public:
  explicit SpinBarrier(int n) : n_(n) {}
  void wait() {
    const int gen = generation_.load(std::memory_order_acquire);
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) == n_ - 1) {
      arrived_.store(0, std::memory_order_relaxed);
      generation_.fetch_add(1, std::memory_order_release);
      return;
    }
    // Spin (the other threads are microseconds away), but yield if one was descheduled.
    for (int spins = 0; generation_.load(std::memory_order_acquire) == gen; ++spins) {
      if (spins < 20000)
        XNAI_SPIN_PAUSE();
      else
        std::this_thread::yield();
    }
  }

 private:
  const int n_;
  std::atomic<int> arrived_{0};
  std::atomic<int> generation_{0};
};

// Work items [0, n) split into one contiguous range per thread. next(t) hands out thread
// t's own items front to back; a thread whose range is empty takes items from the back of
// the others' ranges, so each owner keeps streaming through memory in order. A range is
// one atomic word holding (front, back), so an item is handed out exactly once. Threads
// beyond kMaxRanges share the last range.
class RangeCursors {
 public:
  RangeCursors(int nth, int64_t n) : ranges_(std::min(nth, kMaxRanges)) {
    for (int r = 0; r < ranges_; ++r) {
      const auto [b, e] = ThreadPool::split(n, r, ranges_);
      range_[r].v.store(pack(b, e), std::memory_order_relaxed);
    }
  }
  int64_t next(int ith) {
    const int own = std::min(ith, ranges_ - 1);
    for (int k = 0; k < ranges_; ++k) {
      const int r = (own + k) % ranges_;
      uint64_t cur = range_[r].v.load(std::memory_order_relaxed);
      for (;;) {
        const int64_t front = static_cast<int64_t>(cur >> 32), back = static_cast<int64_t>(cur & 0xffffffffu);
        if (front >= back) break;
        const uint64_t want = k == 0 ? pack(front + 1, back) : pack(front, back - 1);
        if (range_[r].v.compare_exchange_weak(cur, want, std::memory_order_relaxed))
          return k == 0 ? front : back - 1;
      }
    }
    return -1;
  }

 private:
  static constexpr int kMaxRanges = 64;
  static uint64_t pack(int64_t front, int64_t back) {
    return (static_cast<uint64_t>(front) << 32) | static_cast<uint64_t>(back);
  }
  struct alignas(64) Range {
    std::atomic<uint64_t> v{0};
  };
  const int ranges_;
  Range range_[kMaxRanges];
};

// Fallback row kernel: one vec_dot per (row, column), all columns of a row while it is in L1.
void gemv_generic(const TypeKernels& k, int64_t K, const uint8_t* w, size_t w_stride, int64_t nr,
                  const uint8_t* act, size_t act_stride, int64_t nc, float* y, int64_t ldy) {
  for (int64_t r = 0; r < nr; ++r)
    for (int64_t c = 0; c < nc; ++c) k.vec_dot(K, y + c * ldy + r, w + r * w_stride, act + c * act_stride);
}

// Portable repacked-Q4_0 order (no SIMD level has been chosen): one scalar chain per output.
void gemv_blocks(int64_t K, const uint8_t* w, size_t w_stride, int64_t nr, const uint8_t* act,
                 size_t act_stride, int64_t nc, float* y, int64_t ldy) {
  for (int64_t c = 0; c < nc; ++c)
    for (int64_t r = 0; r < nr; ++r)
      y[c * ldy + r] = detail::q4_0_dot_blocks(K, w + r * w_stride, act + c * act_stride);
}

}  // namespace

namespace detail {

MatmulKernels matmul_kernels(DType wtype, SimdLevel level) {
  MatmulKernels out;
  if (level >= SimdLevel::Avx2) out = matmul_kernels_avx2(wtype);
  if (level >= SimdLevel::Avx512) {
    const MatmulKernels wide = matmul_kernels_avx512(wtype);
    if (wide.gemv) out.gemv = wide.gemv;
    if (wide.gemm) out.gemm = wide.gemm;
  }
  return out;
}

}  // namespace detail

namespace {

// forced: a row kernel for a repacked layout (every column count goes through it).
void matmul_impl(ThreadPool& pool, DType wtype, const void* w, int64_t K, int64_t N, const float* x, int64_t M,
                 float* y, std::vector<uint8_t>& scratch, const detail::GemvKernel* forced,
                 const detail::GemmKernel* forced_gemm = nullptr) {
  const SimdLevel level = simd_level();
  const TypeKernels& k = kernels(wtype, level);
  if (k.vec_dot == nullptr)
    throw Error(ErrorKind::Unsupported,
                std::string("tensor type ") + dtype_name(wtype) + " cannot be a matmul weight");
  const size_t w_stride = row_size(wtype, K);  // throws InvalidArgument on a partial block
  if (N <= 0 || M <= 0) return;
  const detail::MatmulKernels mk = detail::matmul_kernels(wtype, level);
  const int nth = std::max(1, std::min<int>(pool.size(), static_cast<int>(std::max(N, M))));

  const uint8_t* wb = static_cast<const uint8_t*>(w);
  // llama.cpp repacks Q4_0 matrices with a row count divisible by 8 and then sums each output
  // in block order, at any batch size; everything else follows its vec_dot lane order
  // (ggml_order.h). Each path here reproduces the matching order.
  const bool q4_0_blocks = wtype == DType::Q4_0 && N % 8 == 0;
  const detail::GemmKernel* gemm = forced_gemm ? forced_gemm
                                   : forced || (wtype == DType::Q4_0 && !q4_0_blocks) ? nullptr
                                                                                       : mk.gemm;
  const detail::GemvKernel* gemv =
      forced_gemm ? nullptr
      : forced    ? forced
      : (wtype == DType::Q4_0 && !q4_0_blocks) || (mk.gemv && K % mk.gemv->k_multiple != 0) ? nullptr
                                                                                             : mk.gemv;
  // A row kernel that shares its weight unpacking between columns (AVX-512 Q4_0) wins over
  // the tiles for the few columns of a batched decode step (measured: bench llm --sequences).
  const int64_t gemm_min_columns = forced_gemm ? 1 : gemv ? gemv->max_columns + 1 : q4_0_blocks ? 1 : kGemmMinColumns;
  const bool use_gemm = gemm != nullptr && M >= gemm_min_columns;
  const bool use_gemv = !use_gemm && gemv != nullptr;
  const DType act_type = k.vec_dot_type;
  const TypeKernels& act_k = kernels(act_type, level);
  const bool act_in_place = !use_gemm && !use_gemv && act_type == DType::F32;
  const size_t act_stride = use_gemm   ? align_up(gemm->act_bytes(K))
                            : use_gemv ? align_up(gemv->act_bytes(K))
                                       : row_size(act_type, K);
  const size_t act_bytes = act_in_place ? 0 : align_up(act_stride * static_cast<size_t>(M));
  const size_t panel_bytes = use_gemm ? align_up(gemm->panel_bytes(K)) : 0;
  const size_t need = act_bytes + panel_bytes * static_cast<size_t>(pool.size()) + kAlign;
  if (scratch.size() < need) scratch.resize(need);
  uint8_t* base = scratch.data();
  base += (kAlign - reinterpret_cast<uintptr_t>(base) % kAlign) % kAlign;
  uint8_t* act = act_in_place ? const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(x)) : base;
  uint8_t* panels = base + act_bytes;

  // Quantization split: whole columns when there are enough, else block ranges of each column.
  const int64_t block = info(act_type).block_size;
  const int64_t unit = std::max<int64_t>(block, 64);  // values per split unit (whole blocks, ≥ a cache line)
  const int64_t units = (K + unit - 1) / unit;

  SpinBarrier barrier(nth);
  std::atomic<int64_t> next_item{0};

  const int64_t n_panels = use_gemm ? (N + gemm->rows - 1) / gemm->rows : 0;
  // Row path: thread t owns the contiguous range t of the rows and walks it in order, so
  // its weights arrive as one stream the hardware prefetchers follow (interleaving small
  // chunks between threads measured ~25% slower from DRAM). A thread that finishes early
  // then takes chunks from the others' ranges.
  const int64_t n_chunks = (N + kRowChunk - 1) / kRowChunk;
  RangeCursors cursors(nth, n_chunks);

  auto job = [&](int ith, int pool_nth) {
    if (ith >= nth) return;
    (void)pool_nth;
    // Phase 1: activations.
    if (!act_in_place) {
      if (use_gemm) {
        for (int64_t c = ith; c < M; c += nth) gemm->pack_act(x + c * K, K, act + c * act_stride);
      } else if (use_gemv) {
        const int64_t gu = (K + gemv->act_unit - 1) / gemv->act_unit;
        const auto [u0, u1] = ThreadPool::split(gu, ith, nth);
        for (int64_t c = 0; c < M && u0 < u1; ++c) gemv->pack_act(x + c * K, K, u0, u1, act + c * act_stride);
      } else if (M >= nth) {
        for (int64_t c = ith; c < M; c += nth) act_k.from_float(x + c * K, act + c * act_stride, K);
      } else {
        const auto [u0, u1] = ThreadPool::split(units, ith, nth);
        const int64_t v0 = u0 * unit, v1 = std::min(K, u1 * unit);
        if (v0 < v1) {
          const size_t off = row_size(act_type, v0);
          for (int64_t c = 0; c < M; ++c)
            act_k.from_float(x + c * K + v0, act + c * act_stride + off, v1 - v0);
        }
      }
      barrier.wait();
    }
    // Phase 2: rows, handed out in chunks so a thread slowed by a neighbour takes fewer.
    if (use_gemm) {
      const detail::GemmKernel& g = *gemm;
      uint8_t* panel = panels + panel_bytes * static_cast<size_t>(ith);
      // Work item = (panel, slice of column tiles). Slices only when there are too few
      // panels to keep every thread busy; a thread packs a panel once per item it takes.
      const int64_t tiles = (M + g.cols - 1) / g.cols;
      const int64_t slices = n_panels >= 2 * nth ? 1 : std::min(tiles, (2 * nth + n_panels - 1) / n_panels);
      int64_t packed = -1;
      for (int64_t item = next_item.fetch_add(1, std::memory_order_relaxed); item < n_panels * slices;
           item = next_item.fetch_add(1, std::memory_order_relaxed)) {
        const int64_t p = item / slices;
        const auto [t0, t1] =
            ThreadPool::split(tiles, static_cast<int>(item % slices), static_cast<int>(slices));
        const int64_t r0 = p * g.rows;
        const int nr = static_cast<int>(std::min<int64_t>(g.rows, N - r0));
        if (packed != p) g.pack_panel(K, wb + r0 * w_stride, w_stride, nr, panel);
        packed = p;
        for (int64_t c0 = t0 * g.cols; c0 < std::min(M, t1 * g.cols); c0 += g.cols) {
          const int nc = static_cast<int>(std::min<int64_t>(g.cols, M - c0));
          g.tile(K, panel, act + c0 * act_stride, act_stride, nc, y + c0 * N + r0, N, nr);
        }
      }
    } else {
      for (int64_t item = cursors.next(ith); item >= 0; item = cursors.next(ith)) {
        const int64_t r0 = item * kRowChunk;
        const int64_t nr = std::min(kRowChunk, N - r0);
        if (use_gemv)
          gemv->run(K, wb + r0 * w_stride, w_stride, nr, act, act_stride, M, y + r0, N);
        else if (q4_0_blocks)
          gemv_blocks(K, wb + r0 * w_stride, w_stride, nr, act, act_stride, M, y + r0, N);
        else
          gemv_generic(k, K, wb + r0 * w_stride, w_stride, nr, act, act_stride, M, y + r0, N);
      }
    }
  };
  // A single pointer capture fits std::function's inline storage: the token loop allocates nothing.
  pool.run([p = &job](int ith, int pool_nth) { (*p)(ith, pool_nth); });
}

}  // namespace

void matmul(ThreadPool& pool, DType wtype, const void* w, int64_t K, int64_t N, const float* x, int64_t M,
            float* y, std::vector<uint8_t>& scratch) {
  matmul_impl(pool, wtype, w, K, N, x, M, y, scratch, nullptr);
}

bool matmul_f16_unrounded(ThreadPool& pool, const void* w, int64_t K, int64_t N, const float* x, int64_t M,
                          float* y, std::vector<uint8_t>& scratch) {
  const SimdLevel level = simd_level();
  const detail::GemmKernel* g = level >= SimdLevel::Avx512 ? detail::f16_unrounded_gemm_avx512()
                                : level >= SimdLevel::Avx2 ? detail::f16_unrounded_gemm_avx2()
                                                           : nullptr;
  if (g == nullptr) return false;
  matmul_impl(pool, DType::F16, w, K, N, x, M, y, scratch, nullptr, g);
  return true;
}

bool q4_0_panels_supported(int64_t K, int64_t N) {
  return simd_level() >= SimdLevel::Avx512 && N > 0 && N % detail::kQ4R16Rows == 0 && K > 0 && K % 32 == 0;
}

void repack_q4_0_panels(const void* w, int64_t K, int64_t N, void* out) {
  if (N % detail::kQ4R16Rows != 0 || K % 32 != 0)
    throw Error(ErrorKind::InvalidArgument, "repack_q4_0_panels: needs K % 32 == 0 and N % 16 == 0, got K " +
                                                std::to_string(K) + ", N " + std::to_string(N));
  detail::repack_q4_0_r16(static_cast<const uint8_t*>(w), K, N, static_cast<uint8_t*>(out));
}

void matmul_q4_0_panels(ThreadPool& pool, const void* panels, int64_t K, int64_t N, const float* x, int64_t M,
                        float* y, std::vector<uint8_t>& scratch) {
  if (!q4_0_panels_supported(K, N))
    throw Error(ErrorKind::Unsupported, "matmul_q4_0_panels: needs AVX-512 and N % 16 == 0");
  matmul_impl(pool, DType::Q4_0, panels, K, N, x, M, y, scratch, detail::q4_0_r16_kernel_avx512());
}

}  // namespace xnai::cpu
