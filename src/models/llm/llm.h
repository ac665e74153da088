// Decoder-only LLMs from GGUF files: the llama family (Llama 2/3.x, Mistral, TinyLlama,
// SmolLM …), qwen2 and qwen3. One table (llm_arch.cpp) maps GGUF keys and tensor names to
// hyper-parameters and weights; one forward pass (llm_forward.cpp) is written with the ops
// of compute/backend.h, so it runs on every backend. docs/adding-a-model.md is the
// checklist for a new family.
//
// Ownership: an LlmModel owns its GgufFile (the mapping the CPU backend computes from in
// place) and its tokenizer; the Backend must outlive the model and every LlmWorkspace.
// Thread-safety: a loaded model is immutable. forward() may run for one workspace at a
// time per backend (backends are driven by one thread at a time).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "compute/backend.h"
#include "core/dtype.h"

namespace xnai::gguf {
class GgufFile;
}
namespace xnai::text {
class Tokenizer;
}

namespace xnai::models {

enum class LlmArch { Llama, Qwen2, Qwen3 };

struct LlmHParams {
  LlmArch arch = LlmArch::Llama;
  std::string arch_name;  // general.architecture as written in the file
  int64_t n_vocab = 0;
  int64_t n_ctx_train = 0;  // <arch>.context_length
  int64_t n_embd = 0;
  int64_t n_ff = 0;
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim = 0;  // attention.key_length (= value_length), default n_embd / n_head
  float rms_eps = 1e-5f;
  bool qkv_bias = false;  // attn_q/k/v.bias present
  bool qk_norm = false;   // per-head RMSNorm of q and k before rope (qwen3)
  // Rope settings as ggml_rope_ext takes them; freq_factors points at the model's
  // rope_freqs tensor when the file has one (llama-3.1 style), else null.
  compute::RopeParams rope;

  int64_t n_embd_q() const { return n_head * head_dim; }
  int64_t n_embd_kv() const { return n_head_kv * head_dim; }
};

struct LlmLayerWeights {
  compute::Tensor attn_norm, wq, wk, wv, wo;
  compute::Tensor bq, bk, bv;      // empty (data == nullptr, buffer == 0) when absent
  compute::Tensor q_norm, k_norm;  // qwen3 only
  compute::Tensor ffn_norm, ffn_gate, ffn_up, ffn_down;
};

struct LlmWeights {
  compute::Tensor tok_embd, output_norm;
  compute::Tensor output;      // tok_embd itself when the file ties the LM head
  compute::Tensor rope_freqs;  // empty when absent
  std::vector<LlmLayerWeights> layers;
};

struct LoadOptions {
  // Called with the fraction of weights set up, in [0, 1], from the loading thread.
  std::function<void(float)> progress;
};

class LlmWorkspace;

class LlmModel {
 public:
  // Opens and validates a GGUF model. Throws Error naming the file and the problem:
  // NotFound for the file or a required key/tensor, InvalidFormat for a tensor of the
  // wrong shape (with expected and actual shapes) or inconsistent hyper-parameters,
  // Unsupported for an unknown architecture, rope scaling or tensor type.
  static std::unique_ptr<LlmModel> load(const std::string& path, compute::Backend& backend,
                                        const LoadOptions& opts = {});
  ~LlmModel();
  LlmModel(const LlmModel&) = delete;
  LlmModel& operator=(const LlmModel&) = delete;

  const LlmHParams& hparams() const { return hparams_; }
  const LlmWeights& weights() const { return weights_; }
  const text::Tokenizer& tokenizer() const { return *tokenizer_; }
  const gguf::GgufFile& gguf() const { return *file_; }
  compute::Backend& backend() const { return *backend_; }

  // Runs tokens (1 ≤ n ≤ ws.n_batch()) at positions n_past … n_past+n-1: appends their
  // K/V rows to ws's cache and writes the logits of tokens [first_logit, n) to `logits`
  // ((n - first_logit) rows of n_vocab floats; first_logit == n computes none). The caller
  // guarantees ids in [0, n_vocab) and n_past + n ≤ ws.n_ctx(). Allocation-free.
  void forward(LlmWorkspace& ws, std::span<const int32_t> tokens, int64_t n_past, int64_t first_logit,
               float* logits) const;

  // One decode step of several sequences at once (continuous batching): token i goes to
  // position n_past[i] of seqs[i]'s KV cache and its logits (n_vocab floats) to logits[i].
  // The weight matmuls run once over all the tokens, so the weights are read once per step
  // instead of once per sequence; attention runs per sequence over its own cache. Each
  // sequence's logits equal what forward() gives it alone, up to the float summation order
  // of the matmul kernels (bit-identical for quantized weights, see compute/cpu/matmul.h).
  // `scratch` holds the activations (its n_batch ≥ the number of tokens; it may be one of
  // seqs, whose activations are not in use between calls). The caller guarantees distinct
  // seqs, ids in [0, n_vocab) and n_past[i] < seqs[i]->n_ctx(). Allocation-free.
  void forward_batch(LlmWorkspace& scratch, std::span<LlmWorkspace* const> seqs, std::span<const int32_t> tokens,
                     std::span<const int64_t> n_past, std::span<float* const> logits) const;

 private:
  LlmModel() = default;
  // The layer stack shared by forward() and forward_batch(): n tokens whose ids and
  // positions are already in act's ids_/pos_; `attend(il, q3, k, v, attn)` stores the new
  // K/V rows and computes the attention of layer il. Leaves the final hidden states of
  // columns [first_logit, n) normalised in act.h_ columns [0, n - first_logit).
  template <class Attend>
  void run_layers(LlmWorkspace& act, int64_t n, int64_t first_logit, Attend&& attend) const;

  std::unique_ptr<gguf::GgufFile> file_;
  compute::Backend* backend_ = nullptr;
  LlmHParams hparams_;
  LlmWeights weights_;
  std::unique_ptr<text::Tokenizer> tokenizer_;
};

// Memory for running a model over one sequence: a KV cache of n_ctx positions (F16 as
// llama.cpp's default, or F32) and scratch activations for up to n_batch tokens per
// forward() call, all allocated on the model's backend up front.
class LlmWorkspace {
 public:
  // kv_type must be F16 or F32 (else Error(InvalidArgument)); n_ctx, n_batch ≥ 1.
  LlmWorkspace(const LlmModel& model, int64_t n_ctx, int64_t n_batch, DType kv_type);
  ~LlmWorkspace();
  LlmWorkspace(const LlmWorkspace&) = delete;
  LlmWorkspace& operator=(const LlmWorkspace&) = delete;

  int64_t n_ctx() const { return n_ctx_; }
  int64_t n_batch() const { return n_batch_; }
  DType kv_type() const { return kv_type_; }

 private:
  friend class LlmModel;
  void release_all();

  compute::Backend* backend_;
  int64_t n_ctx_, n_batch_, n_logit_rows_;
  DType kv_type_;
  std::vector<compute::Tensor> k_cache_, v_cache_;  // per layer [n_embd_kv, n_ctx]
  // Per-batch activations, n_batch columns each; see forward() for their roles.
  compute::Tensor ids_, pos_, x_, h_, o_, q_, qn_, k_, kn_, v_, attn_, gate_, up_, act_, logits_;
  std::vector<int32_t> pos_host_;
};

}  // namespace xnai::models
