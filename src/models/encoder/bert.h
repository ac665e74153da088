// Sentence-embedding encoders from GGUF files: the `bert` family (bge, all-MiniLM, e5 …)
// and `nomic-bert`. One table (bert_arch.cpp) maps GGUF keys and tensor names to the
// hyper-parameters and weights; one forward pass (bert_forward.cpp) is written with the ops
// of compute/backend.h. The numerics follow llama.cpp's BERT graph (commit c392e50):
//   x = LayerNorm(tok_embd[id] + token_types[0] + position_embd[pos])
//   per layer (post-norm):  a = LayerNorm(x + Wo·Attention(Wq·x+bq, Wk·x+bk, Wv·x+bv) + bo)
//                           x = LayerNorm(a + W_down·gelu(W_up·a + b_up) + b_down)
// Attention is non-causal and confined to each sequence; K/V stay F32 as in llama.cpp.
// nomic-bert differs in a fused Q/K/V matrix without biases, NEOX rope instead of position
// embeddings and a SwiGLU feed-forward without biases.
//
// Ownership: a BertModel owns its GgufFile (weights are used in place on the CPU) and its
// tokenizer; the Backend must outlive the model and every BertWorkspace.
// Thread-safety: a loaded model is immutable; encode() may run for one workspace at a time
// per backend (a backend is driven by one thread at a time).
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "compute/backend.h"

namespace xnai::gguf {
class GgufFile;
}
namespace xnai::text {
class Tokenizer;
}

namespace xnai::models {

enum class EncoderArch { Bert, NomicBert };

// How one vector is made from a sequence's final hidden states; the values are those of
// `<arch>.pooling_type` (llama.cpp's enum; 4 = rank is a reranker head, not supported).
enum class Pooling : int { None = 0, Mean = 1, Cls = 2, Last = 3 };
const char* pooling_name(Pooling p);  // "none", "mean", "cls", "last"

struct BertHParams {
  EncoderArch arch = EncoderArch::Bert;
  std::string arch_name;  // general.architecture as written in the file
  int64_t n_vocab = 0;
  int64_t n_ctx_train = 0;  // <arch>.context_length: longest sequence (position rows)
  int64_t n_embd = 0;
  int64_t n_ff = 0;
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t head_dim = 0;     // n_embd / n_head
  float norm_eps = 1e-12f;  // <arch>.attention.layer_norm_epsilon
  Pooling pooling = Pooling::None;
  bool pooling_in_file = false;  // false: <arch>.pooling_type is absent (pooling is None)
  compute::RopeParams rope;      // nomic-bert only (NEOX, rope.freq_base)
};

// Weights are wrapped with Backend::weight. Optional tensors are empty (data == nullptr
// and buffer == 0) when absent. For nomic-bert wq/wk/wv are row ranges of attn_qkv.
struct BertLayerWeights {
  compute::Tensor wq, wk, wv, wo;
  compute::Tensor bq, bk, bv, bo;
  compute::Tensor attn_out_norm, attn_out_norm_b;
  compute::Tensor ffn_up, ffn_up_b, ffn_gate, ffn_down, ffn_down_b;
  compute::Tensor out_norm, out_norm_b;
};

struct BertWeights {
  compute::Tensor tok_embd, type_embd, pos_embd, embd_norm, embd_norm_b;
  std::vector<BertLayerWeights> layers;
};

class BertWorkspace;

class BertModel {
 public:
  // Opens and validates a GGUF encoder. Throws Error naming the file and the problem:
  // NotFound for the file or a required key/tensor (with the expected shape),
  // InvalidFormat for a tensor of the wrong shape (expected and actual) or inconsistent
  // hyper-parameters, Unsupported for another architecture (named in the message), a
  // causal encoder, a pooling type we do not run, or an uncomputable tensor type.
  static std::unique_ptr<BertModel> load(const std::string& path, compute::Backend& backend);
  ~BertModel();
  BertModel(const BertModel&) = delete;
  BertModel& operator=(const BertModel&) = delete;

  const BertHParams& hparams() const { return hparams_; }
  const BertWeights& weights() const { return weights_; }
  const text::Tokenizer& tokenizer() const { return *tokenizer_; }
  const gguf::GgufFile& gguf() const { return *file_; }
  compute::Backend& backend() const { return *backend_; }

  // Runs several sequences packed back to back in `tokens`; seq_lens[s] tokens belong to
  // sequence s. Each sequence attends to all of its own tokens and to nothing else, so a
  // sequence's result does not depend on what else is in the batch (up to float rounding
  // of batched matmuls). Writes, unnormalised, to `out`:
  //   Mean / Cls / Last: seq_lens.size() rows of n_embd floats, one per sequence;
  //   None: tokens.size() rows of n_embd floats, every token's final hidden state.
  // Preconditions (Error(InvalidArgument) otherwise, checked before any work): every
  // seq_len ≥ 1 and ≤ n_ctx_train, their sum == tokens.size() ≤ ws.n_batch(), ids in
  // [0, n_vocab). Allocation-free.
  void encode(BertWorkspace& ws, std::span<const int32_t> tokens, std::span<const int32_t> seq_lens,
              Pooling pooling, float* out) const;

 private:
  BertModel() = default;

  std::unique_ptr<gguf::GgufFile> file_;
  compute::Backend* backend_ = nullptr;
  BertHParams hparams_;
  BertWeights weights_;
  std::unique_ptr<text::Tokenizer> tokenizer_;
};

// Scratch activations for up to n_batch tokens per encode() call (any number of
// sequences), allocated on the model's backend up front.
class BertWorkspace {
 public:
  // n_batch ≥ 1 (else Error(InvalidArgument)).
  BertWorkspace(const BertModel& model, int64_t n_batch);
  ~BertWorkspace();
  BertWorkspace(const BertWorkspace&) = delete;
  BertWorkspace& operator=(const BertWorkspace&) = delete;

  int64_t n_batch() const { return n_batch_; }

 private:
  friend class BertModel;
  void release_all();

  compute::Backend* backend_;
  int64_t n_batch_;
  // [n_embd, n_batch]: x residual stream, h post-attention stream, o/q/k/v/attn scratch;
  // [n_ff, n_batch]: up, and gate/act for a gated FFN; type_row [n_embd, 1] = token_types
  // row 0 (when present).
  compute::Tensor ids_, pos_, x_, h_, o_, q_, k_, v_, attn_, up_, gate_, act_, type_row_;
  std::vector<int32_t> pos_host_;
  std::vector<float> hidden_host_;  // n_embd × n_batch, for mean pooling
};

// A random-weight encoder with the exact tensor layout llama.cpp's converter writes for a
// `bert` model (F16 matrices and token embedding, F32 position/type embeddings, norms and
// biases), for speed figures and tests that need real sizes. Weights ~ N(0, 0.02)-sized
// uniform noise, LayerNorm gains 1 and biases 0; deterministic for a seed.
struct SyntheticBertShape {
  int64_t n_vocab = 30522, n_ctx = 512, n_embd = 384, n_ff = 1536, n_layer = 12, n_head = 12;
  Pooling pooling = Pooling::Cls;
  uint64_t seed = 1;
  std::string name = "synthetic-bge-small";  // general.name
  // A GGUF whose tokenizer.* keys are copied (e.g. a real bge file); "" writes a minimal
  // WordPiece vocabulary of n_vocab tokens ([PAD] 0, [UNK] 100, [CLS] 101, [SEP] 102,
  // [MASK] 103, lower-case ASCII letters and digits with their ## forms, common words).
  std::string vocab_from;
};
// Writes the model atomically (GgufWriter). Throws Error(InvalidArgument) for a bad shape
// (n_embd not a multiple of n_head, n_vocab smaller than the vocabulary), Error(Io) for the
// output, and what GgufFile::open throws for a bad vocab_from file.
void write_synthetic_bert(const SyntheticBertShape& shape, const std::string& path);

}  // namespace xnai::models
