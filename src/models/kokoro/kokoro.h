// Kokoro-82M v1.0 text-to-speech (StyleTTS2 + iSTFTNet) on the CPU, read directly from the
// official PyTorch checkpoint (kokoro-v1_0.pth), its config.json and voice packs (*.pt).
// The architecture and every formula are in ../shared/kokoro-spec.md; this is a plain
// float32 port of the upstream PyTorch modules, checked stage by stage against the
// reference tensors in ../shared/testdata/kokoro (tests/conformance/kokoro_conformance_test).
//
// Shapes: [C, L] = channels x time, row-major, batch dimension dropped. 24 kHz audio.
// Ownership: a KokoroModel owns its (weight-norm-folded) weights; the checkpoint file is
// not kept open. Thread-safety: a loaded model is immutable; synthesize() and the stage
// functions may run on several threads at once.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace xnai {
class ThreadPool;
}

namespace xnai::models::kokoro {

// A row-major matrix: [rows, cols]. For [C, L] tensors rows = channels.
struct Mat {
  int64_t rows = 0, cols = 0;
  std::vector<float> v;
  Mat() = default;
  Mat(int64_t r, int64_t c, float fill = 0.f) : rows(r), cols(c), v(static_cast<size_t>(r * c), fill) {}
  float* row(int64_t r) { return v.data() + r * cols; }
  const float* row(int64_t r) const { return v.data() + r * cols; }
  float& at(int64_t r, int64_t c) { return v[static_cast<size_t>(r * cols + c)]; }
  float at(int64_t r, int64_t c) const { return v[static_cast<size_t>(r * cols + c)]; }
};

// How the Gaussian noise of the harmonic source (spec §2.11 step 9) is drawn.
enum class NoiseMode {
  Normal,    // counter-based float Box-Muller on a random seed (production)
  Splitmix,  // the counter-based generator of the conformance data (deterministic)
  Zero,      // no noise
};

// Intermediate tensors of one synthesis, for tests and debugging (spec §6 / testdata README).
struct KokoroTaps {
  Mat bert_out;                   // [T, hidden]
  Mat d_en;                       // [T, d_hid] (before the transpose)
  Mat d;                          // [T, d_hid + style]
  Mat dur_lstm;                   // [T, d_hid]
  Mat dur_logits;                 // [T, max_dur]
  std::vector<float> dur_float;   // [T]
  Mat en;                         // [d_hid + style, F]
  Mat shared_lstm;                // [F, d_hid]
  std::vector<float> F0, N;       // [2F]
  Mat t_en;                       // [d_hid, T]
  Mat dec_encode;                 // [encode_out, F]
  Mat gen_in;                     // [gen_channels, 2F]
  std::vector<float> har_source;  // [600F]
  Mat har;                        // [n_fft + 2, S]
  Mat gen_post;                   // [n_fft + 2, S]
};

struct KokoroOutput {
  std::vector<float> audio;       // 24 kHz mono
  std::vector<int64_t> pred_dur;  // frames per token (incl. the two boundary tokens)
};

// The harmonic source before tanh merging, for the source unit test.
struct SourceSignals {
  Mat sine_waves;                 // [L, 9] = sines * uv + noise
  std::vector<float> uv;          // [L]
  std::vector<float> har_source;  // [L]
};

struct KokoroConfig;  // kokoro_internal.h
class Weights;

// A model with the exact tensor shapes of Kokoro-82M v1.0 and seeded random weights, for
// benchmarks when no checkpoint is present (speed does not depend on weight values).
struct SyntheticKokoroOptions {
  uint64_t seed = 1;
  // Random weights predict ~25 frames per phoneme; real speech has 3-4, so the durations
  // are forced to this mean (0 = keep the predicted ones).
  double frames_per_token = 3.5;
  int n_threads = 0;
};

class KokoroModel {
 public:
  static constexpr int kSampleRate = 24000;

  // Reads the checkpoint and config.json. Throws Error naming the file and the key that is
  // missing or has an unexpected shape. n_threads: the model's pool for the big layers
  // (0 = default_thread_count()); a synthesis running while another holds the pool runs
  // on its own thread alone. Results do not depend on the thread count.
  static std::unique_ptr<KokoroModel> load(const std::string& pth_path, const std::string& config_json_path,
                                           int n_threads = 0);
  // Kokoro-82M shapes, random weights; its vocabulary takes every code point below U+0300
  // (Latin and IPA), so a phoneme string gives about one token per character.
  static std::unique_ptr<KokoroModel> synthetic(const SyntheticKokoroOptions& options = {});
  ~KokoroModel();

  // Phoneme string -> [0, ids..., 0]; code points outside the vocab are dropped.
  // Throws Error(InvalidArgument) when the result exceeds the context (512 tokens).
  std::vector<int64_t> ids_from_phonemes(std::string_view phonemes) const;

  // Full forward. ref_s: 256 floats (decoder style [0,128), prosody style [128,256)).
  KokoroOutput synthesize(std::span<const int64_t> input_ids, std::span<const float> ref_s, float speed,
                          bool deterministic_noise, KokoroTaps* taps = nullptr) const;
  KokoroOutput synthesize(std::span<const int64_t> input_ids, std::span<const float> ref_s, float speed,
                          NoiseMode noise, uint64_t seed, KokoroTaps* taps) const;

  // Several utterances at once (KOKORO_BATCH_SIZE): in whole rounds of one utterance per
  // pool thread, longest first, so one's serial stretches (LSTMs, small layers, pool
  // hand-offs) overlap the others' work; the few left over run on the whole pool. The audio
  // is what synthesize() gives one by one (results do not depend on the thread count). The
  // first failure is rethrown once all have finished.
  struct BatchItem {
    std::span<const int64_t> input_ids;
    std::span<const float> ref_s;
    float speed = 1.f;
  };
  std::vector<KokoroOutput> synthesize_batch(std::span<const BatchItem> items,
                                             bool deterministic_noise) const;

  // --- Stages, separately callable so tests can feed reference inputs. ---
  // Decoder front: t_en [d_hid, T], durations, F0/N curves [2F], s_dec [128] -> generator
  // input [C, 2F]; dec_encode (optional) receives the encode block's output.
  Mat decode_to_generator_input(const Mat& t_en, std::span<const int64_t> pred_dur, std::span<const float> F0,
                                std::span<const float> N, std::span<const float> s_dec,
                                Mat* dec_encode) const;
  // Harmonic source from a frame-rate F0 curve (each value covers 300 samples).
  SourceSignals harmonic_source(std::span<const float> f0_curve, NoiseMode noise, uint64_t seed) const;
  // Generator body: input [C, 2F], s_dec, har [22, S] -> conv_post output [22, S].
  Mat generator_post(const Mat& gen_in, std::span<const float> s_dec, const Mat& har) const;

  const KokoroConfig& config() const { return *config_; }

 private:
  KokoroModel();
  std::unique_ptr<KokoroConfig> config_;
  std::unique_ptr<Weights> w_;
  std::unique_ptr<ThreadPool> pool_;
  mutable std::mutex pool_mu_;
  double forced_frames_per_token_ = 0;  // > 0 only for synthetic models
};

// STFT of spec §2.12 (n_fft 20, hop 5, periodic Hann, reflect padding): [22, L/5+1] with
// magnitudes in rows 0-10 and phases (atan2) in rows 11-21.
Mat stft_mag_phase(std::span<const float> signal, int n_fft = 20, int hop = 5);
// iSTFT of spec §2.12 from conv_post output: spec = exp(rows 0..n/2), phase = sin(rest).
std::vector<float> istft_from_post(const Mat& post, int n_fft = 20, int hop = 5);

// One voice pack ([N, 1, 256] float tensor in a .pt file).
class VoicePack {
 public:
  static VoicePack load(const std::string& pt_path);  // Throws Error naming the file.
  // Style row for an utterance of n_phoneme_chars characters (Python rule: row n-1,
  // clamped to the pack).
  std::span<const float> style_for(size_t n_phoneme_chars) const;
  size_t rows() const { return rows_; }

 private:
  size_t rows_ = 0;
  std::vector<float> data_;
};

// Number of Unicode code points of a UTF-8 phoneme string (what picks the voice row).
size_t phoneme_char_count(std::string_view phonemes);

// Every tensor a Kokoro checkpoint must hold, with its shape ("module.<key>" names, by the
// five top-level modules), built from the config and the decoder widths that the Python
// code hard-codes (defaults: the real 1024 / 64 / 512).
struct ExpectedTensor {
  std::string module, key;
  std::vector<int64_t> shape;
};
std::vector<ExpectedTensor> expected_tensors(const std::string& config_json_path, int64_t encode_out = 1024,
                                             int64_t asr_res_out = 64);

}  // namespace xnai::models::kokoro
