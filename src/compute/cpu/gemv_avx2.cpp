// AVX2 decode kernel for Q4_0 (the other types use their vec_dot, which already streams
// fast enough on AVX2). Two blocks share a 256-bit register ([b0 low nibbles, b1 low] and
// [b0 high, b1 high]); eight blocks are reduced together with two rounds of vphaddd so the
// convert / scale / add runs once per 8 blocks instead of once per block. The activation is
// converted once into the matching arrangement with its −8·Σa corrections precomputed, so
// block dots stay exact integers.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "compute/cpu/matmul_kernels.h"
#include "compute/cpu/simd_avx2.h"
#include "core/quant_blocks.h"

namespace xnai::cpu::detail {
namespace {

// Per group of 8 blocks: 4 pairs of {int8 lo[32], int8 hi[32], int32 corr[8]}, then the 8
// block scales in the order the reduction leaves the sums: blocks 0,2,4,6,1,3,5,7.
constexpr int64_t kPair = 96;
constexpr int64_t kGroup = 4 * kPair + 32;

size_t act_bytes(int64_t K) { return static_cast<size_t>((K / 32 + 7) / 8) * kGroup; }

void pack_act(const float* x, int64_t K, int64_t u0, int64_t u1, uint8_t* out) {
  static constexpr int kOrder[8] = {0, 2, 4, 6, 1, 3, 5, 7};
  const TypeKernels& q8 = kernels(DType::Q8_0, SimdLevel::Avx2);
  for (int64_t g = u0; g < u1; ++g) {
    BlockQ8_0 b[8];
    const int64_t k0 = g * 256, kn = std::min<int64_t>(K - k0, 256);
    q8.from_float(x + k0, b, kn);
    for (int64_t i = kn / 32; i < 8; ++i) std::memset(&b[i], 0, sizeof b[i]);
    uint8_t* o = out + g * kGroup;
    for (int p = 0; p < 4; ++p) {
      uint8_t* q = o + p * kPair;
      int32_t* corr = reinterpret_cast<int32_t*>(q + 64);
      for (int k = 0; k < 2; ++k) {
        const BlockQ8_0& blk = b[2 * p + k];
        std::memcpy(q + 16 * k, blk.qs, 16);
        std::memcpy(q + 32 + 16 * k, blk.qs + 16, 16);
        for (int l = 0; l < 4; ++l) {
          int s = 0;
          for (int i = 0; i < 4; ++i) s += blk.qs[4 * l + i] + blk.qs[16 + 4 * l + i];
          corr[4 * k + l] = -8 * s;
        }
      }
    }
    float* d = reinterpret_cast<float*>(o + 4 * kPair);
    for (int i = 0; i < 8; ++i) d[i] = half_to_float(b[kOrder[i]].d);
  }
}

inline __m256i load32(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// Exact dots of blocks b, b+1 (b+1 absent when !both): lanes 0-3 block b, 4-7 block b+1.
inline __m256i pair_dot(const uint8_t* row, int64_t b, bool both, const uint8_t* a) {
  const __m128i q0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + b * 18 + 2));
  const __m128i q1 =
      both ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + b * 18 + 20)) : _mm_setzero_si128();
  const __m256i q = _mm256_set_m128i(q1, q0);
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i lo = _mm256_and_si256(q, m4), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
  const __m256i p16 =
      _mm256_add_epi16(_mm256_maddubs_epi16(lo, load32(a)), _mm256_maddubs_epi16(hi, load32(a + 32)));
  return _mm256_add_epi32(_mm256_madd_epi16(p16, _mm256_set1_epi16(1)), load32(a + 64));
}

float row_dot(const uint8_t* row, int64_t nb, const uint8_t* act) {
  const __m256i gather_idx = _mm256_setr_epi32(0, 36, 72, 108, 18, 54, 90, 126);
  __m256 acc = _mm256_setzero_ps();
  int64_t b = 0;
  for (; b + 8 <= nb; b += 8) {
    const uint8_t* a = act + (b / 8) * kGroup;
    const __m256i t0 = pair_dot(row, b, true, a), t1 = pair_dot(row, b + 2, true, a + kPair);
    const __m256i t2 = pair_dot(row, b + 4, true, a + 2 * kPair),
                  t3 = pair_dot(row, b + 6, true, a + 3 * kPair);
    // hadd(hadd(t0, t1), hadd(t2, t3)) = block sums in the order 0,2,4,6 | 1,3,5,7.
    const __m256i sums = _mm256_hadd_epi32(_mm256_hadd_epi32(t0, t1), _mm256_hadd_epi32(t2, t3));
    // The 8 fp16 scales (the low half of the dword at each block start), same order.
    const __m256i dd = _mm256_i32gather_epi32(reinterpret_cast<const int*>(row + b * 18), gather_idx, 1);
    const __m256i packed = _mm256_permute4x64_epi64(
        _mm256_packus_epi32(_mm256_and_si256(dd, _mm256_set1_epi32(0xFFFF)), _mm256_setzero_si256()), 0x08);
    const __m256 dw = _mm256_cvtph_ps(_mm256_castsi256_si128(packed));
    const __m256 da = _mm256_loadu_ps(reinterpret_cast<const float*>(a + 4 * kPair));
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), _mm256_mul_ps(dw, da), acc);
  }
  // Tail: fewer than 8 blocks, pair by pair.
  for (; b < nb; b += 2) {
    const uint8_t* a = act + (b / 8) * kGroup + ((b % 8) / 2) * kPair;
    const bool both = b + 1 < nb;
    const __m256i t = pair_dot(row, b, both, a);
    const float* da = reinterpret_cast<const float*>(act + (b / 8) * kGroup + 4 * kPair);
    const int slot0 = static_cast<int>((b % 8) / 2),
              slot1 = 4 + slot0;  // positions in the 0,2,4,6,1,3,5,7 order
    const float s0 = half_to_float(load_u16(row + b * 18)) * da[slot0];
    const float s1 = both ? half_to_float(load_u16(row + b * 18 + 18)) * da[slot1] : 0.0f;
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(t), _mm256_setr_ps(s0, s0, s0, s0, s1, s1, s1, s1), acc);
  }
  return hsum_ps(acc);
}

void run(int64_t K, const uint8_t* w, size_t w_stride, int64_t nr, const uint8_t* act, size_t act_stride,
         int64_t nc, float* y, int64_t ldy) {
  for (int64_t c = 0; c < nc; ++c)
    for (int64_t r = 0; r < nr; ++r) y[c * ldy + r] = row_dot(w + r * w_stride, K / 32, act + c * act_stride);
}

constexpr GemvKernel kQ4_0{act_bytes, 256, 3, pack_act, run};  // one column per pass: tiles win from 4

}  // namespace

const GemvKernel* gemv_kernel_avx2(DType wtype) { return wtype == DType::Q4_0 ? &kQ4_0 : nullptr; }

}  // namespace xnai::cpu::detail
