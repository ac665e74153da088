// Packing for the tiled matmul (layouts in gemm_panel.h): every row's block is first decoded
// to unsigned bytes in value order, then 8 rows at a time are transposed by dwords into the
// panel. Per-row scales are written alongside. Also the activation packer of the 32-value
// types. AVX2 code, used by the AVX2 and AVX-512 tile kernels alike.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "compute/cpu/gemm_panel.h"
#include "compute/cpu/kquant_scales.h"
#include "compute/cpu/simd_avx2.h"
#include "core/fp16.h"
#include "core/quant_blocks.h"

namespace xnai::cpu::detail {
namespace {

inline __m256i load32(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// f32 -> bf16 (round to nearest even, as core/fp16.h) -> f32, for finite values; NaNs stay NaNs.
inline __m256 bf16_round_trip(__m256 v) {
  const __m256i u = _mm256_castps_si256(v);
  const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
  const __m256i r = _mm256_add_epi32(u, _mm256_add_epi32(lsb, _mm256_set1_epi32(0x7fff)));
  const __m256 rounded =
      _mm256_castsi256_ps(_mm256_and_si256(r, _mm256_set1_epi32(static_cast<int>(0xffff0000u))));
  return _mm256_blendv_ps(rounded, v, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
}
inline void store32(void* p, __m256i v) { _mm256_storeu_si256(static_cast<__m256i*>(p), v); }

inline uint32_t load_u32(const void* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Transposes 8 rows × 8 dwords: row i's dword g goes to out + g·64 + 4·i.
inline void transpose_8x8_store(const __m256i r[8], uint8_t* out) {
  const __m256i t0 = _mm256_unpacklo_epi32(r[0], r[1]), t1 = _mm256_unpackhi_epi32(r[0], r[1]);
  const __m256i t2 = _mm256_unpacklo_epi32(r[2], r[3]), t3 = _mm256_unpackhi_epi32(r[2], r[3]);
  const __m256i t4 = _mm256_unpacklo_epi32(r[4], r[5]), t5 = _mm256_unpackhi_epi32(r[4], r[5]);
  const __m256i t6 = _mm256_unpacklo_epi32(r[6], r[7]), t7 = _mm256_unpackhi_epi32(r[6], r[7]);
  const __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
  const __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
  const __m256i u4 = _mm256_unpacklo_epi64(t4, t6), u5 = _mm256_unpackhi_epi64(t4, t6);
  const __m256i u6 = _mm256_unpacklo_epi64(t5, t7), u7 = _mm256_unpackhi_epi64(t5, t7);
  store32(out + 0 * 64, _mm256_permute2x128_si256(u0, u4, 0x20));
  store32(out + 1 * 64, _mm256_permute2x128_si256(u1, u5, 0x20));
  store32(out + 2 * 64, _mm256_permute2x128_si256(u2, u6, 0x20));
  store32(out + 3 * 64, _mm256_permute2x128_si256(u3, u7, 0x20));
  store32(out + 4 * 64, _mm256_permute2x128_si256(u0, u4, 0x31));
  store32(out + 5 * 64, _mm256_permute2x128_si256(u1, u5, 0x31));
  store32(out + 6 * 64, _mm256_permute2x128_si256(u2, u6, 0x31));
  store32(out + 7 * 64, _mm256_permute2x128_si256(u3, u7, 0x31));
}

// Decoders: one row's block -> unsigned bytes in value order (32 or 256 of them).

inline void decode_q4_0(const uint8_t* blk, uint8_t* u) { store32(u, unpack_nibbles(blk + 2)); }
inline void decode_q4_1(const uint8_t* blk, uint8_t* u) { store32(u, unpack_nibbles(blk + 4)); }
inline void decode_q5_0(const uint8_t* blk, uint8_t* u) {
  const __m256i hi = _mm256_and_si256(expand_bits(load_u32(blk + 2)), _mm256_set1_epi8(0x10));
  store32(u, _mm256_or_si256(unpack_nibbles(blk + 6), hi));
}
inline void decode_q5_1(const uint8_t* blk, uint8_t* u) {
  const __m256i hi = _mm256_and_si256(expand_bits(load_u32(blk + 4)), _mm256_set1_epi8(0x10));
  store32(u, _mm256_or_si256(unpack_nibbles(blk + 8), hi));
}
inline void decode_q8_0(const uint8_t* blk, uint8_t* u) {
  store32(u, _mm256_xor_si256(load32(blk + 2), _mm256_set1_epi8(static_cast<char>(0x80))));
}
inline void decode_q8_0s(const uint8_t* blk, uint8_t* u) { store32(u, load32(blk + 2)); }

inline void decode_q2_K(const uint8_t* blk, uint8_t* u) {
  const auto* b = reinterpret_cast<const BlockQ2_K*>(blk);
  const __m256i m3 = _mm256_set1_epi8(3);
  for (int h = 0; h < 2; ++h) {
    const __m256i q = load32(b->qs + 32 * h);
    for (int s = 0; s < 4; ++s)
      store32(u + 128 * h + 32 * s, _mm256_and_si256(_mm256_srli_epi16(q, 2 * s), m3));
  }
}

inline void decode_q3_K(const uint8_t* blk, uint8_t* u) {
  const auto* b = reinterpret_cast<const BlockQ3_K*>(blk);
  const __m256i m3 = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1);
  const __m256i hm = load32(b->hmask);
  for (int h = 0; h < 2; ++h) {
    const __m256i q = load32(b->qs + 32 * h);
    for (int s = 0; s < 4; ++s) {
      const __m256i low = _mm256_and_si256(_mm256_srli_epi16(q, 2 * s), m3);
      const __m256i hb = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hm, 4 * h + s), one), 2);
      store32(u + 128 * h + 32 * s, _mm256_or_si256(low, hb));
    }
  }
}

inline void decode_q4_K(const uint8_t* blk, uint8_t* u) {
  const auto* b = reinterpret_cast<const BlockQ4_K*>(blk);
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  for (int j = 0; j < 4; ++j) {
    const __m256i q = load32(b->qs + 32 * j);
    store32(u + 64 * j, _mm256_and_si256(q, m4));
    store32(u + 64 * j + 32, _mm256_and_si256(_mm256_srli_epi16(q, 4), m4));
  }
}

inline void decode_q5_K(const uint8_t* blk, uint8_t* u) {
  const auto* b = reinterpret_cast<const BlockQ5_K*>(blk);
  const __m256i m4 = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);
  const __m256i hb = load32(b->qh);
  for (int j = 0; j < 4; ++j) {
    const __m256i q = load32(b->qs + 32 * j);
    const __m256i h0 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2 * j), one), 4);
    const __m256i h1 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2 * j + 1), one), 4);
    store32(u + 64 * j, _mm256_or_si256(_mm256_and_si256(q, m4), h0));
    store32(u + 64 * j + 32, _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), m4), h1));
  }
}

inline void decode_q6_K(const uint8_t* blk, uint8_t* u) {
  const auto* b = reinterpret_cast<const BlockQ6_K*>(blk);
  const __m256i m4 = _mm256_set1_epi8(0x0F), m3 = _mm256_set1_epi8(3);
  for (int h = 0; h < 2; ++h) {
    const __m256i ql0 = load32(b->ql + 64 * h), ql1 = load32(b->ql + 64 * h + 32);
    const __m256i qh = load32(b->qh + 32 * h);
    uint8_t* o = u + 128 * h;
    store32(o, _mm256_or_si256(_mm256_and_si256(ql0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m3), 4)));
    store32(o + 32, _mm256_or_si256(_mm256_and_si256(ql1, m4),
                                    _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m3), 4)));
    store32(o + 64, _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4),
                                    _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m3), 4)));
    store32(o + 96, _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                                    _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m3), 4)));
  }
}

// Per-row scale fields of a K-quant super-block, row-major: sc[S] as (sc, sc) int16 pairs,
// pr[8] as int16 min pairs, d, dmin. They are transposed into the panel's [field][row] arrays.
struct alignas(32) KRow {
  int32_t sc[16];
  int32_t pr[8];
};

inline void store_epi32(int32_t* p, __m256i v) { _mm256_store_si256(reinterpret_cast<__m256i*>(p), v); }

// int32 lanes v -> (v, v) int16 pairs (v fits int16).
inline __m256i dup16(__m256i v) { return _mm256_blend_epi16(v, _mm256_slli_epi32(v, 16), 0xAA); }

// Q4_K / Q5_K header (d, dmin, scales[12]) -> 8 scales and 8 (min, min) int16 pairs.
inline void k4_fields(const uint8_t* blk, KRow& row) {
  const __m128i v =
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk));  // dwords: d|dmin, s0-3, s4-7, s8-11
  const __m128i lo = _mm_and_si128(_mm_srlv_epi32(_mm_shuffle_epi32(v, 0xED), _mm_setr_epi32(0, 0, 0, 4)),
                                   _mm_setr_epi32(0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f));
  const __m128i hi = _mm_and_si128(_mm_srli_epi32(_mm_shuffle_epi32(v, 0x84), 2),
                                   _mm_setr_epi32(0, 0x30303030, 0, 0x30303030));
  const __m128i sm = _mm_or_si128(lo, hi);  // bytes sc0..7, m0..7
  store_epi32(row.sc, dup16(_mm256_cvtepu8_epi32(sm)));
  // (m_2k, m_2k+1) pairs: the 8 mins widened to words (k < 4; the rest zero).
  store_epi32(row.pr, _mm256_zextsi128_si256(_mm_cvtepu8_epi16(_mm_unpackhi_epi64(sm, sm))));
}

inline void kfields_row(PanelKind kind, const uint8_t* blk, KRow& row, float& d, float& dmin) {
  switch (kind) {
    case PanelKind::Q4_K:
    case PanelKind::Q5_K:
      k4_fields(blk, row);
      d = half_to_float(load_u16(blk));
      dmin = half_to_float(load_u16(blk + 2));
      break;
    case PanelKind::Q2_K: {
      const auto* b = reinterpret_cast<const BlockQ2_K*>(blk);
      const __m128i sc8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b->scales));
      const __m128i lo = _mm_and_si128(sc8, _mm_set1_epi8(0x0F));
      store_epi32(row.sc, dup16(_mm256_cvtepu8_epi32(lo)));
      store_epi32(row.sc + 8, dup16(_mm256_cvtepu8_epi32(_mm_unpackhi_epi64(lo, lo))));
      // Mins of sub-blocks (2k, 2k+1) as an int16 pair: the 16 mins widened to words.
      store_epi32(row.pr, _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sc8, 4), _mm_set1_epi8(0x0F))));
      d = half_to_float(b->d);
      dmin = half_to_float(b->dmin);
      break;
    }
    case PanelKind::Q3_K: {
      const auto* b = reinterpret_cast<const BlockQ3_K*>(blk);
      int8_t sc[16];
      q3_K_unpack_scales(b->scales, sc);
      const __m256i s16 = _mm256_sub_epi16(
          _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sc))), _mm256_set1_epi16(32));
      store_epi32(row.sc, dup16(_mm256_cvtepi16_epi32(_mm256_castsi256_si128(s16))));
      store_epi32(row.sc + 8, dup16(_mm256_cvtepi16_epi32(_mm256_extracti128_si256(s16, 1))));
      store_epi32(row.pr, _mm256_setzero_si256());
      d = half_to_float(b->d);
      dmin = 0.0f;
      break;
    }
    case PanelKind::Q6_K: {
      const auto* b = reinterpret_cast<const BlockQ6_K*>(blk);
      const __m128i sc8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b->scales));
      store_epi32(row.sc, dup16(_mm256_cvtepi8_epi32(sc8)));
      store_epi32(row.sc + 8, dup16(_mm256_cvtepi8_epi32(_mm_unpackhi_epi64(sc8, sc8))));
      store_epi32(row.pr, _mm256_setzero_si256());
      d = half_to_float(b->d);
      dmin = 0.0f;
      break;
    }
    default:
      break;
  }
}

template <void (*Decode)(const uint8_t*, uint8_t*)>
void pack_legacy(PanelKind kind, int64_t K, const uint8_t* w, size_t w_stride, int nr, uint8_t* panel) {
  const PanelGeometry g = panel_geometry(kind);
  const size_t blk_bytes = kind == PanelKind::Q4_0   ? 18
                           : kind == PanelKind::Q4_1 ? 20
                           : kind == PanelKind::Q5_0 ? 22
                           : kind == PanelKind::Q5_1 ? 24
                                                     : 34;  // Q8_0, Q8_0S
  const uint8_t* rows[kPanelRows];
  for (int r = 0; r < kPanelRows; ++r) rows[r] = w + static_cast<size_t>(std::min(r, nr - 1)) * w_stride;
  alignas(32) uint8_t u[kPanelRows][32];
  for (int64_t b = 0; b < K / 32; ++b, panel += g.unit_bytes) {
    float* d = reinterpret_cast<float*>(panel + 512);
    for (int r = 0; r < kPanelRows; ++r) {
      const uint8_t* blk = rows[r] + b * blk_bytes;
      Decode(blk, u[r]);
      d[r] = half_to_float(load_u16(blk));
      if (g.has_min) d[16 + r] = half_to_float(load_u16(blk + 2));
    }
    for (int half = 0; half < 2; ++half) {
      __m256i v[8];
      for (int i = 0; i < 8; ++i) v[i] = load32(u[8 * half + i]);
      transpose_8x8_store(v, panel + 32 * half);
    }
  }
}

template <void (*Decode)(const uint8_t*, uint8_t*)>
void pack_kquant(PanelKind kind, int64_t K, const uint8_t* w, size_t w_stride, int nr, uint8_t* panel) {
  const PanelGeometry g = panel_geometry(kind);
  const size_t blk_bytes = kind == PanelKind::Q2_K   ? 84
                           : kind == PanelKind::Q3_K ? 110
                           : kind == PanelKind::Q4_K ? 144
                           : kind == PanelKind::Q5_K ? 176
                                                     : 210;
  const uint8_t* rows[kPanelRows];
  for (int r = 0; r < kPanelRows; ++r) rows[r] = w + static_cast<size_t>(std::min(r, nr - 1)) * w_stride;
  alignas(32) uint8_t u[kPanelRows][256];
  KRow fields[kPanelRows];
  for (int64_t b = 0; b < K / 256; ++b, panel += g.unit_bytes) {
    uint8_t* sc = panel + 4096;
    uint8_t* pr = sc + g.sub_blocks * 64;
    float* d = reinterpret_cast<float*>(pr + 8 * 64);
    for (int r = 0; r < kPanelRows; ++r) {
      const uint8_t* blk = rows[r] + b * blk_bytes;
      Decode(blk, u[r]);
      kfields_row(kind, blk, fields[r], d[r], d[16 + r]);
    }
    for (int half = 0; half < 2; ++half) {
      __m256i v[8];
      for (int c = 0; c < g.sub_blocks; c += 8) {
        for (int i = 0; i < 8; ++i) v[i] = load32(fields[8 * half + i].sc + c);
        transpose_8x8_store(v, sc + 32 * half + 64 * c);
      }
      for (int i = 0; i < 8; ++i) v[i] = load32(fields[8 * half + i].pr);
      transpose_8x8_store(v, pr + 32 * half);
    }
    for (int half = 0; half < 2; ++half)
      for (int c = 0; c < 8; ++c) {  // 8 dwords (32 values) per transpose
        __m256i v[8];
        for (int i = 0; i < 8; ++i) v[i] = load32(u[8 * half + i] + 32 * c);
        transpose_8x8_store(v, panel + 32 * half + 8 * 64 * c);
      }
  }
}

}  // namespace

void pack_panel_avx2(PanelKind kind, int64_t K, const uint8_t* w, size_t w_stride, int nr, uint8_t* panel) {
  switch (kind) {
    case PanelKind::Q4_0:
      return pack_legacy<decode_q4_0>(kind, K, w, w_stride, nr, panel);
    case PanelKind::Q4_1:
      return pack_legacy<decode_q4_1>(kind, K, w, w_stride, nr, panel);
    case PanelKind::Q5_0:
      return pack_legacy<decode_q5_0>(kind, K, w, w_stride, nr, panel);
    case PanelKind::Q5_1:
      return pack_legacy<decode_q5_1>(kind, K, w, w_stride, nr, panel);
    case PanelKind::Q8_0:
      return pack_legacy<decode_q8_0>(kind, K, w, w_stride, nr, panel);
    case PanelKind::Q8_0S:
      return pack_legacy<decode_q8_0s>(kind, K, w, w_stride, nr, panel);
    case PanelKind::Q2_K:
      return pack_kquant<decode_q2_K>(kind, K, w, w_stride, nr, panel);
    case PanelKind::Q3_K:
      return pack_kquant<decode_q3_K>(kind, K, w, w_stride, nr, panel);
    case PanelKind::Q4_K:
      return pack_kquant<decode_q4_K>(kind, K, w, w_stride, nr, panel);
    case PanelKind::Q5_K:
      return pack_kquant<decode_q5_K>(kind, K, w, w_stride, nr, panel);
    case PanelKind::Q6_K:
      return pack_kquant<decode_q6_K>(kind, K, w, w_stride, nr, panel);
  }
}

// Up to 8 values of row `src` (type t) from k to f32; missing values are zero.
inline __m256i load8_as_f32(DType t, const uint8_t* src, int64_t k, int64_t K) {
  alignas(32) float tmp[8];
  const int64_t n = std::min<int64_t>(8, K - k);
  if (n == 8) {
    switch (t) {
      case DType::F16:
        return _mm256_castps_si256(
            _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 2 * k))));
      case DType::BF16:
        return _mm256_slli_epi32(
            _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 2 * k))), 16);
      default:
        return load32(src + 4 * k);
    }
  }
  for (int64_t i = 0; i < 8; ++i) {
    if (i >= n)
      tmp[i] = 0.0f;
    else if (t == DType::F16)
      tmp[i] = half_to_float(load_u16(src + 2 * (k + i)));
    else if (t == DType::BF16)
      tmp[i] = bf16_to_f32(load_u16(src + 2 * (k + i)));
    else
      std::memcpy(&tmp[i], src + 4 * (k + i), 4);
  }
  return load32(tmp);
}

void pack_panel_float_avx2(DType wtype, int64_t K, const uint8_t* w, size_t w_stride, int nr,
                           uint8_t* panel) {
  for (int half = 0; half < 2; ++half)
    for (int64_t k = 0; k < K; k += 8) {
      __m256i v[8];
      for (int i = 0; i < 8; ++i) {
        const int r = std::min(8 * half + i, nr - 1);
        v[i] = load8_as_f32(wtype, w + static_cast<size_t>(r) * w_stride, k, K);
      }
      transpose_8x8_store(v, panel + k * 64 + 32 * half);
    }
}

void pack_act_float_avx2(DType wtype, const float* x, int64_t K, uint8_t* out) {
  float* o = reinterpret_cast<float*>(out);
  int64_t k = 0;
  for (; k + 8 <= K; k += 8) {
    __m256 v = _mm256_loadu_ps(x + k);
    if (wtype == DType::F16)
      v = _mm256_cvtph_ps(_mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    else if (wtype == DType::BF16)
      v = bf16_round_trip(v);
    _mm256_storeu_ps(o + k, v);
  }
  for (; k < K; ++k)
    o[k] = wtype == DType::F16    ? fp16_to_f32(f32_to_fp16(x[k]))
           : wtype == DType::BF16 ? bf16_to_f32(f32_to_bf16(x[k]))
                                  : x[k];
  for (; k < float_panel_k(K); ++k) o[k] = 0.0f;
}

// Weight offset removed through the activation's per-group corrections.
constexpr int legacy_offset(PanelKind kind) {
  return kind == PanelKind::Q4_0 ? 8 : kind == PanelKind::Q5_0 ? 16 : kind == PanelKind::Q8_0 ? 128 : 0;
}

void pack_act_q8_avx2(PanelKind kind, const float* x, int64_t K, uint8_t* out) {
  const bool q8_1 = kind == PanelKind::Q4_1 || kind == PanelKind::Q5_1;
  const int offset = legacy_offset(kind);
  const TypeKernels& q = kernels(q8_1 ? DType::Q8_1 : DType::Q8_0, SimdLevel::Avx2);
  auto* act = reinterpret_cast<ActQ8*>(out);
  constexpr int kChunk = 16;  // blocks quantized per call
  alignas(32) uint8_t tmp[kChunk * sizeof(BlockQ8_1)];
  for (int64_t b0 = 0; b0 < K / 32; b0 += kChunk) {
    const int nb = static_cast<int>(std::min<int64_t>(kChunk, K / 32 - b0));
    q.from_float(x + b0 * 32, tmp, nb * 32);
    for (int i = 0; i < nb; ++i) {
      ActQ8& a = act[b0 + i];
      const int8_t* qs;
      if (q8_1) {
        const auto* blk = reinterpret_cast<const BlockQ8_1*>(tmp) + i;
        qs = blk->qs;
        a.d = half_to_float(blk->d);
        a.s = half_to_float(blk->s);
      } else {
        const auto* blk = reinterpret_cast<const BlockQ8_0*>(tmp) + i;
        qs = blk->qs;
        a.d = half_to_float(blk->d);
        a.s = 0.0f;
      }
      std::memcpy(a.qs, qs, 32);
      const __m256i group_sums = dot_u8s8(_mm256_set1_epi8(1), load32(qs));  // Σ of each 4 bytes
      const __m256i corr = _mm256_mullo_epi32(group_sums, _mm256_set1_epi32(-offset));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(a.corr), corr);
      a.corr_sum = hsum_epi32(corr);
      a.pad[0] = a.pad[1] = a.pad[2] = 0;
    }
  }
}

void pack_act_k_avx2(PanelKind kind, const float* x, int64_t K, uint8_t* out) {
  const int offset = kind == PanelKind::Q6_K ? 32 : kind == PanelKind::Q3_K ? 4 : 0;
  const TypeKernels& q8k = kernels(DType::Q8_K, SimdLevel::Avx2);
  auto* act = reinterpret_cast<ActK*>(out);
  for (int64_t i = 0; i < K / 256; ++i) {
    BlockQ8_K b;
    q8k.from_float(x + 256 * i, &b, 256);
    ActK& a = act[i];
    a.d = b.d;
    std::memcpy(a.qs, b.qs, 256);
    std::memcpy(a.bsums, b.bsums, sizeof b.bsums);
    // offs[g]: int16 pairs offset·(a0 + a1), offset·(a2 + a3) of the 4 values of group g.
    const __m256i off = _mm256_set1_epi8(static_cast<char>(offset));
    for (int c = 0; c < 8; ++c)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(a.offs + 8 * c),
                          _mm256_maddubs_epi16(off, load32(b.qs + 32 * c)));
    for (int k = 0; k < 4; ++k) {
      const int p0 = b.bsums[4 * k] + b.bsums[4 * k + 1], p1 = b.bsums[4 * k + 2] + b.bsums[4 * k + 3];
      a.p32[k] = static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint16_t>(p0)) |
                                      (static_cast<uint32_t>(static_cast<uint16_t>(p1)) << 16));
    }
    a.pad[0] = a.pad[1] = a.pad[2] = 0;
  }
}

}  // namespace xnai::cpu::detail
