// The compute backend interface. Models are written once against this table of ops; the
// CPU backend (compute/cpu) is the reference and a Vulkan backend (compute/vulkan) plugs in
// beside it without touching the models.
//
// Contract shared by every backend:
// - Tensors are contiguous; ne[0] is the innermost dimension (GGUF order). A matrix with
//   ne = {n_in, n_out} holds n_out rows of n_in values, and y = W·x is one dot per row.
// - Ops may be queued: their results are only guaranteed visible after synchronize() or a
//   download(). The CPU backend runs each op at once.
// - Op arguments never alias unless an op says so.
// - Numerics follow ggml's CPU path so logits match llama.cpp: matmul quantizes the
//   activations to the weight type's partner (Q8_0 / Q8_K, F16 for F16 weights); attention
//   rounds Q (and the softmax probabilities) to the KV cache type, as ggml's non-flash path.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/dtype.h"

namespace xnai::compute {

struct Tensor {
  DType type = DType::F32;
  std::array<int64_t, 4> ne{1, 1, 1, 1};
  void* data = nullptr;     // host-addressable bytes; null for device-only memory
  uint64_t buffer = 0;      // backend-private buffer id (0 on the CPU backend)
  size_t offset = 0;        // byte offset inside `buffer`
  std::string name;

  int64_t nelements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
  int64_t nrows() const { return ne[1] * ne[2] * ne[3]; }
  size_t row_bytes() const { return row_size(type, ne[0]); }
  size_t nbytes() const { return row_bytes() * static_cast<size_t>(nrows()); }
  template <class T> T* as() const { return static_cast<T*>(data); }
};

enum class RopeMode { Normal, Neox };  // Normal rotates (x[2i], x[2i+1]); Neox (x[i], x[i+d/2])

struct RopeParams {
  int n_dims = 0;            // rotated dims per head (≤ head_dim)
  RopeMode mode = RopeMode::Normal;
  float freq_base = 10000.0f;
  float freq_scale = 1.0f;   // 1 / linear scaling factor
  // YaRN / llama-3 style extensions, as llama.cpp's ggml_rope_ext takes them.
  int n_ctx_orig = 0;
  float ext_factor = 0.0f;
  float attn_factor = 1.0f;
  float beta_fast = 32.0f;
  float beta_slow = 1.0f;
  const Tensor* freq_factors = nullptr;  // optional F32 [n_dims/2] (llama-3.1 rope_freqs)
};

struct AttentionParams {
  int64_t n_kv = 0;     // cache rows in use, including the new tokens
  int64_t pos0 = 0;     // position of the first query token (causal mask: key j visible to
                        // query i when j <= pos0 + i)
  float scale = 1.0f;   // applied to Q·K before the softmax
  bool causal = true;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;

  // --- memory ---
  // A weight from host memory (e.g. a mapped GGUF). The CPU backend wraps it in place
  // (zero copy); a device backend uploads it once. `host` must outlive the tensor on CPU.
  virtual Tensor weight(const void* host, DType type, std::array<int64_t, 4> ne, const std::string& name) = 0;
  // Scratch / cache memory owned by the backend, zero-filled.
  virtual Tensor alloc(DType type, std::array<int64_t, 4> ne, const std::string& name) = 0;
  virtual void release(Tensor& t) = 0;
  virtual void upload(Tensor& dst, const void* src, size_t bytes, size_t dst_offset = 0) = 0;
  virtual void download(const Tensor& src, void* dst, size_t bytes, size_t src_offset = 0) = 0;
  virtual void synchronize() = 0;

  // --- ops (out is written, never read) ---
  // out[:, i] = dequantized row ids[i] of table. ids: I32 [n]; out: F32 [table.ne[0], n].
  virtual void get_rows(const Tensor& table, const Tensor& ids, Tensor& out) = 0;
  // out = x / rms(x) * w over rows of w.ne[0] values (x may hold several such rows per
  // column, e.g. per-head q/k norms). w may be F32 of ne[0] = row length.
  virtual void rms_norm(const Tensor& x, const Tensor& w, float eps, Tensor& out) = 0;
  // out = (x - mean) / sqrt(var + eps) * w + b over rows of x.ne[0] (b may be absent: b.data == nullptr && b.buffer == 0).
  virtual void layer_norm(const Tensor& x, const Tensor& w, const Tensor& b, float eps, Tensor& out) = 0;
  // out[N, M] = W[K, N] · x[K, M]; W of any computable type, x and out F32.
  virtual void matmul(const Tensor& w, const Tensor& x, Tensor& out) = 0;
  // out = a + b; b is either a's shape or one row broadcast over a's rows (bias). out may alias a.
  virtual void add(const Tensor& a, const Tensor& b, Tensor& out) = 0;
  // out = silu(gate) * up, element-wise.
  virtual void silu_mul(const Tensor& gate, const Tensor& up, Tensor& out) = 0;
  // out = gelu(x) (tanh approximation, as ggml_gelu). out may alias x.
  virtual void gelu(const Tensor& x, Tensor& out) = 0;
  // Rotary embedding of x [head_dim, n_head, n_tok] at positions pos (I32 [n_tok]). out may alias x.
  virtual void rope(const Tensor& x, const Tensor& pos, const RopeParams& p, Tensor& out) = 0;
  // Converts src (F32 [ne0, n]) into rows [row0, row0+n) of dst (F32/F16, ne0 per row).
  virtual void copy_rows(const Tensor& src, Tensor& dst, int64_t row0) = 0;
  // softmax(scale·QKᵀ + mask)·V with grouped heads. q: F32 [head_dim, n_head, n_tok];
  // k, v caches: [head_dim * n_head_kv, n_ctx] (F16 or F32); out: F32 [head_dim * n_head, n_tok].
  virtual void attention(const Tensor& q, const Tensor& k, const Tensor& v, int n_head_kv,
                         const AttentionParams& p, Tensor& out) = 0;
};

struct BackendOptions {
  int n_threads = 0;  // 0 = default_thread_count() (physical cores; env N_THREADS)
  // matmul with F16 weights rounds the activations to F16 as ggml does (logits match
  // llama.cpp). false keeps them F32: closer to exact float math (float64 references).
  bool round_f16_activations = true;
  // Float (F32 / F16) weights times several tokens: false sums in ggml's order, one dot at a
  // time (bit-exact with llama.cpp); true uses the tiled kernels, several times faster
  // with another f32 summation order (rounding-level differences, ~1e-6 relative).
  bool fast_float_matmul = false;
};

std::unique_ptr<Backend> make_cpu_backend(const BackendOptions& opts = {});

}  // namespace xnai::compute
