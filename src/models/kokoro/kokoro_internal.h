// Private to models/kokoro: config, folded weights and the plain float32 layer functions.
#pragma once
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "models/kokoro/kokoro.h"

namespace xnai::models::kokoro {

struct KokoroConfig {
  int64_t n_token = 178;
  int64_t style_dim = 128;
  int64_t n_layer = 3;
  int64_t text_kernel = 5;
  int64_t max_dur = 50;
  int64_t hidden_dim = 512;
  // ALBERT
  int64_t bert_hidden = 768, bert_heads = 12, bert_ff = 2048, bert_layers = 12, bert_max_pos = 512;
  int64_t bert_embed = 128;
  // iSTFTNet
  std::vector<int64_t> upsample_rates{10, 6}, upsample_kernels{20, 12};
  int64_t upsample_initial_channel = 512;
  std::vector<int64_t> resblock_kernels{3, 7, 11};
  std::vector<std::vector<int64_t>> resblock_dilations{{1, 3, 5}, {1, 3, 5}, {1, 3, 5}};
  int64_t n_fft = 20, hop = 5;
  std::unordered_map<char32_t, int64_t> vocab;
};

KokoroConfig read_config(const std::string& path);
// The tensor list for a parsed config (the public overload reads config.json first).
std::vector<ExpectedTensor> expected_tensors(const KokoroConfig& c, int64_t encode_out, int64_t asr_res_out);

// A float32 parameter after prefix stripping and weight-norm folding.
struct Param {
  std::vector<int64_t> shape;
  std::vector<float> data;  // row-major in `shape`, unless packed_mr > 0
  // > 0: a conv weight [Cout, Cin, K] held in the direct conv's tile layout for blocks of
  // this many output channels (kokoro_simd.h), packed once at load instead of at every
  // call. Only conv1d() and the direct/FFT convs read such a weight.
  int64_t packed_mr = 0;
  int64_t dim(size_t i) const { return i < shape.size() ? shape[i] : 1; }
};

// Names are "<module>.<key>" without "module." (e.g. "decoder.encode.conv1.weight").
class Weights {
 public:
  const Param& get(const std::string& name) const;  // Throws Error(NotFound) naming it.
  const Param* find(const std::string& name) const;
  bool has(const std::string& name) const { return find(name) != nullptr; }
  std::map<std::string, Param> params;
  std::string source;  // file name for error messages
};

// Checkpoint tensors as "<module>.<key>" (prefix "module." stripped), float32, unfolded.
std::map<std::string, Param> read_raw_params(const std::string& pth_path);
// Folds weight_g/weight_v (and the parametrizations.* names) into "<base>.weight".
Weights fold_params(std::map<std::string, Param> raw, const std::string& source);
// Packs, in place, the weights of the stride-1 convs that take the direct or FFT path at the
// current SIMD level (no-op on the portable level): a synthesis then reads each weight
// once instead of also rereading and rewriting all of it per call. Same memory: the packed
// form replaces the original.
void pack_conv_weights_in_place(Weights& w);
// A packed weight's original [Cout, Cin, K] form; an unpacked one is returned as is.
Param unpacked(const Param& w);

// --- layers (kokoro_layers.cpp, conv1d.cpp, lstm.cpp) ---
// x [N, In] rows -> [N, Out]: y = x W^T + b (W [Out, In]).
Mat linear(const Mat& x, const Param& w, const Param* b);
std::vector<float> linear_vec(std::span<const float> x, const Param& w, const Param& b);
// x [Cin, L] -> [Cout, Lout]; W [Cout, Cin/groups, K].
Mat conv1d(const Mat& x, const Param& w, const Param* b, int stride, int pad, int dilation, int groups = 1);
// The plain loops behind linear / conv1d (the reference the fast paths are tested against)
// and the matmul-based fast paths (gemm.cpp) they dispatch to for big shapes.
Mat linear_plain(const Mat& x, const Param& w, const Param* b);
Mat linear_gemm(const Mat& x, const Param& w, const Param* b);
Mat linear_direct(const Mat& x, const Param& w, const Param* b);  // needs simd::has_conv_direct()
Mat conv1d_plain(const Mat& x, const Param& w, const Param* b, int stride, int pad, int dilation,
                 int groups = 1);
Mat conv1d_gemm(const Mat& x, const Param& w, const Param* b, int stride, int pad, int dilation);
// Stride 1, groups 1, on the SIMD fast paths (conv1d_stride1.h: FFT, Winograd or direct;
// needs simd::has_conv_direct()).
Mat conv1d_direct_mat(const Mat& x, const Param& w, const Param* b, int pad, int dilation);
Mat conv_transpose1d_plain(const Mat& x, const Param& w, const Param* b, int stride, int pad,
                           int output_padding, int groups = 1);
Mat conv_transpose1d_gemm(const Mat& x, const Param& w, const Param* b, int stride, int pad,
                          int output_padding);
// x [Cin, L] -> [Cout, (L-1)s - 2p + K + op]; W [Cin, Cout/groups, K].
Mat conv_transpose1d(const Mat& x, const Param& w, const Param* b, int stride, int pad, int output_padding,
                     int groups = 1);
// Bidirectional single-layer LSTM (PyTorch layout, prefix "<...>." + weight_ih_l0 …): x [T, In] -> [T, 2H].
Mat bilstm(const Mat& x, const Weights& w, const std::string& prefix);

void leaky_relu(Mat& x, float slope);
// Per row of x [N, C]: layer norm over C (biased variance), optional affine.
void layer_norm_rows(Mat& x, const float* gamma, const float* beta, float eps);
Mat transpose(const Mat& x);
// Σ a[i]·b[i] in 16 partial sums (vectorised by the compiler) instead of one serial chain;
// the order is fixed, so the result does not depend on the caller.
inline float dot16(const float* a, const float* b, int64_t n) {
  float acc16[16] = {};
  const int64_t n16 = n / 16 * 16;
  for (int64_t k = 0; k < n16; k += 16)
    for (int l = 0; l < 16; ++l) acc16[l] += a[k + l] * b[k + l];
  float acc = 0.f;
  for (int l = 0; l < 16; ++l) acc += acc16[l];
  for (int64_t k = n16; k < n; ++k) acc += a[k] * b[k];
  return acc;
}
// [C, L] channel-wise: out = (1+gamma) * instance_norm(x) (* norm.weight + norm.bias) + beta.
Mat adain1d(const Mat& x, std::span<const float> s, const Weights& w, const std::string& prefix);
// StyleTTS2 AdainResBlk1d (spec §2.8).
Mat adain_res_blk1d(const Mat& x, std::span<const float> s, const Weights& w, const std::string& prefix,
                    bool upsample);
// iSTFTNet AdaINResBlock1 with Snake (spec §2.10), computed in x's own buffer.
// The fused SIMD path when the level has one (kokoro_simd.h), else the plain one.
// scratch (optional): a buffer for the [C, L] intermediate that callers running several
// blocks pass to each, so its memory is reused instead of allocated per block.
Mat adain_res_block1(Mat x, std::span<const float> s, const Weights& w, const std::string& prefix, int kernel,
                     const std::vector<int64_t>& dilations, Mat* scratch = nullptr);
Mat adain_res_block1_plain(Mat x, std::span<const float> s, const Weights& w, const std::string& prefix,
                           int kernel, const std::vector<int64_t>& dilations);

// --- stages ---
Mat albert_forward(const KokoroConfig& c, const Weights& w, std::span<const int64_t> ids);
Mat text_encoder_forward(const KokoroConfig& c, const Weights& w, std::span<const int64_t> ids);
Mat duration_encoder_forward(const KokoroConfig& c, const Weights& w, const Mat& d_en,
                             std::span<const float> s);
void f0n_forward(const Weights& w, const Mat& en, std::span<const float> s, std::vector<float>& F0,
                 std::vector<float>& N, Mat* shared_out);
Mat decoder_forward(const Weights& w, const Mat& asr, std::span<const float> F0, std::span<const float> N,
                    std::span<const float> s, Mat* dec_encode);
SourceSignals source_forward(const KokoroConfig& c, const Weights& w, std::span<const float> f0_curve,
                             NoiseMode noise, uint64_t seed);
// Takes its inputs by value: each is freed as soon as the stage that reads it is done.
Mat generator_body(const KokoroConfig& c, const Weights& w, Mat x, std::span<const float> s, Mat har);

}  // namespace xnai::models::kokoro
