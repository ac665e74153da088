// Token sampling: from one row of logits to the next token id, with llama.cpp's semantics.
//
// The chain, in order (docs/sampling.md explains each step):
//   logit_bias → repetition penalties → [temperature <= 0: argmax] → top-k → top-p → min-p →
//   temperature → draw from the softmax with the sampler's own RNG.
// Steady state allocates nothing: every buffer is sized for the vocabulary at construction.
// A Sampler is one generation stream's state (history + RNG); it is not thread-safe.
#pragma once
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace xnai::runtime {

inline constexpr uint64_t kRandomSeed = 0xFFFFFFFF;

struct SamplingParams {
  float temperature = 0.8f;        // <= 0: greedy (argmax, lowest id on ties)
  int top_k = 40;                  // keep the k most likely tokens; <= 0: off
  float top_p = 0.95f;             // nucleus in [0, 1]; 1: off
  float min_p = 0.05f;             // drop tokens below min_p · p(max), in [0, 1]; 0: off
  float repeat_penalty = 1.0f;     // > 0; 1: off
  int repeat_last_n = 64;          // penalty window in accepted tokens; 0: off, -1: all since reset
  float presence_penalty = 0.0f;   // subtracted once from every token in the window
  float frequency_penalty = 0.0f;  // subtracted per occurrence in the window
  uint64_t seed = kRandomSeed;     // kRandomSeed: draw a random seed (see Sampler::seed())
  std::vector<std::pair<int32_t, float>> logit_bias;  // added to the logit; -inf bans the token
};

class Sampler {
 public:
  // Throws Error(InvalidArgument) naming the parameter when one is out of range (n_vocab <= 0,
  // NaN anywhere, top_p or min_p outside [0, 1], repeat_penalty <= 0, repeat_last_n < -1 or above
  // 1,048,576, a logit_bias id outside the vocabulary or a +inf/NaN bias).
  Sampler(const SamplingParams& p, int32_t n_vocab);

  // Picks the next token from `logits` (n_vocab floats, not modified). Does not record it: call
  // accept() with the token actually used. NaN logits count as -inf. If every token ends up at
  // -inf the lowest id is returned. Deterministic: the same seed and the same sequence of logits
  // and accepted tokens give the same tokens.
  int32_t sample(const float* logits);

  // Records a token for the repetition penalties. Throws Error(InvalidArgument) for an id outside
  // the vocabulary.
  void accept(int32_t token);

  // Forgets the history and restarts the RNG from seed(), so the stream replays from the start.
  void reset();

  // The seed in use: params.seed, or the random one drawn for kRandomSeed. All 64 bits matter.
  uint64_t seed() const { return seed_; }
  const SamplingParams& params() const { return params_; }
  int32_t n_vocab() const { return n_vocab_; }

 private:
  struct Candidate {
    float logit;
    int32_t id;
  };

  void adjust_logits(const float* logits);
  int32_t argmax() const;
  size_t gather_top_k(size_t k);
  size_t select_nucleus(size_t count, double target, float max_logit);
  double uniform01();

  SamplingParams params_;
  int32_t n_vocab_;
  uint64_t seed_;
  std::mt19937 rng_;
  bool penalties_on_;

  std::vector<float> work_;      // n_vocab logits after bias and penalties
  std::vector<Candidate> cand_;  // candidates; capacity n_vocab
  std::vector<float> weight_;    // unnormalised probabilities of cand_; capacity n_vocab

  // Penalty history: counts per token over the window, the window itself as a ring, and the list
  // of distinct tokens in it (with each one's position in that list, for O(1) removal).
  std::vector<int32_t> counts_;
  std::vector<int32_t> ring_;
  size_t ring_head_ = 0;
  size_t ring_size_ = 0;
  std::vector<int32_t> distinct_;
  std::vector<int32_t> distinct_pos_;
};

}  // namespace xnai::runtime
