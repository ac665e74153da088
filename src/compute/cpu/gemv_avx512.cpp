// AVX-512 VNNI decode kernels (few activation columns): rows are read straight from their
// GGUF layout, several blocks per 512-bit load, with vpermt2w gathering the quants and
// vpermw the fp16 scales. The activation column is converted once into a layout that lines
// up with the gathered weights and carries its integer offset corrections, so every block
// dot stays an exact integer as in ggml. Loads past a row's end are masked (never touch
// memory beyond the weights).
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "compute/cpu/kquant_scales.h"
#include "compute/cpu/matmul_kernels.h"
#include "compute/cpu/simd_avx512.h"
#include "core/fp16.h"
#include "core/quant_blocks.h"

namespace xnai::cpu::detail {
namespace {

// _mm512_cvtepi32_ps without GCC 12's uninitialized-operand warning.

// Quantizes x (K values) to Q8_0 blocks with ggml's x86 bytes, zero-padding to nb_padded.
void quantize_q8_0_padded(const float* x, int64_t K, BlockQ8_0* blocks, int64_t nb_padded) {
  kernels(DType::Q8_0, SimdLevel::Avx2).from_float(x, blocks, K);
  for (int64_t b = K / 32; b < nb_padded; ++b) std::memset(&blocks[b], 0, sizeof(BlockQ8_0));
}

// ---------------------------------------------------------------------------------------
// Q4_0: four blocks (72 bytes) per step. Converted activation, per group of 4 blocks:
//   int8  lo[64]    values 0-15 of blocks 0..3 (matches the low nibbles of the 4 qs)
//   int8  hi[64]    values 16-31 of blocks 0..3
//   int32 corr[16]  −8 × the sum of the 8 activation bytes each int32 lane multiplies
//   float d[16]     block scale, 4 lanes per block
constexpr int64_t kQ4Group = 256;

size_t q4_0_act_bytes(int64_t K) { return static_cast<size_t>((K / 32 + 3) / 4) * kQ4Group; }

void q4_0_pack_act(const float* x, int64_t K, int64_t u0, int64_t u1, uint8_t* out) {
  BlockQ8_0 q[64];  // 16 groups per chunk
  for (int64_t g0 = u0; g0 < u1; g0 += 16) {
    const int64_t ng = std::min<int64_t>(16, u1 - g0);
    const int64_t k0 = g0 * 128, kn = std::min<int64_t>(K - k0, ng * 128);
    quantize_q8_0_padded(x + k0, kn, q, ng * 4);
    for (int64_t g = 0; g < ng; ++g) {
      uint8_t* o = out + (g0 + g) * kQ4Group;
      int32_t* corr = reinterpret_cast<int32_t*>(o + 128);
      float* d = reinterpret_cast<float*>(o + 192);
      for (int k = 0; k < 4; ++k) {
        const BlockQ8_0& b = q[4 * g + k];
        std::memcpy(o + 16 * k, b.qs, 16);
        std::memcpy(o + 64 + 16 * k, b.qs + 16, 16);
        const float dk = half_to_float(b.d);
        for (int l = 0; l < 4; ++l) {
          int s = 0;
          for (int i = 0; i < 4; ++i) s += b.qs[4 * l + i] + b.qs[16 + 4 * l + i];
          corr[4 * k + l] = -8 * s;
          d[4 * k + l] = dk;
        }
      }
    }
  }
}

// One row against C converted columns (columns act_stride apart); out[c] = dot.
template <int C>
inline void q4_0_row(const uint8_t* row, int64_t row_bytes, int64_t groups, const uint8_t* act,
                     size_t act_stride, float* out) {
  alignas(64) static constexpr int16_t kQ[32] = {1,  2,  3,  4,  5,  6,  7,  8,  10, 11, 12,
                                                 13, 14, 15, 16, 17, 19, 20, 21, 22, 23, 24,
                                                 25, 26, 28, 29, 30, 31, 32, 33, 34, 35};
  alignas(64) static constexpr int16_t kD[32] = {0, 0, 0, 0, 9, 9, 9, 9, 18, 18, 18, 18, 27, 27, 27, 27};
  const __m512i qidx = _mm512_load_si512(kQ);
  const __m512i didx = _mm512_load_si512(kD);
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  __m512 acc[C];
  for (int c = 0; c < C; ++c) acc[c] = _mm512_setzero_ps();
  for (int64_t g = 0; g < groups; ++g) {
    const uint8_t* p = row + g * 72;
    const int64_t left = row_bytes - g * 72;
    const __m512i z0 = _mm512_maskz_loadu_epi8(byte_mask(left), p);
    const __m512i z1 = _mm512_maskz_loadu_epi8(byte_mask(std::min<int64_t>(left - 64, 8)), p + 64);
    const __m512i q = _mm512_permutex2var_epi16(z0, qidx, z1);
    const __m512i lo = _mm512_and_si512(q, m4), hi = _mm512_and_si512(_mm512_srli_epi16(q, 4), m4);
    const __m512 dw = halves_to_ps(_mm512_permutexvar_epi16(didx, z0));
    for (int c = 0; c < C; ++c) {
      const uint8_t* a = act + c * act_stride + g * kQ4Group;
      __m512i t = _mm512_dpbusd_epi32(_mm512_loadu_si512(a + 128), lo, _mm512_loadu_si512(a));
      t = _mm512_dpbusd_epi32(t, hi, _mm512_loadu_si512(a + 64));
      acc[c] = _mm512_fmadd_ps(
          to_ps(t), _mm512_mul_ps(dw, _mm512_loadu_ps(reinterpret_cast<const float*>(a + 192))), acc[c]);
    }
  }
  for (int c = 0; c < C; ++c) out[c] = reduce_add(acc[c]);
}

// Rows × columns, up to 4 columns per pass over a row.
template <void (*Row1)(const uint8_t*, int64_t, int64_t, const uint8_t*, size_t, float*),
          void (*Row2)(const uint8_t*, int64_t, int64_t, const uint8_t*, size_t, float*),
          void (*Row3)(const uint8_t*, int64_t, int64_t, const uint8_t*, size_t, float*),
          void (*Row4)(const uint8_t*, int64_t, int64_t, const uint8_t*, size_t, float*)>
void run_columns(int64_t row_bytes, int64_t steps, const uint8_t* w, size_t w_stride, int64_t nr,
                 const uint8_t* act, size_t act_stride, int64_t nc, float* y, int64_t ldy) {
  for (int64_t c0 = 0; c0 < nc; c0 += 4) {
    const int64_t n = std::min<int64_t>(4, nc - c0);
    const uint8_t* a = act + c0 * act_stride;
    for (int64_t r = 0; r < nr; ++r) {
      float out[4];
      const uint8_t* row = w + r * w_stride;
      switch (n) {
        case 1:
          Row1(row, row_bytes, steps, a, act_stride, out);
          break;
        case 2:
          Row2(row, row_bytes, steps, a, act_stride, out);
          break;
        case 3:
          Row3(row, row_bytes, steps, a, act_stride, out);
          break;
        default:
          Row4(row, row_bytes, steps, a, act_stride, out);
          break;
      }
      for (int64_t c = 0; c < n; ++c) y[(c0 + c) * ldy + r] = out[c];
    }
  }
}

void q4_0_run(int64_t K, const uint8_t* w, size_t w_stride, int64_t nr, const uint8_t* act, size_t act_stride,
              int64_t nc, float* y, int64_t ldy) {
  run_columns<q4_0_row<1>, q4_0_row<2>, q4_0_row<3>, q4_0_row<4>>(K / 32 * 18, (K / 32 + 3) / 4, w, w_stride,
                                                                  nr, act, act_stride, nc, y, ldy);
}

// ---------------------------------------------------------------------------------------
// Q8_0: two blocks (68 bytes) per step. Converted activation, per pair of blocks:
//   int8  qs[64]     the two blocks' quants
//   int32 corr[16]   −128 × the sum of the 4 bytes each lane multiplies (weights are +128)
//   float d[16]      block scale, 8 lanes per block
constexpr int64_t kQ8Pair = 192;

size_t q8_0_act_bytes(int64_t K) { return static_cast<size_t>((K / 32 + 1) / 2) * kQ8Pair; }

void q8_0_pack_act(const float* x, int64_t K, int64_t u0, int64_t u1, uint8_t* out) {
  BlockQ8_0 q[64];  // 32 pairs per chunk
  for (int64_t p0 = u0; p0 < u1; p0 += 32) {
    const int64_t np = std::min<int64_t>(32, u1 - p0);
    const int64_t k0 = p0 * 64, kn = std::min<int64_t>(K - k0, np * 64);
    quantize_q8_0_padded(x + k0, kn, q, np * 2);
    for (int64_t p = 0; p < np; ++p) {
      uint8_t* o = out + (p0 + p) * kQ8Pair;
      int32_t* corr = reinterpret_cast<int32_t*>(o + 64);
      float* d = reinterpret_cast<float*>(o + 128);
      for (int k = 0; k < 2; ++k) {
        const BlockQ8_0& b = q[2 * p + k];
        std::memcpy(o + 32 * k, b.qs, 32);
        const float dk = half_to_float(b.d);
        for (int l = 0; l < 8; ++l) {
          corr[8 * k + l] = -128 * (b.qs[4 * l] + b.qs[4 * l + 1] + b.qs[4 * l + 2] + b.qs[4 * l + 3]);
          d[8 * k + l] = dk;
        }
      }
    }
  }
}

template <int C>
inline void q8_0_row(const uint8_t* row, int64_t row_bytes, int64_t pairs, const uint8_t* act,
                     size_t act_stride, float* out) {
  alignas(64) static constexpr int16_t kQ[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                                 12, 13, 14, 15, 16, 18, 19, 20, 21, 22, 23,
                                                 24, 25, 26, 27, 28, 29, 30, 31, 32, 33};
  alignas(64) static constexpr int16_t kD[32] = {0, 0, 0, 0, 0, 0, 0, 0, 17, 17, 17, 17, 17, 17, 17, 17};
  const __m512i qidx = _mm512_load_si512(kQ);
  const __m512i didx = _mm512_load_si512(kD);
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  __m512 acc[C];
  for (int c = 0; c < C; ++c) acc[c] = _mm512_setzero_ps();
  for (int64_t p = 0; p < pairs; ++p) {
    const uint8_t* src = row + p * 68;
    const int64_t left = row_bytes - p * 68;
    const __m512i z0 = _mm512_maskz_loadu_epi8(byte_mask(left), src);
    const __m512i z1 = _mm512_maskz_loadu_epi8(byte_mask(std::min<int64_t>(left - 64, 4)), src + 64);
    const __m512i q = _mm512_xor_si512(_mm512_permutex2var_epi16(z0, qidx, z1), flip);
    const __m512 dw = halves_to_ps(_mm512_permutexvar_epi16(didx, z0));
    for (int c = 0; c < C; ++c) {
      const uint8_t* a = act + c * act_stride + p * kQ8Pair;
      const __m512i t = _mm512_dpbusd_epi32(_mm512_loadu_si512(a + 64), q, _mm512_loadu_si512(a));
      acc[c] = _mm512_fmadd_ps(
          to_ps(t), _mm512_mul_ps(dw, _mm512_loadu_ps(reinterpret_cast<const float*>(a + 128))), acc[c]);
    }
  }
  for (int c = 0; c < C; ++c) out[c] = reduce_add(acc[c]);
}

void q8_0_run(int64_t K, const uint8_t* w, size_t w_stride, int64_t nr, const uint8_t* act, size_t act_stride,
              int64_t nc, float* y, int64_t ldy) {
  run_columns<q8_0_row<1>, q8_0_row<2>, q8_0_row<3>, q8_0_row<4>>(K / 32 * 34, (K / 32 + 1) / 2, w, w_stride,
                                                                  nr, act, act_stride, nc, y, ldy);
}

// ---------------------------------------------------------------------------------------
// K-quants: one super-block (256 values) per step. Converted activation per super-block:
// the Q8_K quants (for Q4_K / Q5_K reordered to line up with the nibble halves of each
// 64-byte load: [0..31, 64..95], [32..63, 96..127], [128..159, 192..223], [160..191, 224..255]),
// the bsums, their pair sums (one per 32 values) and d.
struct ActK {
  int8_t qs[256];
  int16_t bsums[16];
  int16_t pairs[8];
  float d;
  float pad[3];
};
static_assert(sizeof(ActK) == 320);

size_t kq_act_bytes(int64_t K) { return static_cast<size_t>(K / 256) * sizeof(ActK); }

template <bool kReorder>
void kq_pack_act(const float* x, int64_t /*K*/, int64_t u0, int64_t u1, uint8_t* out) {
  auto* a = reinterpret_cast<ActK*>(out);
  const TypeKernels& q8k = kernels(DType::Q8_K, SimdLevel::Avx2);
  for (int64_t i = u0; i < u1; ++i) {
    BlockQ8_K b;
    q8k.from_float(x + 256 * i, &b, 256);
    if constexpr (kReorder) {
      static constexpr int kSrc[8] = {0, 64, 32, 96, 128, 192, 160, 224};
      for (int c = 0; c < 8; ++c) std::memcpy(a[i].qs + 32 * c, b.qs + kSrc[c], 32);
    } else {
      std::memcpy(a[i].qs, b.qs, 256);
    }
    std::memcpy(a[i].bsums, b.bsums, sizeof b.bsums);
    for (int k = 0; k < 8; ++k) a[i].pairs[k] = static_cast<int16_t>(b.bsums[2 * k] + b.bsums[2 * k + 1]);
    a[i].d = b.d;
    a[i].pad[0] = a[i].pad[1] = a[i].pad[2] = 0.0f;
  }
}

// Per-lane int16 scales for the four 64-value vectors: vector k takes the words kIdx[k].
alignas(64) constexpr int16_t kK4ScaleIdx[4][32] = {
    {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2},
    {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3},
    {4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6},
    {5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7}};
alignas(64) constexpr int16_t kK6ScaleIdx[4][32] = {
    {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3},
    {4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7},
    {8,  8,  8,  8,  8,  8,  8,  8,  9,  9,  9,  9,  9,  9,  9,  9,
     10, 10, 10, 10, 10, 10, 10, 10, 11, 11, 11, 11, 11, 11, 11, 11},
    {12, 12, 12, 12, 12, 12, 12, 12, 13, 13, 13, 13, 13, 13, 13, 13,
     14, 14, 14, 14, 14, 14, 14, 14, 15, 15, 15, 15, 15, 15, 15, 15}};

// The 8 scales and 8 mins of a Q4_K / Q5_K super-block (header at b: d, dmin, scales[12])
// as bytes [sc0..sc7, m0..m7]; k4_unpack_scales with 32-bit lanes.
inline __m128i k4_scales(const uint8_t* b) {
  const __m128i v =
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(b));  // dwords: d|dmin, s0-3, s4-7, s8-11
  const __m128i lo = _mm_and_si128(_mm_srlv_epi32(_mm_shuffle_epi32(v, 0xED), _mm_setr_epi32(0, 0, 0, 4)),
                                   _mm_setr_epi32(0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f));
  const __m128i hi = _mm_and_si128(_mm_srli_epi32(_mm_shuffle_epi32(v, 0x84), 2),
                                   _mm_setr_epi32(0, 0x30303030, 0, 0x30303030));
  return _mm_or_si128(lo, hi);
}

// Q4_K (kFive = false) and Q5_K: one row against C converted columns.
template <bool kFive, int C>
void k4_row(const uint8_t* row, int64_t /*row_bytes*/, int64_t nsb, const uint8_t* act, size_t act_stride,
            float* out) {
  constexpr size_t kBlock = kFive ? sizeof(BlockQ5_K) : sizeof(BlockQ4_K);
  constexpr size_t kQs = kFive ? 48 : 16;
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  const __m512i m10 = _mm512_set1_epi8(0x10);
  // qh bit of each nibble vector: vector k of qs half h uses bits (4h + {0, 2}) for low and (4h + {1, 3}) for
  // high.
  const __m512i sh[4] = {_mm512_set_epi64(2, 2, 2, 2, 0, 0, 0, 0), _mm512_set_epi64(3, 3, 3, 3, 1, 1, 1, 1),
                         _mm512_set_epi64(6, 6, 6, 6, 4, 4, 4, 4), _mm512_set_epi64(7, 7, 7, 7, 5, 5, 5, 5)};
  __m512 acc[C];
  __m128 accm[C];
  for (int c = 0; c < C; ++c) acc[c] = _mm512_setzero_ps(), accm[c] = _mm_setzero_ps();
  for (int64_t i = 0; i < nsb; ++i) {
    const uint8_t* b = row + i * kBlock;
    const __m128i sm = k4_scales(b);
    const __m128i m16 = _mm_cvtepu8_epi16(_mm_unpackhi_epi64(sm, sm));
    const __m512i sc = _mm512_broadcast_i32x4(_mm_cvtepu8_epi16(sm));
    const __m512i z0 = _mm512_loadu_si512(b + kQs), z1 = _mm512_loadu_si512(b + kQs + 64);
    __m512i u[4] = {_mm512_and_si512(z0, m4), _mm512_and_si512(_mm512_srli_epi16(z0, 4), m4),
                    _mm512_and_si512(z1, m4), _mm512_and_si512(_mm512_srli_epi16(z1, 4), m4)};
    if constexpr (kFive) {
      const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 16)));
      for (int k = 0; k < 4; ++k)  // (qh >> bit) & 1 into bit 4: 0xF8 = A | (B & C)
        u[k] = _mm512_ternarylogic_epi32(u[k], _mm512_slli_epi16(_mm512_srlv_epi64(qh, sh[k]), 4), m10, 0xF8);
    }
    __m512i s[4];
    for (int k = 0; k < 4; ++k) s[k] = _mm512_permutexvar_epi16(_mm512_load_si512(kK4ScaleIdx[k]), sc);
    const float dw = half_to_float(load_u16(b)), dmin = half_to_float(load_u16(b + 2));
    for (int c = 0; c < C; ++c) {
      const ActK& a = reinterpret_cast<const ActK*>(act + c * act_stride)[i];
      __m512i isum = _mm512_setzero_si512();
      for (int k = 0; k < 4; ++k)
        isum = _mm512_dpwssd_epi32(isum, _mm512_maddubs_epi16(u[k], _mm512_loadu_si512(a.qs + 64 * k)), s[k]);
      acc[c] = _mm512_fmadd_ps(to_ps(isum), _mm512_set1_ps(a.d * dw), acc[c]);
      const __m128i mins = _mm_madd_epi16(m16, _mm_loadu_si128(reinterpret_cast<const __m128i*>(a.pairs)));
      accm[c] = _mm_fmadd_ps(_mm_cvtepi32_ps(mins), _mm_set1_ps(a.d * dmin), accm[c]);
    }
  }
  for (int c = 0; c < C; ++c) {
    __m128 m = _mm_add_ps(accm[c], _mm_movehl_ps(accm[c], accm[c]));
    m = _mm_add_ss(m, _mm_movehdup_ps(m));
    out[c] = reduce_add(acc[c]) - _mm_cvtss_f32(m);
  }
}

template <int C>
void q6_K_row(const uint8_t* row, int64_t /*row_bytes*/, int64_t nsb, const uint8_t* act, size_t act_stride,
              float* out) {
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  const __m512i m30 = _mm512_set1_epi8(0x30);
  // Low nibbles of a 64-byte ql half take qh bits 0-1 (first 32) and 2-3; high nibbles 4-5 and 6-7.
  const __m512i sh_lo = _mm512_set_epi64(2, 2, 2, 2, 0, 0, 0, 0),
                sh_hi = _mm512_set_epi64(6, 6, 6, 6, 4, 4, 4, 4);
  __m512 acc[C];
  for (int c = 0; c < C; ++c) acc[c] = _mm512_setzero_ps();
  for (int64_t i = 0; i < nsb; ++i) {
    const auto* b = reinterpret_cast<const BlockQ6_K*>(row + i * sizeof(BlockQ6_K));
    const __m256i sc8 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b->scales)));
    const __m512i sc = _mm512_castsi256_si512(sc8);
    const __m512i qh = _mm512_loadu_si512(b->qh);
    __m512i u[4], s[4];
    for (int h = 0; h < 2; ++h) {
      const __m512i z = _mm512_loadu_si512(b->ql + 64 * h);
      // This half's 32 qh bytes twice (the immediate must be a literal for clang).
      const __m512i hd = h == 0 ? _mm512_shuffle_i64x2(qh, qh, 0x44) : _mm512_shuffle_i64x2(qh, qh, 0xEE);
      // u = nibble | ((qh >> s) << 4 & 0x30): 0xF8 = A | (B & C).
      u[2 * h] = _mm512_ternarylogic_epi32(_mm512_and_si512(z, m4),
                                           _mm512_slli_epi16(_mm512_srlv_epi64(hd, sh_lo), 4), m30, 0xF8);
      u[2 * h + 1] = _mm512_ternarylogic_epi32(_mm512_and_si512(_mm512_srli_epi16(z, 4), m4),
                                               _mm512_slli_epi16(_mm512_srlv_epi64(hd, sh_hi), 4), m30, 0xF8);
    }
    for (int k = 0; k < 4; ++k) s[k] = _mm512_permutexvar_epi16(_mm512_load_si512(kK6ScaleIdx[k]), sc);
    const float dw = half_to_float(b->d);
    for (int c = 0; c < C; ++c) {
      const ActK& a = reinterpret_cast<const ActK*>(act + c * act_stride)[i];
      // Values are u − 32: Σ sc·u·a − 32·Σ sc·bsum.
      const __m256i corr =
          _mm256_madd_epi16(sc8, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.bsums)));
      __m512i isum =
          _mm512_zextsi256_si512(_mm256_slli_epi32(_mm256_sub_epi32(_mm256_setzero_si256(), corr), 5));
      for (int k = 0; k < 4; ++k)
        isum = _mm512_dpwssd_epi32(isum, _mm512_maddubs_epi16(u[k], _mm512_loadu_si512(a.qs + 64 * k)), s[k]);
      acc[c] = _mm512_fmadd_ps(to_ps(isum), _mm512_set1_ps(a.d * dw), acc[c]);
    }
  }
  for (int c = 0; c < C; ++c) out[c] = reduce_add(acc[c]);
}

template <bool kFive>
void k4_run(int64_t K, const uint8_t* w, size_t w_stride, int64_t nr, const uint8_t* act, size_t act_stride,
            int64_t nc, float* y, int64_t ldy) {
  run_columns<k4_row<kFive, 1>, k4_row<kFive, 2>, k4_row<kFive, 3>, k4_row<kFive, 4>>(
      0, K / 256, w, w_stride, nr, act, act_stride, nc, y, ldy);
}

void q6_K_run(int64_t K, const uint8_t* w, size_t w_stride, int64_t nr, const uint8_t* act, size_t act_stride,
              int64_t nc, float* y, int64_t ldy) {
  run_columns<q6_K_row<1>, q6_K_row<2>, q6_K_row<3>, q6_K_row<4>>(0, K / 256, w, w_stride, nr, act,
                                                                  act_stride, nc, y, ldy);
}

// max_columns: where one thread's time for 2048×2048 crosses the tiled kernel's (packing included).
constexpr GemvKernel kQ4_0{q4_0_act_bytes, 128, 4, q4_0_pack_act, q4_0_run};
constexpr GemvKernel kQ8_0{q8_0_act_bytes, 64, 3, q8_0_pack_act, q8_0_run};
constexpr GemvKernel kQ4_K{kq_act_bytes, 256, 5, kq_pack_act<true>, k4_run<false>};
constexpr GemvKernel kQ5_K{kq_act_bytes, 256, 5, kq_pack_act<true>, k4_run<true>};
constexpr GemvKernel kQ6_K{kq_act_bytes, 256, 8, kq_pack_act<false>, q6_K_run};

}  // namespace

const GemvKernel* gemv_kernel_avx512(DType wtype) {
  switch (wtype) {
    case DType::Q4_0:
      return &kQ4_0;
    case DType::Q8_0:
      return &kQ8_0;
    case DType::Q4_K:
      return &kQ4_K;
    case DType::Q5_K:
      return &kQ5_K;
    case DType::Q6_K:
      return &kQ6_K;
    default:
      return nullptr;
  }
}

}  // namespace xnai::cpu::detail
