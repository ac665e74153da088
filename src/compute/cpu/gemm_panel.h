// Private to compute/cpu: the packed layouts of the tiled matmul kernels (matmul_avx2.cpp,
// matmul_avx512.cpp).
//
// A panel holds 16 consecutive weight rows "transposed by groups of four values": for every
// group of 4 consecutive K positions it stores 16 × 4 bytes, row r's 4 bytes at 4·r, so one
// 512-bit register (or two 256-bit ones) holds the same 4 positions of all 16 rows and one
// integer dot instruction (vpdpbusd / vpmaddubsw) advances 16 row dots at once against an
// activation dword broadcast to all lanes. Weights are stored as unsigned bytes (Q8_0S keeps
// them signed); the offset that makes them signed (−8, −16, −128, −32, −4) is taken off with
// per-group integer corrections carried by the activation, so every group dot is exact.
//
// The tiles reproduce ggml's f32 summation order (ggml_order.h) per output: each row lane
// keeps eight f32 accumulators, lane l collecting the groups g ≡ l (mod 8) — except Q4_0,
// whose tile uses the block order of llama.cpp's repacked Q4_0 (one chain per output).
//
// Legacy types (32-value blocks), per block:
//   uint8  w[8][16][4]   groups 0-7 = values 0..31
//   float  d[16]         row scales
//   float  m[16]         row mins (Q4_1 / Q5_1 only)
// K-quants (256-value super-blocks), per super-block:
//   uint8  w[64][16][4]  groups 0-63 = values 0..255
//   int32  sc[S][16]     sub-block scales as int16 pairs (sc, sc) (S = 8 for 32-value
//                        sub-blocks, 16 for 16-value ones), to multiply vpmaddubsw pair sums
//   int32  pr[8][16]     int16 min pairs: Q4_K / Q5_K (m_2k, m_2k+1) for k < 4, Q2_K
//                        (m_2l, m_2l+1) for l < 8 (unused by Q3_K / Q6_K)
//   float  d[16], dmin[16]
//
// Activations: ActQ8 per 32 values (legacy), ActK per 256 values (K-quants).
//
// Float weights (F32, F16, BF16) use a float panel: for every k, the 16 rows' values as f32
// (64 bytes), K padded with zeros to a multiple of 8; activations are f32 columns padded the
// same way, rounded to F16 / BF16 first for those weights (ggml's vec_dot_type).
#pragma once
#include <cstddef>
#include <cstdint>

#include "compute/cpu/matmul_kernels.h"

namespace xnai::cpu::detail {

inline constexpr int kPanelRows = 16;

struct ActQ8 {
  int8_t qs[32];
  float d;           // fp16 scale of the Q8_0 / Q8_1 block, as float
  float s;           // Q8_1: its fp16 s, as float
  int32_t corr_sum;  // Σ corr (the block's whole offset correction)
  int32_t corr[8];   // −(weight offset) · Σ qs[4g .. 4g+3] for group g
  int32_t pad[3];
};
static_assert(sizeof(ActQ8) == 88);

struct ActK {
  float d;
  int8_t qs[256];
  int16_t bsums[16];
  int32_t offs[64];  // Q3_K / Q6_K: int16 pairs offset·(a0+a1), offset·(a2+a3) of group g
  int32_t p32[4];    // int16 pairs (P_2k, P_2k+1), P_j = bsums[2j] + bsums[2j+1]
  int32_t pad[3];
};
static_assert(sizeof(ActK) == 576);

enum class PanelKind {
  Q4_0,
  Q4_1,
  Q5_0,
  Q5_1,
  Q8_0,   // legacy
  Q8_0S,  // Q8_0 kept signed, for vpmaddubsw's sign trick (AVX2)
  Q2_K,
  Q3_K,
  Q4_K,
  Q5_K,
  Q6_K,  // K-quants
};

struct PanelGeometry {
  bool kquant;
  int sub_blocks;     // K-quants: S
  bool has_min;       // legacy: m[16]; K-quants: pr holds mins (else corrections)
  size_t unit_bytes;  // bytes per block / super-block
};

constexpr PanelGeometry panel_geometry(PanelKind k) {
  switch (k) {
    case PanelKind::Q4_1:
    case PanelKind::Q5_1:
      return {false, 0, true, 512 + 128};
    case PanelKind::Q4_0:
    case PanelKind::Q5_0:
    case PanelKind::Q8_0:
    case PanelKind::Q8_0S:
      return {false, 0, false, 512 + 64};
    case PanelKind::Q4_K:
    case PanelKind::Q5_K:
      return {true, 8, true, 4096 + 8 * 64 + 8 * 64 + 128};
    case PanelKind::Q2_K:
      return {true, 16, true, 4096 + 16 * 64 + 8 * 64 + 128};
    case PanelKind::Q3_K:
    case PanelKind::Q6_K:
      return {true, 16, false, 4096 + 16 * 64 + 8 * 64 + 128};
  }
  return {};
}

// Packers (AVX2 code, shared by both SIMD levels). Rows past nr repeat row nr-1.
void pack_panel_avx2(PanelKind kind, int64_t K, const uint8_t* w, size_t w_stride, int nr, uint8_t* panel);
// One F32 column into ActQ8 / ActK units with ggml's Q8_0 / Q8_1 / Q8_K bytes.
void pack_act_q8_avx2(PanelKind kind, const float* x, int64_t K, uint8_t* out);
void pack_act_k_avx2(PanelKind kind, const float* x, int64_t K, uint8_t* out);

// Float panels (wtype F32 / F16 / BF16).
inline int64_t float_panel_k(int64_t K) { return (K + 7) / 8 * 8; }
void pack_panel_float_avx2(DType wtype, int64_t K, const uint8_t* w, size_t w_stride, int nr, uint8_t* panel);
void pack_act_float_avx2(DType wtype, const float* x, int64_t K, uint8_t* out);

}  // namespace xnai::cpu::detail
