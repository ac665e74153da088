// The Kokoro-82M voice as a TtsEngine: the native model (models/kokoro) plus its voice packs.
//
// A Kokoro folder holds the checkpoint (kokoro-v1_0.pth, or the one .pth there), config.json
// and voices/*.pt; a checkpoint path works too (config.json and voices/ beside it). A voice
// is a pack name ("af_heart"), a .pt path, or a weighted mix ("af_bella:2+af_sky:1", the
// packs averaged by weight, as the Kokoro pipelines do).
//
// Thread-safety: synthesize() may run from one thread at a time (the service's rule).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "speech/tts_engine.h"

namespace xnai::models::kokoro {
class KokoroModel;
}

namespace xnai::speech {

struct KokoroEngineOptions {
  std::string path;                // folder or checkpoint
  bool deterministic_noise = false;  // the reference's counter-based noise (spec/testdata)
  int n_threads = 0;                 // 0: default
};

class KokoroEngine : public TtsEngine {
 public:
  // Throws Error naming the missing file (checkpoint, config.json, no voices).
  explicit KokoroEngine(const KokoroEngineOptions& options);
  // An engine around a model built elsewhere (KokoroModel::synthetic for `xnai bench tts`)
  // with one voice, `voice`, whose style table is given (rows x 256 floats, row n-1 for an
  // utterance of n phoneme characters). It speaks American English.
  KokoroEngine(std::unique_ptr<models::kokoro::KokoroModel> model, std::string voice,
               std::vector<float> style_table);
  ~KokoroEngine() override;

  std::string name() const override { return "kokoro-82m"; }
  std::vector<VoiceInfo> list_voices() const override;
  int sample_rate() const override { return 24000; }
  bool needs_phonemes() const override { return true; }
  std::string default_voice() const override;
  std::string voice_language(const std::string& voice) const override;
  Audio synthesize(const SynthesisRequest& request) override;
  // Requests run at once, one per thread (KokoroModel::synthesize_batch).
  int max_batch() const override { return kMaxBatch; }
  std::vector<Audio> synthesize_batch(std::span<const SynthesisRequest> requests) override;

 private:
  static constexpr int kMaxBatch = 16;  // each request's activations live at once
  // The style vector and ids of one request, checked (unknown voice, bad speed).
  struct Prepared {
    std::vector<int64_t> ids;
    std::span<const float> ref_s;
  };
  Prepared prepare(const SynthesisRequest& request);
  // The 510×256 style table a voice spec names (cached).
  const std::vector<float>& style_table(const std::string& spec);
  std::vector<std::string> pack_names() const;

  KokoroEngineOptions options_;
  std::unique_ptr<models::kokoro::KokoroModel> model_;
  std::string voices_dir_;
  std::string builtin_voice_;  // the given-table voice of the second constructor, or ""
  std::map<std::string, std::vector<float>> tables_;  // spec -> rows × 256
  std::map<std::string, size_t> table_rows_;
};

}  // namespace xnai::speech
