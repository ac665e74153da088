// AVX2 tile kernels of the tiled matmul (layouts in gemm_panel.h): one 32-bit lane per panel
// row, 8 rows per register (a 16-row panel is run as two halves). vpmaddubsw multiplies the
// unsigned weight bytes with an activation dword broadcast to all lanes; its int16 pair
// sums are accumulated over as many groups as cannot overflow (4-bit: 8, 5-bit: 4, 6-bit: 2)
// before vpmaddwd widens them (and applies the K-quant sub-block scale). Q8_0 keeps its
// weights signed and moves their sign onto the activation (|w|·sign(a, w)).
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

// One 8-row half of a legacy panel (`panel` already offset to the half).
template <int NC, int kRun, bool kSigned, bool kMin>
void tile_legacy_half(int64_t nb, size_t unit, const uint8_t* panel, const uint8_t* act, size_t astride,
                      float* y, int64_t ldy, int nr) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc[NC];
  for (int c = 0; c < NC; ++c) acc[c] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* p = panel + b * unit;
    const ActQ8* a[NC];
    __m256i t[NC];
    for (int c = 0; c < NC; ++c) {
      a[c] = reinterpret_cast<const ActQ8*>(act + c * astride) + b;
      t[c] = kMin ? _mm256_setzero_si256() : _mm256_set1_epi32(a[c]->aux);
    }
    for (int g0 = 0; g0 < 8; g0 += kRun) {
      __m256i s16[NC];
      for (int c = 0; c < NC; ++c) s16[c] = _mm256_setzero_si256();
      for (int g = g0; g < g0 + kRun; ++g) {
        const __m256i w = load_si(p + 64 * g);
        if constexpr (kSigned) {
          const __m256i aw = _mm256_abs_epi8(w);
          for (int c = 0; c < NC; ++c)
            s16[c] = _mm256_maddubs_epi16(aw, _mm256_sign_epi8(bcast32(a[c]->qs + 4 * g), w));
        } else {
          for (int c = 0; c < NC; ++c)
            s16[c] = _mm256_add_epi16(s16[c], _mm256_maddubs_epi16(w, bcast32(a[c]->qs + 4 * g)));
        }
      }
      for (int c = 0; c < NC; ++c) t[c] = _mm256_add_epi32(t[c], _mm256_madd_epi16(s16[c], ones));
    }
    const __m256 dw = load_ps(p + 512);
    for (int c = 0; c < NC; ++c)
      acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(t[c]), _mm256_mul_ps(dw, _mm256_set1_ps(a[c]->d)), acc[c]);
    if constexpr (kMin) {
      const __m256 m = load_ps(p + 576);
      for (int c = 0; c < NC; ++c) {
        float s;
        std::memcpy(&s, &a[c]->aux, 4);
        acc[c] = _mm256_fmadd_ps(m, _mm256_set1_ps(s), acc[c]);
      }
    }
  }
  for (int c = 0; c < NC; ++c) store_rows(y + c * ldy, acc[c], nr);
}

// One 8-row half of a K-quant panel.
template <int NC, int S, int kRun, bool kMin>
void tile_kquant_half(int64_t nsb, size_t unit, const uint8_t* panel, const uint8_t* act, size_t astride,
                      float* y, int64_t ldy, int nr) {
  constexpr int G = 64 / S;
  __m256 acc[NC];
  for (int c = 0; c < NC; ++c) acc[c] = _mm256_setzero_ps();
  for (int64_t sb = 0; sb < nsb; ++sb) {
    const uint8_t* p = panel + sb * unit;
    const uint8_t* sc = p + 4096;
    const uint8_t* pr = sc + S * 64;
    const uint8_t* dd = pr + 8 * 64;
    const BlockQ8_K* a[NC];
    __m256i isum[NC];
    for (int c = 0; c < NC; ++c) {
      a[c] = reinterpret_cast<const BlockQ8_K*>(act + c * astride) + sb;
      isum[c] = _mm256_setzero_si256();
    }
    for (int j = 0; j < S; ++j) {
      const __m256i s32 = load_si(sc + 64 * j);
      const __m256i scale = _mm256_blend_epi16(s32, _mm256_slli_epi32(s32, 16), 0xAA);  // (sc, sc) int16 pair
      for (int g0 = 0; g0 < G; g0 += kRun) {
        __m256i s16[NC];
        for (int c = 0; c < NC; ++c) s16[c] = _mm256_setzero_si256();
        for (int g = j * G + g0; g < j * G + g0 + kRun; ++g) {
          const __m256i w = load_si(p + 64 * g);
          for (int c = 0; c < NC; ++c)
            s16[c] = _mm256_add_epi16(s16[c], _mm256_maddubs_epi16(w, bcast32(a[c]->qs + 4 * g)));
        }
        for (int c = 0; c < NC; ++c) isum[c] = _mm256_add_epi32(isum[c], _mm256_madd_epi16(s16[c], scale));
      }
    }
    if constexpr (!kMin) {
      for (int k = 0; k < 8; ++k) {
        const __m256i q = load_si(pr + 64 * k);
        for (int c = 0; c < NC; ++c)
          isum[c] = _mm256_add_epi32(isum[c], _mm256_madd_epi16(q, bcast32(a[c]->bsums + 2 * k)));
      }
    }
    const __m256 dw = load_ps(dd);
    for (int c = 0; c < NC; ++c)
      acc[c] =
          _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[c]), _mm256_mul_ps(dw, _mm256_set1_ps(a[c]->d)), acc[c]);
    if constexpr (kMin) {
      for (int c = 0; c < NC; ++c) isum[c] = _mm256_setzero_si256();
      for (int k = 0; k < 8; ++k) {
        const __m256i q = load_si(pr + 64 * k);
        for (int c = 0; c < NC; ++c)
          isum[c] = _mm256_add_epi32(isum[c], _mm256_madd_epi16(q, bcast32(a[c]->bsums + 2 * k)));
      }
      const __m256 dmin = load_ps(dd + 64);
      for (int c = 0; c < NC; ++c)
        acc[c] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(isum[c]), _mm256_mul_ps(dmin, _mm256_set1_ps(a[c]->d)),
                                  acc[c]);
    }
  }
  for (int c = 0; c < NC; ++c) store_rows(y + c * ldy, acc[c], nr);
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

template <DType kType>
struct FloatKernel {
  static size_t act_bytes(int64_t K) { return static_cast<size_t>(float_panel_k(K)) * 4; }
  static size_t panel_bytes(int64_t K) { return static_cast<size_t>(float_panel_k(K)) * 64; }
  static void pack_act(const float* x, int64_t K, uint8_t* out) { pack_act_float_avx2(kType, x, K, out); }
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

constexpr int kCols = 4;

// Groups whose int16 pair sums can be added before widening: 2·umax·127 per group.
constexpr int run_for(PanelKind k) {
  switch (k) {
    case PanelKind::Q4_0:
    case PanelKind::Q4_1:
    case PanelKind::Q4_K:
    case PanelKind::Q3_K:
    case PanelKind::Q2_K:
      return k == PanelKind::Q4_K || k == PanelKind::Q4_0 || k == PanelKind::Q4_1 ? 8 : 4;
    case PanelKind::Q5_0:
    case PanelKind::Q5_1:
    case PanelKind::Q5_K:
      return 4;
    case PanelKind::Q6_K:
      return 2;
    case PanelKind::Q8_0:
    case PanelKind::Q8_0S:
      return 1;
  }
  return 1;
}

template <PanelKind kKind>
struct Kernel {
  static constexpr PanelGeometry kGeo = panel_geometry(kKind);
  static constexpr int kValues = kGeo.kquant ? 256 : 32;

  static size_t act_bytes(int64_t K) {
    return static_cast<size_t>(K / kValues) * (kGeo.kquant ? sizeof(BlockQ8_K) : sizeof(ActQ8));
  }
  static size_t panel_bytes(int64_t K) { return static_cast<size_t>(K / kValues) * kGeo.unit_bytes; }
  static void pack_act(const float* x, int64_t K, uint8_t* out) {
    if constexpr (kGeo.kquant)
      kernels(DType::Q8_K, SimdLevel::Avx2).from_float(x, out, K);
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
        tile_kquant_half<NC, kGeo.sub_blocks, run_for(kKind), kGeo.has_min>(
            K / 256, kGeo.unit_bytes, panel + 32 * h, act, astride, y + 8 * h, ldy, nrh);
      else
        tile_legacy_half<NC, run_for(kKind), kKind == PanelKind::Q8_0S, kGeo.has_min>(
            K / 32, kGeo.unit_bytes, panel + 32 * h, act, astride, y + 8 * h, ldy, nrh);
    }
  }
  static void tile(int64_t K, const uint8_t* panel, const uint8_t* act, size_t astride, int nc, float* y,
                   int64_t ldy, int nr) {
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
  static constexpr GemmKernel kGemm{kPanelRows, kCols, act_bytes, panel_bytes, pack_act, pack_panel, tile};
};

}  // namespace

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
