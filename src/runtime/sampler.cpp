#include "runtime/sampler.h"

#include <algorithm>
#include <bit>
#include <cfloat>
#include <cmath>
#include <limits>
#include <string>

#include "core/error.h"

namespace xnai::runtime {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();
constexpr int kMaxRepeatLastN = 1 << 20;
// Top-k up to this size is gathered with a bounded heap in one pass over the vocabulary; larger k
// uses nth_element over all candidates.
constexpr size_t kHeapTopKLimit = 4096;

[[noreturn]] void bad_param(const std::string& what) {
  throw Error(ErrorKind::InvalidArgument, "sampling parameter " + what);
}

// Keeps a logit usable by the comparisons and exponentials below: NaN → -inf, +inf → FLT_MAX,
// -0 → +0 (so that equal logits have equal order keys).
inline float sane_logit(float x) {
  if (std::isnan(x)) return kNegInf;
  return x > FLT_MAX ? FLT_MAX : x + 0.0f;
}

// A signed integer with the same order as the (non-NaN) float: lets the vocabulary-wide max and
// compare loops vectorise, which float compares do not without -ffast-math.
inline int32_t order_key(float x) {
  const auto b = std::bit_cast<int32_t>(x);
  return b ^ ((b >> 31) & 0x7fffffff);
}

// e^x for x <= 0 (the only use here: logits minus their max), relative error below 4e-6; exactly
// 0 below -87 and for -inf. Written without branches or calls so that loops over it vectorise;
// every lane computes the same bits as the scalar code, so results do not depend on vectorisation.
inline float fast_exp(float x) {
  constexpr uint32_t kMinus87 = 0xC2AE0000u;  // bits of -87.0f; larger bit patterns are below it
  const auto xb = std::bit_cast<uint32_t>(x);
  const uint32_t below = 0u - static_cast<uint32_t>(xb > kMinus87);
  const uint32_t in_range = ~below;
  x = std::bit_cast<float>((xb & in_range) | (kMinus87 & below));
  // 2^t = 2^n · e^(f), n = round(t), |f| <= ln2 / 2; e^f by its Taylor series to degree 6.
  const float t = x * 1.44269504088896341f;
  const float n = (t + 12582912.0f) - 12582912.0f;  // round to nearest via the 1.5 · 2^23 trick
  const float f = (t - n) * 0.693147180559945309f;
  float p = 1.0f / 720.0f;
  p = p * f + 1.0f / 120.0f;
  p = p * f + 1.0f / 24.0f;
  p = p * f + 1.0f / 6.0f;
  p = p * f + 0.5f;
  p = p * f + 1.0f;
  p = p * f + 1.0f;
  const float scale = std::bit_cast<float>(static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23);
  return std::bit_cast<float>(std::bit_cast<uint32_t>(p * scale) & in_range);
}

// Largest order key in v[0, n).
inline int32_t max_key(const float* v, size_t n) {
  int32_t m = std::numeric_limits<int32_t>::min();
  for (size_t i = 0; i < n; ++i) {
    const int32_t k = order_key(v[i]);
    m = k > m ? k : m;
  }
  return m;
}

// Σ e^(v[i] - shift) for v[0, n), in a fixed order (four double partial sums).
double exp_sum(const float* v, size_t n, float shift, float* scratch) {
  for (size_t i = 0; i < n; ++i) scratch[i] = fast_exp(v[i] - shift);
  double s[4] = {0.0, 0.0, 0.0, 0.0};
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    for (size_t j = 0; j < 4; ++j) s[j] += scratch[i + j];
  }
  for (; i < n; ++i) s[0] += scratch[i];
  return (s[0] + s[1]) + (s[2] + s[3]);
}

constexpr size_t kScanBlock = 64;

void validate(const SamplingParams& p, int32_t n_vocab) {
  if (n_vocab <= 0) bad_param("n_vocab must be positive, got " + std::to_string(n_vocab));
  if (!std::isfinite(p.temperature)) bad_param("temperature must be a finite number");
  if (!(p.top_p >= 0.0f && p.top_p <= 1.0f)) {
    bad_param("top_p must be in [0, 1], got " + std::to_string(p.top_p));
  }
  if (!(p.min_p >= 0.0f && p.min_p <= 1.0f)) {
    bad_param("min_p must be in [0, 1], got " + std::to_string(p.min_p));
  }
  if (!(std::isfinite(p.repeat_penalty) && p.repeat_penalty > 0.0f)) {
    bad_param("repeat_penalty must be a positive number, got " + std::to_string(p.repeat_penalty));
  }
  if (p.repeat_last_n < -1 || p.repeat_last_n > kMaxRepeatLastN) {
    bad_param("repeat_last_n must be -1 (whole history), 0 (off) or a window of at most " +
              std::to_string(kMaxRepeatLastN) + " tokens, got " + std::to_string(p.repeat_last_n));
  }
  if (!std::isfinite(p.presence_penalty)) bad_param("presence_penalty must be a finite number");
  if (!std::isfinite(p.frequency_penalty)) bad_param("frequency_penalty must be a finite number");
  for (const auto& [id, bias] : p.logit_bias) {
    if (id < 0 || id >= n_vocab) {
      bad_param("logit_bias names token " + std::to_string(id) + ", outside the vocabulary of " +
                std::to_string(n_vocab));
    }
    if (std::isnan(bias) || bias == std::numeric_limits<float>::infinity()) {
      bad_param("logit_bias for token " + std::to_string(id) + " must be finite or -inf");
    }
  }
}

uint64_t random_seed() {
  std::random_device rd;
  uint64_t s = kRandomSeed;
  while (s == kRandomSeed) s = (static_cast<uint64_t>(rd()) << 32) | rd();
  return s;
}

// Every 64-bit seed gives its own stream (mt19937 alone would keep only the low 32 bits);
// seed_seq's mixing is fixed by the standard, so streams are the same on every platform.
void seed_rng(std::mt19937& rng, uint64_t seed) {
  std::seed_seq seq{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)};
  rng.seed(seq);
}

}  // namespace

Sampler::Sampler(const SamplingParams& p, int32_t n_vocab) : params_(p), n_vocab_(n_vocab) {
  validate(p, n_vocab);
  seed_ = p.seed == kRandomSeed ? random_seed() : p.seed;
  seed_rng(rng_, seed_);
  penalties_on_ = p.repeat_last_n != 0 &&
                  (p.repeat_penalty != 1.0f || p.presence_penalty != 0.0f || p.frequency_penalty != 0.0f);

  const auto n = static_cast<size_t>(n_vocab);
  work_.resize(n);
  cand_.resize(n);
  weight_.resize(n);
  if (penalties_on_) {
    counts_.assign(n, 0);
    distinct_pos_.assign(n, 0);
    size_t max_distinct = n;
    if (p.repeat_last_n > 0) {
      ring_.resize(static_cast<size_t>(p.repeat_last_n));
      max_distinct = std::min(max_distinct, ring_.size());
    }
    distinct_.reserve(max_distinct);
  }
}

void Sampler::reset() {
  for (int32_t t : distinct_) counts_[static_cast<size_t>(t)] = 0;
  distinct_.clear();
  ring_head_ = 0;
  ring_size_ = 0;
  seed_rng(rng_, seed_);
}

void Sampler::accept(int32_t token) {
  if (token < 0 || token >= n_vocab_) {
    throw Error(ErrorKind::InvalidArgument, "accepted token " + std::to_string(token) +
                                                " is outside the vocabulary of " + std::to_string(n_vocab_));
  }
  if (!penalties_on_) return;

  auto add = [this](int32_t t) {
    const auto ut = static_cast<size_t>(t);
    if (counts_[ut]++ == 0) {
      distinct_pos_[ut] = static_cast<int32_t>(distinct_.size());
      distinct_.push_back(t);  // capacity reserved for the largest possible window
    }
  };
  auto remove = [this](int32_t t) {
    const auto ut = static_cast<size_t>(t);
    if (--counts_[ut] == 0) {
      const auto pos = static_cast<size_t>(distinct_pos_[ut]);
      const int32_t last = distinct_.back();
      distinct_[pos] = last;
      distinct_pos_[static_cast<size_t>(last)] = static_cast<int32_t>(pos);
      distinct_.pop_back();
    }
  };

  if (!ring_.empty()) {
    if (ring_size_ == ring_.size()) {
      remove(ring_[ring_head_]);
      ring_[ring_head_] = token;
      ring_head_ = (ring_head_ + 1) % ring_.size();
    } else {
      ring_[(ring_head_ + ring_size_) % ring_.size()] = token;
      ++ring_size_;
    }
  }
  add(token);
}

void Sampler::adjust_logits(const float* logits) {
  const auto n = static_cast<size_t>(n_vocab_);
  // Copy (turning -0 into +0) while checking for exponents of all ones (inf, NaN); only those
  // need the slow path.
  uint32_t special = 0;
  for (size_t i = 0; i < n; ++i) {
    const float x = logits[i];
    work_[i] = x + 0.0f;
    special |= ((std::bit_cast<uint32_t>(x) & 0x7f800000u) + 0x00800000u) >> 31;
  }
  if (special) {
    for (size_t i = 0; i < n; ++i) work_[i] = sane_logit(work_[i]);
  }
  for (const auto& [id, bias] : params_.logit_bias) {
    auto& l = work_[static_cast<size_t>(id)];
    l = sane_logit(l + bias);
  }
  if (!penalties_on_) return;
  // llama.cpp's rule: the repeat penalty pushes a logit towards "less likely" whatever its sign,
  // then presence and frequency penalties subtract (OpenAI's formula).
  const float rp = params_.repeat_penalty;
  for (int32_t t : distinct_) {
    const auto ut = static_cast<size_t>(t);
    const auto count = static_cast<float>(counts_[ut]);
    float l = work_[ut];
    l = l <= 0.0f ? l * rp : l / rp;
    l -= count * params_.frequency_penalty + params_.presence_penalty;
    work_[ut] = sane_logit(l);
  }
}

int32_t Sampler::argmax() const {
  const float* w = work_.data();
  const size_t n = work_.size();
  const int32_t best = max_key(w, n);
  // First index holding the max: test whole blocks (vectorised) before looking inside one.
  for (size_t b = 0; b < n; b += kScanBlock) {
    const size_t e = std::min(n, b + kScanBlock);
    uint32_t hit = 0;
    for (size_t i = b; i < e; ++i) hit |= static_cast<uint32_t>(order_key(w[i]) == best);
    if (!hit) continue;
    for (size_t i = b; i < e; ++i) {
      if (order_key(w[i]) == best) return static_cast<int32_t>(i);
    }
  }
  return 0;  // not reached: the max is in the array
}

namespace {
// Strict total order: higher logit first, then lower id. Makes every selection deterministic.
inline bool better(float la, int32_t ia, float lb, int32_t ib) { return la > lb || (la == lb && ia < ib); }
}  // namespace

// Puts the k best tokens of work_ into cand_[0, k), sorted best first. Returns k.
size_t Sampler::gather_top_k(size_t k) {
  auto cmp = [](const Candidate& a, const Candidate& b) { return better(a.logit, a.id, b.logit, b.id); };
  Candidate* c = cand_.data();
  const auto n = static_cast<size_t>(n_vocab_);
  if (k <= kHeapTopKLimit) {
    // A heap whose front is the worst kept token. Ids arrive in increasing order, so a later token
    // with an equal logit never displaces an earlier one. Once the heap is full, a block whose
    // largest logit does not beat the front is skipped after one vectorised pass; most of the
    // vocabulary goes that way.
    size_t size = 0;
    for (size_t b = 0; b < n; b += kScanBlock) {
      const size_t e = std::min(n, b + kScanBlock);
      if (size == k && max_key(work_.data() + b, e - b) <= order_key(c[0].logit)) continue;
      for (size_t i = b; i < e; ++i) {
        const float l = work_[i];
        if (size < k) {
          c[size++] = {l, static_cast<int32_t>(i)};
          std::push_heap(c, c + size, cmp);
        } else if (l > c[0].logit) {
          std::pop_heap(c, c + k, cmp);
          c[k - 1] = {l, static_cast<int32_t>(i)};
          std::push_heap(c, c + k, cmp);
        }
      }
    }
    std::sort_heap(c, c + k, cmp);
  } else {
    for (size_t i = 0; i < n; ++i) c[i] = {work_[i], static_cast<int32_t>(i)};
    std::nth_element(c, c + k, c + n, cmp);
    std::sort(c, c + k, cmp);
  }
  return k;
}

// The top-p cut over the unsorted candidates cand_[0, count): the length of the smallest best-first
// prefix whose mass e^(logit - max) reaches `target` (all of them if none does), with that prefix
// moved to the front. weight_ must hold e^(logit - max) per token id. One pass spreads the
// candidates over buckets of equal logit width below the max; only the bucket where the mass
// crosses the target is sorted, and the candidates of better buckets go, unsorted, in front of it.
size_t Sampler::select_nucleus(size_t count, double target, float max_logit) {
  constexpr int kBuckets = 256;
  constexpr float kRange = 87.0f;  // e^-87 is where fast_exp returns 0: no mass below
  constexpr float kScale = kBuckets / kRange;
  auto bucket_of = [max_logit, kScale](float logit) {
    const float d = (max_logit - logit) * kScale;                              // >= 0
    return d < static_cast<float>(kBuckets) ? static_cast<int>(d) : kBuckets;  // kBuckets: no mass
  };
  double mass[kBuckets] = {};
  Candidate* c = cand_.data();
  const float* by_id = weight_.data();  // e^(logit - max) per token id, left by exp_sum
  for (size_t i = 0; i < count; ++i) {
    const int b = bucket_of(c[i].logit);
    if (b < kBuckets) mass[b] += by_id[static_cast<size_t>(c[i].id)];
  }
  double acc = 0.0;
  int cross = 0;
  while (cross < kBuckets && acc + mass[cross] < target) acc += mass[cross++];
  if (cross == kBuckets) return count;  // the target is (up to rounding) the whole mass

  Candidate* mid =
      std::partition(c, c + count, [&](const Candidate& x) { return bucket_of(x.logit) < cross; });
  Candidate* end =
      std::partition(mid, c + count, [&](const Candidate& x) { return bucket_of(x.logit) == cross; });
  auto cmp = [](const Candidate& x, const Candidate& y) { return better(x.logit, x.id, y.logit, y.id); };
  std::sort(mid, end, cmp);
  for (Candidate* it = mid; it != end; ++it) {
    acc += fast_exp(it->logit - max_logit);
    if (acc >= target) return static_cast<size_t>(it - c) + 1;
  }
  return static_cast<size_t>(end - c);  // rounding: keep the whole crossing bucket
}

double Sampler::uniform01() {
  // 53 random bits from two 32-bit outputs (the classic genrand_res53): the same on every platform,
  // unlike std::uniform_real_distribution.
  const uint32_t a = rng_() >> 5;
  const uint32_t b = rng_() >> 6;
  return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
}

int32_t Sampler::sample(const float* logits) {
  adjust_logits(logits);
  if (params_.temperature <= 0.0f) return argmax();

  const auto n_vocab = static_cast<size_t>(n_vocab_);
  const bool use_top_p = params_.top_p < 1.0f;
  const bool use_min_p = params_.min_p > 0.0f;
  Candidate* c = cand_.data();
  float* w = weight_.data();
  size_t count = 0;   // candidates in cand_[0, count)
  size_t sorted = 0;  // cand_[0, sorted) is sorted best first
  float max_logit = kNegInf;
  double total = 0.0;  // top-p: Σ e^(logit - max) over all candidates after top-k

  if (params_.top_k > 0 && static_cast<size_t>(params_.top_k) < n_vocab) {
    count = sorted = gather_top_k(static_cast<size_t>(params_.top_k));
    max_logit = c[0].logit;
    if (max_logit == kNegInf) return argmax();  // every token banned: nothing to draw from
    if (use_top_p) {
      for (size_t i = 0; i < count; ++i) total += fast_exp(c[i].logit - max_logit);
    }
  } else {
    // The whole vocabulary is a candidate. top-p's mass is taken over all of it, but only tokens
    // that pass min-p can survive, so only those become Candidate entries.
    const int32_t top = max_key(work_.data(), n_vocab);
    max_logit = std::bit_cast<float>(top ^ ((top >> 31) & 0x7fffffff));  // order_key is an involution
    if (max_logit == kNegInf) return argmax();
    if (use_top_p) total = exp_sum(work_.data(), n_vocab, max_logit, w);
    if (use_min_p) {
      const float threshold = max_logit + std::log(params_.min_p);
      const int32_t threshold_key = order_key(threshold);
      for (size_t b = 0; b < n_vocab; b += kScanBlock) {
        const size_t e = std::min(n_vocab, b + kScanBlock);
        if (max_key(work_.data() + b, e - b) < threshold_key) continue;
        for (size_t i = b; i < e; ++i) {
          if (work_[i] >= threshold) c[count++] = {work_[i], static_cast<int32_t>(i)};
        }
      }
    } else {
      for (size_t i = 0; i < n_vocab; ++i) c[i] = {work_[i], static_cast<int32_t>(i)};
      count = n_vocab;
    }
  }

  // top-p and min-p each keep a best-first prefix of the candidates, so the survivors are the
  // shorter of the two prefixes. min-p is relative to the max, which top-p never removes.
  size_t keep = count;
  if (use_min_p && sorted == count) {
    const float threshold = max_logit + std::log(params_.min_p);
    while (keep > 1 && c[keep - 1].logit < threshold) --keep;
  }
  if (use_top_p) {
    const double target = params_.top_p * total;
    if (sorted == count) {
      double cum = 0.0;
      for (size_t i = 0; i < keep; ++i) {
        cum += fast_exp(c[i].logit - max_logit);
        if (cum >= target) {
          keep = i + 1;
          break;
        }
      }
    } else {
      keep = select_nucleus(keep, target, max_logit);
    }
  }

  // Temperature, then the draw. A temperature so small that 1/T overflows is greedy.
  const float inv_t = 1.0f / params_.temperature;
  if (!std::isfinite(inv_t)) return argmax();
  for (size_t i = 0; i < keep; ++i) w[i] = fast_exp((c[i].logit - max_logit) * inv_t);
  double sum = 0.0;
  for (size_t i = 0; i < keep; ++i) sum += w[i];
  const double target = uniform01() * sum;
  double cum = 0.0;
  size_t last_nonzero = 0;
  for (size_t i = 0; i < keep; ++i) {
    if (w[i] <= 0.0f) continue;
    cum += w[i];
    last_nonzero = i;
    if (target < cum) return c[i].id;
  }
  return c[last_nonzero].id;  // rounding left the target at the very end of the mass
}

}  // namespace xnai::runtime
