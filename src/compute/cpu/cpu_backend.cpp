// The CPU backend: the reference implementation of compute/backend.h. Every op runs at
// once on the calling thread plus the pool's workers; weights are used in place. Op
// kernels live in cpu_ops_*.cpp, the weight matmul in matmul.h.
//
// Thread-safety: one thread drives a backend at a time (ops share the pool and scratch).
#include <algorithm>
#include <cmath>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "compute/backend.h"
#include "compute/cpu/cpu_ops.h"
#include "compute/cpu/cpu_vec.h"
#include "compute/cpu/matmul.h"
#include "compute/cpu/q4_0_panel_cache.h"
#include "compute/cpu/quant.h"
#include "core/error.h"
#include "core/thread_pool.h"

namespace xnai::compute {
namespace {

namespace cpu = ::xnai::cpu;

std::string shape_str(const Tensor& t) {
  return "[" + std::to_string(t.ne[0]) + ", " + std::to_string(t.ne[1]) + ", " + std::to_string(t.ne[2]) +
         ", " + std::to_string(t.ne[3]) + "]";
}

// Op contract violations are engine bugs, never user input: Error(Internal) with the shapes.
// The message is only built on failure, so checks cost no allocation in the token loop.
template <class Msg>
void require(bool ok, const char* op, const Msg& what) {
  if (!ok) throw Error(ErrorKind::Internal, std::string("cpu backend: ") + op + ": " + what());
}

void require_type(const Tensor& t, DType type, const char* op, const char* arg) {
  require(t.type == type, op, [&] {
    return std::string(arg) + " '" + t.name + "' must be " + dtype_name(type) + ", got " + dtype_name(t.type);
  });
  require(t.data != nullptr, op, [&] { return std::string(arg) + " '" + t.name + "' has no host data"; });
}

bool has_data(const Tensor& t) { return t.data != nullptr || t.buffer != 0; }

// Element-wise work below this size runs on the calling thread: waking the pool costs
// more than the op at decode sizes.
constexpr int64_t kMinParallelElems = 16384;

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(const BackendOptions& opts)
      : pool_(opts.n_threads > 0 ? opts.n_threads : default_thread_count()),
        round_f16_activations_(opts.round_f16_activations),
        fast_float_matmul_(opts.fast_float_matmul) {}

  ~CpuBackend() override {
    for (auto& [ptr, bytes] : owned_) std::free(ptr);
  }

  std::string name() const override { return "cpu (" + std::to_string(pool_.size()) + " threads)"; }

  // --- memory ---
  Tensor weight(const void* host, DType type, std::array<int64_t, 4> ne, const std::string& name) override {
    Tensor t = make(type, ne, name);
    if (host == nullptr && t.nbytes() > 0)
      throw Error(ErrorKind::InvalidArgument, "cpu backend: weight '" + name + "' has no data");
    t.data = const_cast<void*>(host);  // weights are never written through this pointer
    return t;
  }

  Tensor alloc(DType type, std::array<int64_t, 4> ne, const std::string& name) override {
    Tensor t = make(type, ne, name);
    const size_t bytes = (std::max<size_t>(t.nbytes(), 1) + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, bytes);
    if (!p)
      throw Error(ErrorKind::Io, "cpu backend: out of memory allocating " + std::to_string(bytes) +
                                     " bytes for '" + name + "'");
    std::memset(p, 0, bytes);
    {
      std::lock_guard<std::mutex> lock(mem_mu_);
      owned_.emplace(p, bytes);
    }
    t.data = p;
    return t;
  }

  void release(Tensor& t) override {
    if (t.data) {
      std::lock_guard<std::mutex> lock(mem_mu_);
      if (auto it = owned_.find(t.data); it != owned_.end()) {
        std::free(it->first);
        owned_.erase(it);
      }
    }
    t.data = nullptr;
  }

  void upload(Tensor& dst, const void* src, size_t bytes, size_t dst_offset) override {
    require(dst.data && dst_offset + bytes <= dst.nbytes(), "upload", [&] {
      return "'" + dst.name + "': " + std::to_string(bytes) + " bytes at offset " +
             std::to_string(dst_offset) + " exceed its " + std::to_string(dst.nbytes());
    });
    std::memcpy(static_cast<uint8_t*>(dst.data) + dst_offset, src, bytes);
  }

  void download(const Tensor& src, void* dst, size_t bytes, size_t src_offset) override {
    require(src.data && src_offset + bytes <= src.nbytes(), "download", [&] {
      return "'" + src.name + "': " + std::to_string(bytes) + " bytes at offset " +
             std::to_string(src_offset) + " exceed its " + std::to_string(src.nbytes());
    });
    std::memcpy(dst, static_cast<const uint8_t*>(src.data) + src_offset, bytes);
  }

  void synchronize() override {}

  // --- ops ---
  void get_rows(const Tensor& table, const Tensor& ids, Tensor& out) override {
    require_type(ids, DType::I32, "get_rows", "ids");
    require_type(out, DType::F32, "get_rows", "out");
    require(table.data != nullptr, "get_rows", [&] { return "table '" + table.name + "' has no host data"; });
    const int64_t n = ids.nelements();
    const int64_t ne0 = table.ne[0];
    require(out.ne[0] == ne0 && out.nrows() == n, "get_rows", [&] {
      return "out " + shape_str(out) + " must be [" + std::to_string(ne0) + ", " + std::to_string(n) + "]";
    });
    const auto& k = cpu::kernels(table.type);  // throws Unsupported for unknown types
    const auto* rows = static_cast<const uint8_t*>(table.data);
    const size_t row_bytes = table.row_bytes();
    const int64_t n_rows = table.nrows();
    const auto* id = ids.as<const int32_t>();
    float* y = out.as<float>();
    parallel(n, n * ne0 >= kMinParallelElems, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const int64_t r = std::clamp<int64_t>(id[i], 0, n_rows - 1);  // ids are checked by callers
        k.to_float(rows + static_cast<size_t>(r) * row_bytes, y + i * ne0, ne0);
      }
    });
  }

  void rms_norm(const Tensor& x, const Tensor& w, float eps, Tensor& out) override {
    require_type(x, DType::F32, "rms_norm", "x");
    require_type(w, DType::F32, "rms_norm", "w");
    require_type(out, DType::F32, "rms_norm", "out");
    const int64_t n = w.ne[0];
    require(n > 0 && x.nelements() % n == 0 && out.nelements() == x.nelements(), "rms_norm",
            [&] { return "x " + shape_str(x) + ", w " + shape_str(w) + ", out " + shape_str(out); });
    const int64_t rows = x.nelements() / n;
    parallel(rows, x.nelements() >= kMinParallelElems, [&](int64_t b, int64_t e) {
      cpu::rms_norm_rows(x.as<const float>(), w.as<const float>(), n, eps, b, e, out.as<float>());
    });
  }

  void layer_norm(const Tensor& x, const Tensor& w, const Tensor& b, float eps, Tensor& out) override {
    require_type(x, DType::F32, "layer_norm", "x");
    require_type(w, DType::F32, "layer_norm", "w");
    require_type(out, DType::F32, "layer_norm", "out");
    const int64_t n = x.ne[0];
    const bool with_bias = has_data(b);
    if (with_bias) require_type(b, DType::F32, "layer_norm", "b");
    require(w.nelements() == n && (!with_bias || b.nelements() == n) && out.nelements() == x.nelements(),
            "layer_norm",
            [&] { return "x " + shape_str(x) + ", w " + shape_str(w) + ", out " + shape_str(out); });
    const float* bias = with_bias ? b.as<const float>() : nullptr;
    parallel(x.nrows(), x.nelements() >= kMinParallelElems, [&](int64_t r0, int64_t r1) {
      cpu::layer_norm_rows(x.as<const float>(), w.as<const float>(), bias, n, eps, r0, r1, out.as<float>());
    });
  }

  void matmul(const Tensor& w, const Tensor& x, Tensor& out) override {
    require_type(x, DType::F32, "matmul", "x");
    require_type(out, DType::F32, "matmul", "out");
    require(w.data != nullptr, "matmul", [&] { return "w '" + w.name + "' has no host data"; });
    const int64_t K = w.ne[0], N = w.nrows(), M = x.nrows();
    require(x.ne[0] == K && out.ne[0] == N && out.nrows() == M, "matmul", [&] {
      return "w '" + w.name + "' " + shape_str(w) + ", x " + shape_str(x) + ", out " + shape_str(out);
    });
    if (w.type == DType::F16 && !round_f16_activations_) {
      matmul_f16_f32(w, x, out);
      return;
    }
    if ((w.type == DType::F32 || w.type == DType::F16) && !(fast_float_matmul_ && M >= 2)) {
      matmul_float_ggml_order(w, x, out);
      return;
    }
    if (w.type == DType::Q4_0)
      if (const void* panels = q4_panels_.panels_for(w.data, K, N)) {
        cpu::matmul_q4_0_panels(pool_, panels, K, N, x.as<const float>(), M, out.as<float>(), matmul_scratch_);
        return;
      }
    cpu::matmul(pool_, w.type, w.data, K, N, x.as<const float>(), M, out.as<float>(), matmul_scratch_);
  }

  void add(const Tensor& a, const Tensor& b, Tensor& out) override {
    require_type(a, DType::F32, "add", "a");
    require_type(b, DType::F32, "add", "b");
    require_type(out, DType::F32, "add", "out");
    const int64_t n = a.nelements();
    const bool broadcast = b.nelements() != n;
    require(out.nelements() == n && (!broadcast || (b.ne[0] == a.ne[0] && b.nrows() == 1)), "add",
            [&] { return "a " + shape_str(a) + ", b " + shape_str(b) + ", out " + shape_str(out); });
    const int64_t period = broadcast ? b.ne[0] : 0;
    parallel(n, n >= kMinParallelElems, [&](int64_t i0, int64_t i1) {
      cpu::add_range(a.as<const float>(), b.as<const float>(), period, i0, i1, out.as<float>());
    });
  }

  void silu_mul(const Tensor& gate, const Tensor& up, Tensor& out) override {
    require_type(gate, DType::F32, "silu_mul", "gate");
    require_type(up, DType::F32, "silu_mul", "up");
    require_type(out, DType::F32, "silu_mul", "out");
    const int64_t n = gate.nelements();
    require(up.nelements() == n && out.nelements() == n, "silu_mul",
            [&] { return "gate " + shape_str(gate) + ", up " + shape_str(up) + ", out " + shape_str(out); });
    const int64_t row = gate.ne[0];
    parallel(n, n >= kMinParallelElems, [&](int64_t i0, int64_t i1) {
      cpu::silu_mul_range(gate.as<const float>(), up.as<const float>(), row, i0, i1, out.as<float>());
    });
  }

  void gelu(const Tensor& x, Tensor& out) override {
    require_type(x, DType::F32, "gelu", "x");
    require_type(out, DType::F32, "gelu", "out");
    const int64_t n = x.nelements();
    require(out.nelements() == n, "gelu", [&] { return "x " + shape_str(x) + ", out " + shape_str(out); });
    parallel(n, n >= kMinParallelElems,
             [&](int64_t i0, int64_t i1) { cpu::gelu_range(x.as<const float>(), i0, i1, out.as<float>()); });
  }

  void rope(const Tensor& x, const Tensor& pos, const RopeParams& p, Tensor& out) override {
    require_type(x, DType::F32, "rope", "x");
    require_type(pos, DType::I32, "rope", "pos");
    require_type(out, DType::F32, "rope", "out");
    const int64_t head_dim = x.ne[0], n_head = x.ne[1], n_tok = x.ne[2] * x.ne[3];
    require(out.nelements() == x.nelements() && pos.nelements() == n_tok, "rope",
            [&] { return "x " + shape_str(x) + ", pos " + shape_str(pos) + ", out " + shape_str(out); });
    require(p.n_dims > 0 && p.n_dims % 2 == 0 && p.n_dims <= head_dim && p.n_dims <= 1024, "rope", [&] {
      return "n_dims " + std::to_string(p.n_dims) + " must be even and <= head_dim " +
             std::to_string(head_dim);
    });
    cpu::RopeShape s{head_dim, n_head, nullptr};
    if (p.freq_factors) {
      require_type(*p.freq_factors, DType::F32, "rope", "freq_factors");
      require(p.freq_factors->nelements() >= p.n_dims / 2, "rope", [&] { return "freq_factors too short"; });
      s.freq_factors = p.freq_factors->as<const float>();
    }
    const int64_t items = n_tok * n_head;
    parallel(items, x.nelements() >= 4096, [&](int64_t b, int64_t e) {
      cpu::rope_items(x.as<const float>(), pos.as<const int32_t>(), s, p, b, e, out.as<float>());
    });
  }

  void copy_rows(const Tensor& src, Tensor& dst, int64_t row0) override {
    require_type(src, DType::F32, "copy_rows", "src");
    require(dst.data != nullptr && (dst.type == DType::F32 || dst.type == DType::F16), "copy_rows",
            [&] { return "dst '" + dst.name + "' must be F32 or F16 host memory"; });
    const int64_t ne0 = src.ne[0], n = src.nrows();
    require(dst.ne[0] == ne0 && row0 >= 0 && row0 + n <= dst.nrows(), "copy_rows", [&] {
      return "src " + shape_str(src) + " into rows [" + std::to_string(row0) + ", " +
             std::to_string(row0 + n) + ") of dst " + shape_str(dst);
    });
    const float* s = src.as<const float>();
    if (dst.type == DType::F32) {
      std::memcpy(dst.as<float>() + row0 * ne0, s, static_cast<size_t>(ne0 * n) * sizeof(float));
    } else {
      uint16_t* d = dst.as<uint16_t>() + row0 * ne0;
      const auto& vk = cpu::vec();
      parallel(n, ne0 * n >= kMinParallelElems,
               [&](int64_t b, int64_t e) { vk.to_f16(s + b * ne0, d + b * ne0, (e - b) * ne0); });
    }
  }

  void attention(const Tensor& q, const Tensor& k, const Tensor& v, int n_head_kv, const AttentionParams& p,
                 Tensor& out) override {
    require_type(q, DType::F32, "attention", "q");
    require_type(out, DType::F32, "attention", "out");
    require(k.data && v.data && k.type == v.type && (k.type == DType::F16 || k.type == DType::F32),
            "attention", [&] { return "k and v caches must be both F16 or both F32 host memory"; });
    cpu::AttentionArgs a;
    a.head_dim = q.ne[0];
    a.n_head = q.ne[1];
    a.n_tok = q.ne[2] * q.ne[3];
    a.n_head_kv = n_head_kv;
    require(n_head_kv > 0 && a.n_head % n_head_kv == 0, "attention", [&] {
      return std::to_string(a.n_head) + " heads are not a multiple of " + std::to_string(n_head_kv) +
             " kv heads";
    });
    require(k.ne[0] == a.head_dim * n_head_kv && v.ne[0] == k.ne[0] && p.n_kv >= 0 && p.n_kv <= k.nrows() &&
                p.n_kv <= v.nrows(),
            "attention", [&] {
              return "q " + shape_str(q) + ", k " + shape_str(k) + ", v " + shape_str(v) + ", n_kv " +
                     std::to_string(p.n_kv);
            });
    require(out.ne[0] == a.head_dim * a.n_head && out.nrows() == a.n_tok, "attention",
            [&] { return "out " + shape_str(out) + " for q " + shape_str(q); });
    a.q = q.as<const float>();
    a.k = k.data;
    a.v = v.data;
    a.f16_cache = k.type == DType::F16;
    a.n_kv = p.n_kv;
    a.pos0 = p.pos0;
    a.scale = p.scale;
    a.causal = p.causal;
    a.out = out.as<float>();

    // Per-thread scratch (scores over the keys, the rounded query, V-sum lanes). It grows
    // to the largest n_kv seen, in powers of two, so the token loop does not allocate once
    // the context has reached its size.
    const int nth = pool_.size();
    const int64_t need = cpu::attention_scratch_floats(std::max<int64_t>(p.n_kv, 1), a.head_dim);
    if (need > attn_stride_) {
      int64_t cap = 4096;
      while (cap < need) cap *= 2;
      attn_stride_ = cap;
      attn_scratch_.assign(static_cast<size_t>(cap) * static_cast<size_t>(nth), 0.0f);
    }
    // Queries late in a causal prompt cost more: threads take items one at a time.
    const int64_t items = a.n_tok * a.n_head;
    std::atomic<int64_t> next{0};
    auto body = [&](int ith, int) {
      float* scratch = attn_scratch_.data() + static_cast<size_t>(ith) * static_cast<size_t>(attn_stride_);
      for (int64_t i = next.fetch_add(1, std::memory_order_relaxed); i < items;
           i = next.fetch_add(1, std::memory_order_relaxed))
        cpu::attention_item(a, i, scratch);
    };
    run_all(body, items > 1);
  }

 private:
  static Tensor make(DType type, std::array<int64_t, 4> ne, const std::string& name) {
    for (int64_t d : ne)
      if (d < 0)
        throw Error(ErrorKind::InvalidArgument, "cpu backend: tensor '" + name + "' has a negative dim");
    if (ne[0] % info(type).block_size != 0)
      throw Error(ErrorKind::InvalidArgument, "cpu backend: tensor '" + name + "': row of " +
                                                  std::to_string(ne[0]) + " is not a multiple of the " +
                                                  dtype_name(type) + " block size");
    Tensor t;
    t.type = type;
    t.ne = ne;
    t.name = name;
    return t;
  }

  // Runs body(ith, nth) on every pool thread, or body(0, 1) here when not worth it.
  template <class Body>
  void run_all(Body& body, bool worth_it) {
    if (!worth_it || pool_.size() == 1) {
      body(0, 1);
      return;
    }
    // A single pointer capture fits std::function's inline storage: no allocation.
    pool_.run([p = &body](int ith, int nth) { (*p)(ith, nth); });
  }

  // Splits [0, n) into one contiguous range per thread and calls f(begin, end).
  template <class F>
  void parallel(int64_t n, bool worth_it, F&& f) {
    auto body = [&](int ith, int nth) {
      const auto [b, e] = ThreadPool::split(n, ith, nth);
      if (b < e) f(b, e);
    };
    run_all(body, worth_it && n > 1);
  }

  // Σ a[i]·b[i] in tinyBLAS's order (llamafile's GEMM, which ggml uses for float weights
  // when a batch has 2+ tokens and K is a multiple of 16): one 16-lane FMA accumulator,
  // element i in lane i mod 16, then the lane tree.
  static float dot_f32_gemm(const float* a, const float* b, int64_t n) {
    float acc[16] = {};
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
      for (int l = 0; l < 16; ++l) acc[l] = std::fma(a[i + l], b[i + l], acc[l]);
    float s = cpu::tree_sum16(acc);
    for (; i < n; ++i) s = std::fma(a[i], b[i], s);
    return s;
  }

  // F32 and F16 weights with ggml's exact summation orders, so float models reproduce
  // llama.cpp's logits bit for bit: tinyBLAS's order for batches of 2+ tokens when K is a
  // multiple of 16, ggml_vec_dot_* otherwise; F16 weights see activations rounded to F16
  // (ggml converts src1 to the F16 vec_dot type).
  void matmul_float_ggml_order(const Tensor& w, const Tensor& x, Tensor& out) {
    const int64_t K = w.ne[0], N = w.nrows(), M = x.nrows();
    const bool gemm_order = M >= 2 && K % 16 == 0;
    const float* xd = x.as<const float>();
    float* y = out.as<float>();
    const auto& vk = cpu::vec();
    if (w.type == DType::F16) {
      const size_t need = static_cast<size_t>(K * M) * sizeof(float);
      if (matmul_scratch_.size() < need) matmul_scratch_.resize(need);
      float* xr = reinterpret_cast<float*>(matmul_scratch_.data());
      std::copy(xd, xd + K * M, xr);
      vk.round_f16(xr, K * M);
      const auto* wd = w.as<const uint16_t>();
      const auto dot = gemm_order ? vk.dot_f16_gemm : vk.dot_f16_vecdot;
      parallel(N, N * K * M >= kMinParallelElems, [&](int64_t n0, int64_t n1) {
        for (int64_t m = 0; m < M; ++m)
          for (int64_t n = n0; n < n1; ++n) y[m * N + n] = dot(wd + n * K, xr + m * K, K);
      });
      return;
    }
    const auto* wd = w.as<const float>();
    parallel(N, N * K * M >= kMinParallelElems, [&](int64_t n0, int64_t n1) {
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = n0; n < n1; ++n)
          y[m * N + n] = gemm_order ? dot_f32_gemm(wd + n * K, xd + m * K, K) : vk.dot_f32(wd + n * K, xd + m * K, K);
    });
  }

  // F16 weights times unrounded F32 activations (round_f16_activations = false).
  void matmul_f16_f32(const Tensor& w, const Tensor& x, Tensor& out) {
    const int64_t K = w.ne[0], N = w.nrows(), M = x.nrows();
    const auto* wd = w.as<const uint16_t>();
    const float* xd = x.as<const float>();
    float* y = out.as<float>();
    // Several tokens: the float tiles convert each weight panel once for all of them.
    if (fast_float_matmul_ && M >= 2 && cpu::matmul_f16_unrounded(pool_, wd, K, N, xd, M, y, matmul_scratch_)) return;
    const auto& vk = cpu::vec();
    parallel(N, N * K * M >= kMinParallelElems, [&](int64_t n0, int64_t n1) {
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = n0; n < n1; ++n) y[m * N + n] = vk.dot_f16_gemm(wd + n * K, xd + m * K, K);
    });
  }

  ThreadPool pool_;
  bool round_f16_activations_;
  bool fast_float_matmul_;
  std::vector<uint8_t> matmul_scratch_;
  cpu::Q4PanelCache q4_panels_;  // Q4_0 weights in the AVX-512 decode layout
  std::vector<float> attn_scratch_;
  int64_t attn_stride_ = 0;
  std::mutex mem_mu_;
  std::unordered_map<void*, size_t> owned_;
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(const BackendOptions& opts) {
  return std::make_unique<CpuBackend>(opts);
}

}  // namespace xnai::compute
