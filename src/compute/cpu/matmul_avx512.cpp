// AVX-512 VNNI tile kernels of the tiled matmul: one zmm lane per panel row, vpdpbusd
// against activation dwords broadcast to all lanes, exact int32 block sums, then one
// convert and one fused multiply-add per block and column. Layouts in gemm_panel.h.
#include <immintrin.h>

#include <cstring>

#include "compute/cpu/gemm_panel.h"
#include "compute/cpu/simd_avx512.h"
#include "core/quant_blocks.h"

namespace xnai::cpu::detail {
namespace {

inline __m512i bcast32(const void* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

inline __m512 load_ps(const uint8_t* p) { return _mm512_loadu_ps(reinterpret_cast<const float*>(p)); }
inline __m512i load_si(const uint8_t* p) { return _mm512_loadu_si512(p); }

template <int NC, bool kMin>
void tile_legacy(int64_t nb, size_t unit, const uint8_t* panel, const uint8_t* act, size_t astride, float* y,
                 int64_t ldy, int nr) {
  __m512 acc[NC];
  for (int c = 0; c < NC; ++c) acc[c] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* p = panel + b * unit;
    const ActQ8* a[NC];
    __m512i t[NC];
    for (int c = 0; c < NC; ++c) {
      a[c] = reinterpret_cast<const ActQ8*>(act + c * astride) + b;
      t[c] = kMin ? _mm512_setzero_si512() : _mm512_set1_epi32(a[c]->aux);
    }
    for (int g = 0; g < 8; ++g) {
      const __m512i w = load_si(p + 64 * g);
      for (int c = 0; c < NC; ++c) t[c] = _mm512_dpbusd_epi32(t[c], w, bcast32(a[c]->qs + 4 * g));
    }
    const __m512 dw = load_ps(p + 512);
    for (int c = 0; c < NC; ++c)
      acc[c] = _mm512_fmadd_ps(to_ps(t[c]), _mm512_mul_ps(dw, _mm512_set1_ps(a[c]->d)), acc[c]);
    if constexpr (kMin) {
      const __m512 m = load_ps(p + 576);
      for (int c = 0; c < NC; ++c) {
        float s;
        std::memcpy(&s, &a[c]->aux, 4);
        acc[c] = _mm512_fmadd_ps(m, _mm512_set1_ps(s), acc[c]);
      }
    }
  }
  const __mmask16 mask = static_cast<__mmask16>((1u << nr) - 1);
  for (int c = 0; c < NC; ++c) _mm512_mask_storeu_ps(y + c * ldy, mask, acc[c]);
}

template <int NC, int S, bool kMin>
void tile_kquant(int64_t nsb, size_t unit, const uint8_t* panel, const uint8_t* act, size_t astride, float* y,
                 int64_t ldy, int nr) {
  constexpr int G = 64 / S;  // groups of 4 values per sub-block
  __m512 acc[NC];
  for (int c = 0; c < NC; ++c) acc[c] = _mm512_setzero_ps();
  for (int64_t sb = 0; sb < nsb; ++sb) {
    const uint8_t* p = panel + sb * unit;
    const uint8_t* sc = p + 4096;
    const uint8_t* pr = sc + S * 64;
    const uint8_t* dd = pr + 8 * 64;
    const BlockQ8_K* a[NC];
    __m512i isum[NC];
    for (int c = 0; c < NC; ++c) {
      a[c] = reinterpret_cast<const BlockQ8_K*>(act + c * astride) + sb;
      isum[c] = _mm512_setzero_si512();
    }
    for (int j = 0; j < S; ++j) {
      __m512i t[NC];
      for (int c = 0; c < NC; ++c) t[c] = _mm512_setzero_si512();
      for (int g = 0; g < G; ++g) {
        const __m512i w = load_si(p + 64 * (j * G + g));
        for (int c = 0; c < NC; ++c) t[c] = _mm512_dpbusd_epi32(t[c], w, bcast32(a[c]->qs + 4 * (j * G + g)));
      }
      const __m512i s = load_si(sc + 64 * j);
      for (int c = 0; c < NC; ++c) isum[c] = _mm512_add_epi32(isum[c], _mm512_mullo_epi32(t[c], s));
    }
    if constexpr (!kMin) {
      for (int k = 0; k < 8; ++k) {
        const __m512i q = load_si(pr + 64 * k);
        for (int c = 0; c < NC; ++c) isum[c] = _mm512_dpwssd_epi32(isum[c], q, bcast32(a[c]->bsums + 2 * k));
      }
    }
    const __m512 dw = load_ps(dd);
    for (int c = 0; c < NC; ++c)
      acc[c] = _mm512_fmadd_ps(to_ps(isum[c]), _mm512_mul_ps(dw, _mm512_set1_ps(a[c]->d)), acc[c]);
    if constexpr (kMin) {
      for (int c = 0; c < NC; ++c) isum[c] = _mm512_setzero_si512();
      for (int k = 0; k < 8; ++k) {
        const __m512i q = load_si(pr + 64 * k);
        for (int c = 0; c < NC; ++c) isum[c] = _mm512_dpwssd_epi32(isum[c], q, bcast32(a[c]->bsums + 2 * k));
      }
      const __m512 dmin = load_ps(dd + 64);
      for (int c = 0; c < NC; ++c)
        acc[c] = _mm512_fnmadd_ps(to_ps(isum[c]), _mm512_mul_ps(dmin, _mm512_set1_ps(a[c]->d)), acc[c]);
    }
  }
  const __mmask16 mask = static_cast<__mmask16>((1u << nr) - 1);
  for (int c = 0; c < NC; ++c) _mm512_mask_storeu_ps(y + c * ldy, mask, acc[c]);
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

template <DType kType>
struct FloatKernel {
  static size_t act_bytes(int64_t K) { return static_cast<size_t>(float_panel_k(K)) * 4; }
  static size_t panel_bytes(int64_t K) { return static_cast<size_t>(float_panel_k(K)) * 64; }
  static void pack_act(const float* x, int64_t K, uint8_t* out) { pack_act_float_avx2(kType, x, K, out); }
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

constexpr int kLegacyCols = 8;
constexpr int kKQuantCols = 6;

template <PanelKind kKind>
struct Kernel {
  static constexpr PanelGeometry kGeo = panel_geometry(kKind);
  static constexpr int kValues = kGeo.kquant ? 256 : 32;
  static constexpr int kCols = kGeo.kquant ? kKQuantCols : kLegacyCols;

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
    if constexpr (kGeo.kquant)
      tile_kquant<NC, kGeo.sub_blocks, kGeo.has_min>(K / 256, kGeo.unit_bytes, panel, act, astride, y, ldy,
                                                     nr);
    else
      tile_legacy<NC, kGeo.has_min>(K / 32, kGeo.unit_bytes, panel, act, astride, y, ldy, nr);
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
      case 4:
        return tile_n<4>(K, panel, act, astride, y, ldy, nr);
      case 5:
        return tile_n<5>(K, panel, act, astride, y, ldy, nr);
      case 6:
        return tile_n<6>(K, panel, act, astride, y, ldy, nr);
      default:
        if constexpr (kCols >= 8) {
          if (nc == 7) return tile_n<7>(K, panel, act, astride, y, ldy, nr);
          return tile_n<8>(K, panel, act, astride, y, ldy, nr);
        }
    }
  }
  static constexpr GemmKernel kGemm{kPanelRows, kCols, act_bytes, panel_bytes, pack_act, pack_panel, tile};
};

}  // namespace

MatmulKernels matmul_kernels_avx512(DType wtype) {
  MatmulKernels k;
  k.gemv = gemv_kernel_avx512(wtype);
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
