// AVX-512 VNNI tile kernels of the tiled matmul: one zmm lane per panel row, vpdpbusd /
// vpmaddubsw+vpdpwssd against activation dwords broadcast to all lanes, exact int32 group
// sums, and the f32 accumulation of ggml's order (gemm_panel.h, ggml_order.h).
#include <immintrin.h>

#include <cstring>

#include "compute/cpu/gemm_panel.h"
#include "compute/cpu/simd_avx512.h"
#include "core/quant_blocks.h"

namespace xnai::cpu::detail {
namespace {

inline __m512 load_ps(const uint8_t* p) { return _mm512_loadu_ps(reinterpret_cast<const float*>(p)); }
inline __m512i load_si(const uint8_t* p) { return _mm512_loadu_si512(p); }

// ggml's final reduction of eight f32 lanes, for 16 outputs at once (ggml_order.h).
inline __m512 hsum8_rows(const __m512 a[8]) {
  return _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a[4], a[0]), _mm512_add_ps(a[6], a[2])),
                       _mm512_add_ps(_mm512_add_ps(a[5], a[1]), _mm512_add_ps(a[7], a[3])));
}

inline void store_rows(float* y, __m512 v, int nr) {
  _mm512_mask_storeu_ps(y, static_cast<__mmask16>((1u << nr) - 1), v);
}

// Q4_0 in llama.cpp's repacked block order: one chain per output,
// acc = fma(I_b, d_w·d_a, acc) with I_b the exact block sum.
template <int NC>
void tile_q4_0_blocks(int64_t nb, size_t unit, const uint8_t* panel, const uint8_t* act, size_t astride,
                      float* y, int64_t ldy, int nr) {
  __m512 acc[NC];
  for (int c = 0; c < NC; ++c) acc[c] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* p = panel + b * unit;
    const ActQ8* a[NC];
    __m512i t[NC];
    for (int c = 0; c < NC; ++c) {
      a[c] = reinterpret_cast<const ActQ8*>(act + c * astride) + b;
      t[c] = _mm512_set1_epi32(a[c]->corr_sum);
    }
    for (int g = 0; g < 8; ++g) {
      const __m512i w = load_si(p + 64 * g);
      for (int c = 0; c < NC; ++c) t[c] = _mm512_dpbusd_epi32(t[c], w, bcast32(a[c]->qs + 4 * g));
    }
    const __m512 dw = load_ps(p + 512);
    for (int c = 0; c < NC; ++c)
      acc[c] = _mm512_fmadd_ps(to_ps(t[c]), _mm512_mul_ps(dw, _mm512_set1_ps(a[c]->d)), acc[c]);
  }
  for (int c = 0; c < NC; ++c) store_rows(y + c * ldy, acc[c], nr);
}

// Legacy types in ggml's lane order: acc[g][c] = fma(d_w·d_a, exact group dot, acc[g][c]);
// Q4_1 / Q5_1 add the fused chain Σ m·s.
template <int NC, bool kMin>
void tile_legacy_lanes(int64_t nb, size_t unit, const uint8_t* panel, const uint8_t* act, size_t astride,
                       float* y, int64_t ldy, int nr) {
  __m512 acc[NC][8], summs[NC];
  for (int c = 0; c < NC; ++c) {
    summs[c] = _mm512_setzero_ps();
    for (int l = 0; l < 8; ++l) acc[c][l] = _mm512_setzero_ps();
  }
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* p = panel + b * unit;
    const __m512 dw = load_ps(p + 512);
    const ActQ8* a[NC];
    __m512 d[NC];
    for (int c = 0; c < NC; ++c) {
      a[c] = reinterpret_cast<const ActQ8*>(act + c * astride) + b;
      d[c] = _mm512_mul_ps(dw, _mm512_set1_ps(a[c]->d));
      if constexpr (kMin) summs[c] = _mm512_fmadd_ps(load_ps(p + 576), _mm512_set1_ps(a[c]->s), summs[c]);
    }
    for (int g = 0; g < 8; ++g) {
      const __m512i w = load_si(p + 64 * g);
      for (int c = 0; c < NC; ++c) {
        const __m512i t = _mm512_dpbusd_epi32(_mm512_set1_epi32(a[c]->corr[g]), w, bcast32(a[c]->qs + 4 * g));
        acc[c][g] = _mm512_fmadd_ps(d[c], to_ps(t), acc[c][g]);
      }
    }
  }
  for (int c = 0; c < NC; ++c) {
    __m512 r = hsum8_rows(acc[c]);
    if constexpr (kMin) r = _mm512_add_ps(r, summs[c]);
    store_rows(y + c * ldy, r, nr);
  }
}

enum class KMins { None, Lanes4, Fused, InLanes };  // Q3_K/Q6_K, Q4_K, Q5_K, Q2_K

// K-quants in ggml's lane order, one column: lane l sums sc·(pair sums) of the groups
// g ≡ l (mod 8) over the super-block, then acc_l = fma(d, S_l, acc_l).
template <int S, bool kOffset, KMins kMins>
void tile_kquant_lanes(int64_t nsb, size_t unit, const uint8_t* panel, const uint8_t* act, float* y, int nr) {
  constexpr int G = 64 / S;  // groups per sub-block
  __m512 acc[8], accm[4];
  for (int l = 0; l < 8; ++l) acc[l] = _mm512_setzero_ps();
  for (int k = 0; k < 4; ++k) accm[k] = _mm512_setzero_ps();
  __m512 summs = _mm512_setzero_ps();
  for (int64_t sb = 0; sb < nsb; ++sb) {
    const uint8_t* p = panel + sb * unit;
    const uint8_t* sc = p + 4096;
    const uint8_t* pr = sc + S * 64;
    const uint8_t* dd = pr + 8 * 64;
    const ActK& a = reinterpret_cast<const ActK*>(act)[sb];
    const __m512 da = _mm512_set1_ps(a.d);
    const __m512 d = _mm512_mul_ps(da, load_ps(dd));
    const __m512 dmin = _mm512_mul_ps(_mm512_set1_ps(-a.d), load_ps(dd + 64));
    if constexpr (kMins == KMins::InLanes) {  // Q2_K: lane l += dmin·(m_2l·bs_2l + m_2l+1·bs_2l+1), first
      for (int l = 0; l < 8; ++l) {
        const __m512i m =
            _mm512_dpwssd_epi32(_mm512_setzero_si512(), load_si(pr + 64 * l), bcast32(a.bsums + 2 * l));
        acc[l] = _mm512_fmadd_ps(dmin, to_ps(m), acc[l]);
      }
    }
    __m512i isum[8];
    for (int l = 0; l < 8; ++l) isum[l] = _mm512_setzero_si512();
    for (int j = 0; j < S; ++j) {
      const __m512i scale = load_si(sc + 64 * j);
      for (int gi = 0; gi < G; ++gi) {
        const int g = j * G + gi;
        __m512i p16 = _mm512_maddubs_epi16(load_si(p + 64 * g), bcast32(a.qs + 4 * g));
        if constexpr (kOffset) p16 = _mm512_sub_epi16(p16, _mm512_set1_epi32(a.offs[g]));
        isum[g % 8] = _mm512_dpwssd_epi32(isum[g % 8], p16, scale);
      }
    }
    if constexpr (kMins == KMins::Lanes4) {
      for (int k = 0; k < 4; ++k) {
        const __m512i m =
            _mm512_dpwssd_epi32(_mm512_setzero_si512(), load_si(pr + 64 * k), _mm512_set1_epi32(a.p32[k]));
        accm[k] = _mm512_fmadd_ps(dmin, to_ps(m), accm[k]);
      }
    } else if constexpr (kMins == KMins::Fused) {
      __m512i m = _mm512_setzero_si512();
      for (int k = 0; k < 4; ++k)
        m = _mm512_dpwssd_epi32(m, load_si(pr + 64 * k), _mm512_set1_epi32(a.p32[k]));
      summs = _mm512_fmadd_ps(dmin, to_ps(m), summs);
    }
    for (int l = 0; l < 8; ++l) acc[l] = _mm512_fmadd_ps(d, to_ps(isum[l]), acc[l]);
  }
  __m512 r = hsum8_rows(acc);
  if constexpr (kMins == KMins::Lanes4)
    r = _mm512_add_ps(r, _mm512_add_ps(_mm512_add_ps(accm[0], accm[2]), _mm512_add_ps(accm[1], accm[3])));
  if constexpr (kMins == KMins::Fused) r = _mm512_add_ps(r, summs);
  store_rows(y, r, nr);
}

// Float panels: acc[j][c] sums k ≡ j (mod 4), which keeps the f32 summation chains a
// quarter as long (ggml sums 16-wide partial vectors; both are far below the 1e-2 budget).
template <int NC>
void tile_float(int64_t K8, const uint8_t* panel, const uint8_t* act, size_t astride, float* y, int64_t ldy,
                int nr) {
  __m512 acc[4][NC];
  for (int j = 0; j < 4; ++j)
    for (int c = 0; c < NC; ++c) acc[j][c] = _mm512_setzero_ps();
  const float* a[NC];
  for (int c = 0; c < NC; ++c) a[c] = reinterpret_cast<const float*>(act + c * astride);
  for (int64_t k = 0; k < K8; k += 4) {
    for (int j = 0; j < 4; ++j) {
      const __m512 w = load_ps(panel + 64 * (k + j));
      for (int c = 0; c < NC; ++c) acc[j][c] = _mm512_fmadd_ps(w, _mm512_set1_ps(a[c][k + j]), acc[j][c]);
    }
  }
  const __mmask16 mask = static_cast<__mmask16>((1u << nr) - 1);
  for (int c = 0; c < NC; ++c)
    _mm512_mask_storeu_ps(
        y + c * ldy, mask,
        _mm512_add_ps(_mm512_add_ps(acc[0][c], acc[1][c]), _mm512_add_ps(acc[2][c], acc[3][c])));
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
  static void tile(int64_t K, const uint8_t* panel, const uint8_t* act, size_t astride, int nc, float* y,
                   int64_t ldy, int nr) {
    const int64_t K8 = float_panel_k(K);
    switch (nc) {
      case 1:
        return tile_float<1>(K8, panel, act, astride, y, ldy, nr);
      case 2:
        return tile_float<2>(K8, panel, act, astride, y, ldy, nr);
      case 3:
        return tile_float<3>(K8, panel, act, astride, y, ldy, nr);
      case 4:
        return tile_float<4>(K8, panel, act, astride, y, ldy, nr);
      case 5:
        return tile_float<5>(K8, panel, act, astride, y, ldy, nr);
      default:
        return tile_float<6>(K8, panel, act, astride, y, ldy, nr);
    }
  }
  static constexpr GemmKernel kGemm{kPanelRows, 6, act_bytes, panel_bytes, pack_act, pack_panel, tile};
};

template <PanelKind kKind>
struct Kernel {
  static constexpr PanelGeometry kGeo = panel_geometry(kKind);
  static constexpr int kValues = kGeo.kquant ? 256 : 32;
  static constexpr bool kBlockOrder = kKind == PanelKind::Q4_0;
  static constexpr int kCols = kGeo.kquant ? 1 : kBlockOrder ? 8 : 2;
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
    if constexpr (kGeo.kquant)
      tile_kquant_lanes<kGeo.sub_blocks, kKind == PanelKind::Q6_K || kKind == PanelKind::Q3_K, kMins>(
          K / 256, kGeo.unit_bytes, panel, act, y, nr);
    else if constexpr (kBlockOrder)
      tile_q4_0_blocks<NC>(K / 32, kGeo.unit_bytes, panel, act, astride, y, ldy, nr);
    else
      tile_legacy_lanes<NC, kGeo.has_min>(K / 32, kGeo.unit_bytes, panel, act, astride, y, ldy, nr);
  }
  static void tile(int64_t K, const uint8_t* panel, const uint8_t* act, size_t astride, int nc, float* y,
                   int64_t ldy, int nr) {
    if constexpr (kCols == 1) {
      for (int c = 0; c < nc; ++c) tile_n<1>(K, panel, act + c * astride, astride, y + c * ldy, ldy, nr);
    } else if constexpr (kCols == 2) {
      if (nc == 2) return tile_n<2>(K, panel, act, astride, y, ldy, nr);
      return tile_n<1>(K, panel, act, astride, y, ldy, nr);
    } else {
      switch (nc) {
        case 1:
          return tile_n<1>(K, panel, act, astride, y, ldy, nr);
        case 2:
          return tile_n<2>(K, panel, act, astride, y, ldy, nr);
        case 3:
          return tile_n<3>(K, panel, act, astride, y, ldy, nr);
        case 4:
          return tile_n<4>(K, panel, act, astride, y, ldy, nr);
        case 5:
          return tile_n<5>(K, panel, act, astride, y, ldy, nr);
        case 6:
          return tile_n<6>(K, panel, act, astride, y, ldy, nr);
        case 7:
          return tile_n<7>(K, panel, act, astride, y, ldy, nr);
        default:
          return tile_n<8>(K, panel, act, astride, y, ldy, nr);
      }
    }
  }
  static constexpr GemmKernel kGemm{kPanelRows, kCols, act_bytes, panel_bytes, pack_act, pack_panel, tile};
};

}  // namespace

const GemmKernel* f16_unrounded_gemm_avx512() { return &FloatKernel<DType::F16, false>::kGemm; }

MatmulKernels matmul_kernels_avx512(DType wtype) {
  MatmulKernels k;
  k.gemv = gemv_kernel_avx512(wtype);  // ggml-order row kernels, where written
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
      k.gemm = &Kernel<PanelKind::Q8_0>::kGemm;
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
