// AVX2 tile kernels of the tiled matmul (layouts in gemm_panel.h): one 32-bit lane per panel
// row, 8 rows per register (a 16-row panel is run as two halves). vpmaddubsw multiplies the
// unsigned weight bytes with an activation dword broadcast to all lanes and vpmaddwd widens
// (applying K-quant sub-block scales); each exact group sum then enters ggml's f32 order
// (ggml_order.h): eight lane accumulators per output, or one chain for repacked Q4_0.
// Q8_0 keeps its weights signed and moves their sign onto the activation (|w|·sign(a, w)).
#include <immintrin.h>

#include <cstring>

#include "compute/cpu/gemm_panel.h"
#include "compute/cpu/simd_avx2.h"
#include "core/quant_blocks.h"

namespace xnai::cpu::detail {
namespace {

inline __m256i bcast32(const void* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

inline __m256i load_si(const uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
inline __m256 load_ps(const uint8_t* p) { return _mm256_loadu_ps(reinterpret_cast<const float*>(p)); }

inline void store_rows(float* y, __m256 v, int nr) {
  if (nr >= 8) {
    _mm256_storeu_ps(y, v);
  } else {
    alignas(32) float t[8];
    _mm256_store_ps(t, v);
    std::memcpy(y, t, sizeof(float) * static_cast<size_t>(nr));
  }
}

inline __m256 hsum8_rows(const __m256 a[8]) {
  return _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a[4], a[0]), _mm256_add_ps(a[6], a[2])),
                       _mm256_add_ps(_mm256_add_ps(a[5], a[1]), _mm256_add_ps(a[7], a[3])));
}

// Exact group dot of 8 rows with one activation dword: unsigned weights (+ the group's
// offset correction), or signed ones (Q8_0S) through |w|·sign(a, w).
template <bool kSigned>
inline __m256i group_dot(__m256i w, const int8_t* a4, int32_t corr) {
  const __m256i ones = _mm256_set1_epi16(1);
  if constexpr (kSigned)
    return _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_abs_epi8(w), _mm256_sign_epi8(bcast32(a4), w)),
                             ones);
  else
    return _mm256_add_epi32(_mm256_madd_epi16(_mm256_maddubs_epi16(w, bcast32(a4)), ones),
                            _mm256_set1_epi32(corr));
}

// Q4_0, one 8-row half, in the repacked block order: acc = fma(I_b, d_w·d_a, acc).
template <int NC>
void tile_q4_0_blocks_half(int64_t nb, size_t unit, const uint8_t* panel, const uint8_t* act, size_t astride,
                           float* y, int64_t ldy, int nr) {
  __m256 acc[NC];
  for (int c = 0; c < NC; ++c) acc[c] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* p = panel + b * unit;
    const ActQ8* a[NC];
    __m256i s16[NC];
    for (int c = 0; c < NC; ++c) {
      a[c] = reinterpret_cast<const ActQ8*>(act + c * astride) + b;
      s16[c] = _mm256_setzero_si256();
    }
    // 4-bit weights: 8 groups of int16 pair sums fit int16 (8·2·15·127 < 2^15).
    for (int g = 0; g < 8; ++g) {
      const __m256i w = load_si(p + 64 * g);
      for (int c = 0; c < NC; ++c)
        s16[c] = _mm256_add_epi16(s16[c], _mm256_maddubs_epi16(w, bcast32(a[c]->qs + 4 * g)));
    }
    const __m256 dw = load_ps(p + 512);
    for (int c = 0; c < NC; ++c) {
      const __m256i t = _mm256_add_epi32(_mm256_madd_epi16(s16[c], _mm256_set1_epi16(1)),
                                         _mm256_set1_epi32(a[c]->corr_sum));
      acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(t), _mm256_mul_ps(dw, _mm256_set1_ps(a[c]->d)), acc[c]);
    }
  }
  for (int c = 0; c < NC; ++c) store_rows(y + c * ldy, acc[c], nr);
}

// Legacy types, one 8-row half, one column, in ggml's lane order (gemm_panel.h).
template <bool kSigned, bool kMin>
void tile_legacy_lanes_half(int64_t nb, size_t unit, const uint8_t* panel, const uint8_t* act, float* y,
                            int nr) {
  __m256 acc[8], summs = _mm256_setzero_ps();
  for (int l = 0; l < 8; ++l) acc[l] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* p = panel + b * unit;
    const ActQ8& a = reinterpret_cast<const ActQ8*>(act)[b];
    const __m256 d = _mm256_mul_ps(load_ps(p + 512), _mm256_set1_ps(a.d));
    if constexpr (kMin) summs = _mm256_fmadd_ps(load_ps(p + 576), _mm256_set1_ps(a.s), summs);
    for (int g = 0; g < 8; ++g)
      acc[g] = _mm256_fmadd_ps(
          d, _mm256_cvtepi32_ps(group_dot<kSigned>(load_si(p + 64 * g), a.qs + 4 * g, a.corr[g])), acc[g]);
  }
  __m256 r = hsum8_rows(acc);
  if constexpr (kMin) r = _mm256_add_ps(r, summs);
  store_rows(y, r, nr);
}

enum class KMins { None, Lanes4, Fused, InLanes };  // Q3_K/Q6_K, Q4_K, Q5_K, Q2_K

// K-quants, one 8-row half, one column, in ggml's lane order. The eight lanes are formed in
// two passes of four (lanes 0-3, then 4-7) to fit AVX2's 16 registers.
template <int S, bool kOffset, KMins kMins>
void tile_kquant_lanes_half(int64_t nsb, size_t unit, const uint8_t* panel, const uint8_t* act, float* y,
                            int nr) {
  constexpr int G = 64 / S;
  __m256 acc[8], accm[4];
  for (int l = 0; l < 8; ++l) acc[l] = _mm256_setzero_ps();
  for (int k = 0; k < 4; ++k) accm[k] = _mm256_setzero_ps();
  __m256 summs = _mm256_setzero_ps();
  for (int64_t sb = 0; sb < nsb; ++sb) {
    const uint8_t* p = panel + sb * unit;
    const uint8_t* sc = p + 4096;
    const uint8_t* pr = sc + S * 64;
    const uint8_t* dd = pr + 8 * 64;
    const ActK& a = reinterpret_cast<const ActK*>(act)[sb];
    const __m256 d = _mm256_mul_ps(_mm256_set1_ps(a.d), load_ps(dd));
    const __m256 dmin = _mm256_mul_ps(_mm256_set1_ps(-a.d), load_ps(dd + 64));
    if constexpr (kMins == KMins::InLanes) {  // Q2_K: lane l += dmin·(m_2l·bs_2l + m_2l+1·bs_2l+1), first
      for (int l = 0; l < 8; ++l)
        acc[l] = _mm256_fmadd_ps(
            dmin, _mm256_cvtepi32_ps(_mm256_madd_epi16(load_si(pr + 64 * l), bcast32(a.bsums + 2 * l))),
            acc[l]);
    }
    for (int pass = 0; pass < 2; ++pass) {
      __m256i isum[4];
      for (int l = 0; l < 4; ++l) isum[l] = _mm256_setzero_si256();
      for (int j = 0; j < S; ++j) {
        const __m256i scale = load_si(sc + 64 * j);
        for (int gi = 0; gi < G; ++gi) {
          const int g = j * G + gi;
          if ((g % 8) / 4 != pass) continue;
          __m256i p16 = _mm256_maddubs_epi16(load_si(p + 64 * g), bcast32(a.qs + 4 * g));
          if constexpr (kOffset) p16 = _mm256_sub_epi16(p16, _mm256_set1_epi32(a.offs[g]));
          isum[g % 4] = _mm256_add_epi32(isum[g % 4], _mm256_madd_epi16(p16, scale));
        }
      }
      for (int l = 0; l < 4; ++l)
        acc[4 * pass + l] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(isum[l]), acc[4 * pass + l]);
    }
    if constexpr (kMins == KMins::Lanes4) {
      for (int k = 0; k < 4; ++k)
        accm[k] = _mm256_fmadd_ps(
            dmin, _mm256_cvtepi32_ps(_mm256_madd_epi16(load_si(pr + 64 * k), _mm256_set1_epi32(a.p32[k]))),
            accm[k]);
    } else if constexpr (kMins == KMins::Fused) {
      __m256i m = _mm256_setzero_si256();
      for (int k = 0; k < 4; ++k)
        m = _mm256_add_epi32(m, _mm256_madd_epi16(load_si(pr + 64 * k), _mm256_set1_epi32(a.p32[k])));
      summs = _mm256_fmadd_ps(dmin, _mm256_cvtepi32_ps(m), summs);
    }
  }
  __m256 r = hsum8_rows(acc);
  if constexpr (kMins == KMins::Lanes4)
    r = _mm256_add_ps(r, _mm256_add_ps(_mm256_add_ps(accm[0], accm[2]), _mm256_add_ps(accm[1], accm[3])));
  if constexpr (kMins == KMins::Fused) r = _mm256_add_ps(r, summs);
  store_rows(y, r, nr);
}

// Float panels, one 8-row half: acc[j][c] sums k ≡ j (mod 4) to shorten the f32 chains.
template <int NC>
void tile_float_half(int64_t K8, const uint8_t* panel, const uint8_t* act, size_t astride, float* y,
                     int64_t ldy, int nr) {
  __m256 acc[4][NC];
  for (int j = 0; j < 4; ++j)
    for (int c = 0; c < NC; ++c) acc[j][c] = _mm256_setzero_ps();
  const float* a[NC];
  for (int c = 0; c < NC; ++c) a[c] = reinterpret_cast<const float*>(act + c * astride);
  for (int64_t k = 0; k < K8; k += 4) {
    for (int j = 0; j < 4; ++j) {
      const __m256 w = load_ps(panel + 64 * (k + j));
      for (int c = 0; c < NC; ++c)
        acc[j][c] = _mm256_fmadd_ps(w, _mm256_broadcast_ss(a[c] + k + j), acc[j][c]);
    }
  }
  for (int c = 0; c < NC; ++c)
    store_rows(y + c * ldy,
               _mm256_add_ps(_mm256_add_ps(acc[0][c], acc[1][c]), _mm256_add_ps(acc[2][c], acc[3][c])), nr);
}

// kRoundAct: activations rounded to the weight type first (ggml's vec_dot_type); off for
// models whose float path keeps F32 activations (embeddings).
template <DType kType, bool kRoundAct = true>
struct FloatKernel {
  static size_t act_bytes(int64_t K) { return static_cast<size_t>(float_panel_k(K)) * 4; }
  static size_t panel_bytes(int64_t K) { return static_cast<size_t>(float_panel_k(K)) * 64; }
  static void pack_act(const float* x, int64_t K, uint8_t* out) { pack_act_float_avx2(kRoundAct ? kType : DType::F32, x, K, out); }
  static void pack_panel(int64_t K, const uint8_t* w, size_t w_stride, int nr, uint8_t* panel) {
    pack_panel_float_avx2(kType, K, w, w_stride, nr, panel);
  }
  template <int NC>
  static void tile_n(int64_t K8, const uint8_t* panel, const uint8_t* act, size_t astride, float* y,
                     int64_t ldy, int nr) {
    for (int h = 0; h < 2 && 8 * h < nr; ++h)
      tile_float_half<NC>(K8, panel + 32 * h, act, astride, y + 8 * h, ldy, nr - 8 * h < 8 ? nr - 8 * h : 8);
  }
  static void tile(int64_t K, const uint8_t* panel, const uint8_t* act, size_t astride, int nc, float* y,
                   int64_t ldy, int nr) {
    const int64_t K8 = float_panel_k(K);
    switch (nc) {
      case 1:
        return tile_n<1>(K8, panel, act, astride, y, ldy, nr);
      case 2:
        return tile_n<2>(K8, panel, act, astride, y, ldy, nr);
      default:
        return tile_n<3>(K8, panel, act, astride, y, ldy, nr);
    }
  }
  static constexpr GemmKernel kGemm{kPanelRows, 3, act_bytes, panel_bytes, pack_act, pack_panel, tile};
};

template <PanelKind kKind>
struct Kernel {
  static constexpr PanelGeometry kGeo = panel_geometry(kKind);
  static constexpr int kValues = kGeo.kquant ? 256 : 32;
  static constexpr bool kBlockOrder = kKind == PanelKind::Q4_0;
  static constexpr int kCols = kBlockOrder ? 4 : 1;
  static constexpr KMins kMins = kKind == PanelKind::Q4_K   ? KMins::Lanes4
                                 : kKind == PanelKind::Q5_K ? KMins::Fused
                                 : kKind == PanelKind::Q2_K ? KMins::InLanes
                                                            : KMins::None;

  static size_t act_bytes(int64_t K) {
    return static_cast<size_t>(K / kValues) * (kGeo.kquant ? sizeof(ActK) : sizeof(ActQ8));
  }
  static size_t panel_bytes(int64_t K) { return static_cast<size_t>(K / kValues) * kGeo.unit_bytes; }
  static void pack_act(const float* x, int64_t K, uint8_t* out) {
    if constexpr (kGeo.kquant)
      pack_act_k_avx2(kKind, x, K, out);
    else
      pack_act_q8_avx2(kKind, x, K, out);
  }
  static void pack_panel(int64_t K, const uint8_t* w, size_t w_stride, int nr, uint8_t* panel) {
    pack_panel_avx2(kKind, K, w, w_stride, nr, panel);
  }
  template <int NC>
  static void tile_n(int64_t K, const uint8_t* panel, const uint8_t* act, size_t astride, float* y,
                     int64_t ldy, int nr) {
    for (int h = 0; h < 2 && 8 * h < nr; ++h) {
      const int nrh = nr - 8 * h < 8 ? nr - 8 * h : 8;
      if constexpr (kGeo.kquant)
        tile_kquant_lanes_half<kGeo.sub_blocks, kKind == PanelKind::Q6_K || kKind == PanelKind::Q3_K, kMins>(
            K / 256, kGeo.unit_bytes, panel + 32 * h, act, y + 8 * h, nrh);
      else if constexpr (kBlockOrder)
        tile_q4_0_blocks_half<NC>(K / 32, kGeo.unit_bytes, panel + 32 * h, act, astride, y + 8 * h, ldy, nrh);
      else
        tile_legacy_lanes_half<kKind == PanelKind::Q8_0S, kGeo.has_min>(K / 32, kGeo.unit_bytes,
                                                                        panel + 32 * h, act, y + 8 * h, nrh);
    }
  }
  static void tile(int64_t K, const uint8_t* panel, const uint8_t* act, size_t astride, int nc, float* y,
                   int64_t ldy, int nr) {
    if constexpr (kCols == 1) {
      for (int c = 0; c < nc; ++c) tile_n<1>(K, panel, act + c * astride, astride, y + c * ldy, ldy, nr);
    } else {
      switch (nc) {
        case 1:
          return tile_n<1>(K, panel, act, astride, y, ldy, nr);
        case 2:
          return tile_n<2>(K, panel, act, astride, y, ldy, nr);
        case 3:
          return tile_n<3>(K, panel, act, astride, y, ldy, nr);
        default:
          return tile_n<4>(K, panel, act, astride, y, ldy, nr);
      }
    }
  }
  static constexpr GemmKernel kGemm{kPanelRows, kCols, act_bytes, panel_bytes, pack_act, pack_panel, tile};
};

}  // namespace

const GemmKernel* f16_unrounded_gemm_avx2() { return &FloatKernel<DType::F16, false>::kGemm; }

MatmulKernels matmul_kernels_avx2(DType wtype) {
  MatmulKernels k;
  k.gemv = gemv_kernel_avx2(wtype);
  switch (wtype) {
    case DType::Q4_0:
      k.gemm = &Kernel<PanelKind::Q4_0>::kGemm;
      break;
    case DType::Q4_1:
      k.gemm = &Kernel<PanelKind::Q4_1>::kGemm;
      break;
    case DType::Q5_0:
      k.gemm = &Kernel<PanelKind::Q5_0>::kGemm;
      break;
    case DType::Q5_1:
      k.gemm = &Kernel<PanelKind::Q5_1>::kGemm;
      break;
    case DType::Q8_0:
      k.gemm = &Kernel<PanelKind::Q8_0S>::kGemm;
      break;
    case DType::Q2_K:
      k.gemm = &Kernel<PanelKind::Q2_K>::kGemm;
      break;
    case DType::Q3_K:
      k.gemm = &Kernel<PanelKind::Q3_K>::kGemm;
      break;
    case DType::Q4_K:
      k.gemm = &Kernel<PanelKind::Q4_K>::kGemm;
      break;
    case DType::Q5_K:
      k.gemm = &Kernel<PanelKind::Q5_K>::kGemm;
      break;
    case DType::Q6_K:
      k.gemm = &Kernel<PanelKind::Q6_K>::kGemm;
      break;
    case DType::F32:
      k.gemm = &FloatKernel<DType::F32>::kGemm;
      break;
    case DType::F16:
      k.gemm = &FloatKernel<DType::F16>::kGemm;
      break;
    case DType::BF16:
      k.gemm = &FloatKernel<DType::BF16>::kGemm;
      break;
    default:
      break;
  }
  return k;
}

}  // namespace xnai::cpu::detail
