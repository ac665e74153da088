// Random tensor contents for synthetic models, written straight into the output mapping.
//
// Quantized types get random quant bytes (uniform codes) and one scale per block chosen so
// the decoded values have a standard deviation near `stddev`, with a ±25% jitter between
// blocks so no kernel sees a degenerate constant-scale pattern. Every scale is a normal
// (not subnormal) finite fp16. Q8_0 codes avoid -128, which ggml's quantizer never emits
// and some int8 SIMD tricks (sign/abs) cannot represent. Uniform 4-bit codes would decode
// to a mean of −0.5·d (a bias of −0.1σ): Q4_0 turns code 0 into 8 so values are symmetric
// in [−7, 7], and Q4_K uses m = sc with dmin = 7.5·d, so a sub-block decodes as
// d·sc·(q − 7.5). Q5_0 and Q6_K keep a small bias (−0.05σ, −0.03σ).
//
// The bytes are produced in fixed-size chunks, each with its own generator seeded from
// (seed, chunk index), so the output does not depend on how many threads split the work.
#include <cmath>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "core/fp16.h"
#include "core/quant_blocks.h"
#include "core/thread_pool.h"
#include "models/synth/synth_internal.h"

namespace xnai::synth::detail {
namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// wyrand: one 64x64→128 multiply per 8 random bytes.
struct Rng {
  uint64_t s;
  uint64_t next() {
    s += 0xa0761d6478bd642full;
    const __uint128_t m = static_cast<__uint128_t>(s) * (s ^ 0xe7037ed1a0b428dbull);
    return static_cast<uint64_t>(m >> 64) ^ static_cast<uint64_t>(m);
  }
  float uniform() { return static_cast<float>(next() >> 40) * (1.0f / 16777216.0f); }  // [0, 1)
  void bytes(uint8_t* dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      const uint64_t r = next();
      std::memcpy(dst + i, &r, 8);
    }
    if (i < n) {
      const uint64_t r = next();
      std::memcpy(dst + i, &r, n - i);
    }
  }
};

uint16_t jittered_scale(Rng& rng, float base) { return f32_to_fp16(base * (0.75f + 0.5f * rng.uniform())); }

// Standard deviations of the uniform code distributions (sqrt((k² − 1) / 12) for k codes).
constexpr float kStd16 = 4.6097722f;    // 16 codes (4 bits)
constexpr float kStd15 = 4.1833001f;    // Q4_0 codes −7..7 with 0 twice: sqrt(2·140 / 16)
constexpr float kStd32 = 9.2330927f;    // 32 codes (5 bits)
constexpr float kStd64 = 18.472953f;    // 64 codes (6 bits)
constexpr float kStd255 = 73.611F;      // int8 codes in [-127, 127]
constexpr float kQ4KMeanScale = 47.5f;  // sub-block scales uniform in [32, 63]
constexpr float kQ6KMeanScale = 11.5f;  // sub-block scales uniform in [8, 15]

void fill_q4_0(uint8_t* p, Rng& rng, float sd) {
  BlockQ4_0 b;
  b.d = jittered_scale(rng, sd / kStd15);
  rng.bytes(b.qs, sizeof(b.qs));
  for (auto& q : b.qs) {
    const uint8_t lo = q & 15, hi = q >> 4;
    q = static_cast<uint8_t>((lo ? lo : 8) | ((hi ? hi : 8) << 4));
  }
  std::memcpy(p, &b, sizeof(b));
}

void fill_q5_0(uint8_t* p, Rng& rng, float sd) {
  BlockQ5_0 b;
  b.d = jittered_scale(rng, sd / kStd32);
  rng.bytes(b.qh, sizeof(b.qh));
  rng.bytes(b.qs, sizeof(b.qs));
  std::memcpy(p, &b, sizeof(b));
}

void fill_q8_0(uint8_t* p, Rng& rng, float sd) {
  BlockQ8_0 b;
  b.d = jittered_scale(rng, sd / kStd255);
  rng.bytes(reinterpret_cast<uint8_t*>(b.qs), sizeof(b.qs));
  for (auto& q : b.qs)
    if (q == -128) q = -127;
  std::memcpy(p, &b, sizeof(b));
}

void fill_q4_k(uint8_t* p, Rng& rng, float sd) {
  BlockQ4_K b;
  b.d = jittered_scale(rng, sd / (kStd16 * kQ4KMeanScale));
  b.dmin = f32_to_fp16(7.5f * fp16_to_f32(b.d));
  uint8_t sc[8];
  const uint64_t r = rng.next();
  for (int j = 0; j < 8; ++j) sc[j] = static_cast<uint8_t>(32 + ((r >> (5 * j)) & 31));
  // 6-bit scale / min pairs packed as ggml's get_scale_min_k4 reads them; min = scale.
  for (int j = 0; j < 4; ++j) {
    b.scales[j] = static_cast<uint8_t>((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
    b.scales[j + 4] = b.scales[j];
    b.scales[j + 8] = static_cast<uint8_t>((sc[j + 4] & 15) | ((sc[j + 4] & 15) << 4));
  }
  rng.bytes(b.qs, sizeof(b.qs));
  std::memcpy(p, &b, sizeof(b));
}

void fill_q6_k(uint8_t* p, Rng& rng, float sd) {
  BlockQ6_K b;
  rng.bytes(b.ql, sizeof(b.ql));
  rng.bytes(b.qh, sizeof(b.qh));
  const uint64_t r = rng.next();
  for (int j = 0; j < 16; ++j) b.scales[j] = static_cast<int8_t>(8 + ((r >> (3 * j)) & 7));
  b.d = jittered_scale(rng, sd / (kStd64 * kQ6KMeanScale));
  std::memcpy(p, &b, sizeof(b));
}

// 65536 samples of N(0, stddev): plain types draw 16 random bits per value.
std::vector<float> normal_table(float stddev) {
  std::vector<float> t(65536);
  Rng rng{0x5eed5eedull};
  for (size_t i = 0; i < t.size(); i += 2) {
    const float u1 = std::max(rng.uniform(), 1e-7f), u2 = rng.uniform();
    const float r = std::sqrt(-2.0f * std::log(u1)) * stddev;
    t[i] = r * std::cos(6.2831853f * u2);
    t[i + 1] = r * std::sin(6.2831853f * u2);
  }
  return t;
}

template <class Fill>
void run_chunks(uint8_t* dst, size_t n_units, size_t unit_bytes, uint64_t seed, ThreadPool& pool, Fill fill) {
  const size_t units_per_chunk = std::max<size_t>(1, (256u << 10) / unit_bytes);
  const int64_t n_chunks = static_cast<int64_t>((n_units + units_per_chunk - 1) / units_per_chunk);
  pool.run([&](int ith, int nth) {
    const auto [c0, c1] = ThreadPool::split(n_chunks, ith, nth);
    for (int64_t c = c0; c < c1; ++c) {
      Rng rng{splitmix64(seed ^ splitmix64(static_cast<uint64_t>(c)))};
      const size_t u0 = static_cast<size_t>(c) * units_per_chunk;
      const size_t u1 = std::min(n_units, u0 + units_per_chunk);
      fill(dst + u0 * unit_bytes, u1 - u0, rng);
    }
  });
}

template <void (*FillBlock)(uint8_t*, Rng&, float)>
void fill_blocks(uint8_t* dst, size_t nbytes, size_t block_bytes, uint64_t seed, float sd, ThreadPool& pool) {
  run_chunks(dst, nbytes / block_bytes, block_bytes, seed, pool, [&](uint8_t* p, size_t n, Rng& rng) {
    for (size_t i = 0; i < n; ++i) FillBlock(p + i * block_bytes, rng, sd);
  });
}

}  // namespace

uint64_t tensor_seed(uint64_t seed, const std::string& name) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a
  for (unsigned char c : name) h = (h ^ c) * 0x100000001b3ull;
  return splitmix64(seed ^ splitmix64(h));
}

void fill_gaussian_f32(float* dst, size_t n, uint64_t seed, float mean, float stddev) {
  Rng rng{splitmix64(seed)};
  for (size_t i = 0; i < n; i += 2) {
    const float u1 = std::max(rng.uniform(), 1e-7f), u2 = rng.uniform();
    const float r = std::sqrt(-2.0f * std::log(u1)) * stddev;
    dst[i] = mean + r * std::cos(6.2831853f * u2);
    if (i + 1 < n) dst[i + 1] = mean + r * std::sin(6.2831853f * u2);
  }
}

void fill_random(DType type, uint8_t* dst, size_t nbytes, uint64_t seed, float stddev, ThreadPool& pool) {
  switch (type) {
    case DType::Q4_0:
      return fill_blocks<fill_q4_0>(dst, nbytes, sizeof(BlockQ4_0), seed, stddev, pool);
    case DType::Q5_0:
      return fill_blocks<fill_q5_0>(dst, nbytes, sizeof(BlockQ5_0), seed, stddev, pool);
    case DType::Q8_0:
      return fill_blocks<fill_q8_0>(dst, nbytes, sizeof(BlockQ8_0), seed, stddev, pool);
    case DType::Q4_K:
      return fill_blocks<fill_q4_k>(dst, nbytes, sizeof(BlockQ4_K), seed, stddev, pool);
    case DType::Q6_K:
      return fill_blocks<fill_q6_k>(dst, nbytes, sizeof(BlockQ6_K), seed, stddev, pool);
    case DType::F16: {
      const std::vector<float> table = normal_table(stddev);
      std::vector<uint16_t> half(table.size());
      for (size_t i = 0; i < table.size(); ++i) half[i] = f32_to_fp16(table[i]);
      run_chunks(dst, nbytes / 2, 2, seed, pool, [&](uint8_t* p, size_t n, Rng& rng) {
        uint16_t* out = reinterpret_cast<uint16_t*>(p);  // tensor data is 32-byte aligned
        for (size_t i = 0; i < n; i += 4) {
          const uint64_t r = rng.next();
          for (size_t k = 0; k < 4 && i + k < n; ++k) out[i + k] = half[(r >> (16 * k)) & 0xffff];
        }
      });
      return;
    }
    case DType::F32: {
      const std::vector<float> table = normal_table(stddev);
      run_chunks(dst, nbytes / 4, 4, seed, pool, [&](uint8_t* p, size_t n, Rng& rng) {
        float* out = reinterpret_cast<float*>(p);
        for (size_t i = 0; i < n; i += 4) {
          const uint64_t r = rng.next();
          for (size_t k = 0; k < 4 && i + k < n; ++k) out[i + k] = table[(r >> (16 * k)) & 0xffff];
        }
      });
      return;
    }
    default:
      throw Error(ErrorKind::Unsupported,
                  std::string("synthetic weights of type ") + dtype_name(type) + " are not implemented");
  }
}

}  // namespace xnai::synth::detail
