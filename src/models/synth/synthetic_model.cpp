// Assembles a synthetic model: metadata in the converter's key order, then the tensors of
// plan_tensors() streamed into the output file (nothing model-sized is held in RAM).
#include "models/synth/synthetic_model.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "core/thread_pool.h"
#include "formats/gguf.h"
#include "models/synth/synth_internal.h"

namespace xnai::synth {
namespace {

constexpr float kWeightStd = 0.02f;  // typical std of trained LLM weight matrices
constexpr float kNormStd = 0.02f;    // RMSNorm gains 1 ± this
constexpr float kBiasStd = 0.02f;

void add_metadata(gguf::GgufWriter& w, const ModelShape& s, const SynthOptions& o) {
  const std::string a = s.arch + ".";
  w.set_string("general.architecture", s.arch);
  w.set_string("general.type", "model");
  w.set_string("general.name", s.name);
  if (!s.version.empty()) w.set_string("general.version", s.version);
  if (!s.finetune.empty()) w.set_string("general.finetune", s.finetune);
  w.set_string("general.basename", s.basename);
  // Not in a converted file: says plainly that the weights are not the real ones.
  w.set_string("general.description", "random weights with the shapes of " + s.hf_repo +
                                          ", written by xnai model synth (seed " + std::to_string(o.seed) +
                                          ")");
  w.set_string("general.size_label", s.size_label);
  w.set_string("general.license", s.license);

  w.set_u32(a + "block_count", static_cast<uint32_t>(s.n_layer));
  w.set_u32(a + "context_length", static_cast<uint32_t>(s.n_ctx));
  w.set_u32(a + "embedding_length", static_cast<uint32_t>(s.n_embd));
  w.set_u32(a + "feed_forward_length", static_cast<uint32_t>(s.n_ff));
  w.set_u32(a + "attention.head_count", static_cast<uint32_t>(s.n_head));
  w.set_u32(a + "attention.head_count_kv", static_cast<uint32_t>(s.n_head_kv));
  if (s.rope_theta > 0) w.set_f32(a + "rope.freq_base", static_cast<float>(s.rope_theta));
  w.set_f32(a + "attention.layer_norm_rms_epsilon", static_cast<float>(s.rms_eps));
  if (s.head_dim) {
    w.set_u32(a + "attention.key_length", static_cast<uint32_t>(s.head_dim));
    w.set_u32(a + "attention.value_length", static_cast<uint32_t>(s.head_dim));
  }
  w.set_u32("general.file_type", recipe_file_type(o.recipe));
  if (s.writes_vocab_size) {
    w.set_u32(a + "vocab_size", static_cast<uint32_t>(s.n_vocab));
    w.set_u32(a + "rope.dimension_count", static_cast<uint32_t>(s.effective_head_dim()));
  }
  if (o.vocab_from.empty())
    detail::add_synthetic_vocab(w, s);
  else
    detail::add_vocab_from_file(w, s, o.vocab_from);
  w.set_u32("general.quantization_version", 2);
}

bool ends_with(const std::string& s, const char* suffix) {
  const size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

}  // namespace

SynthSummary write_synthetic_model(const ModelShape& shape, const SynthOptions& options,
                                   const std::string& path) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<TensorPlan> plan = plan_tensors(shape, options.recipe);

  gguf::GgufWriter w;
  add_metadata(w, shape, options);

  SynthSummary sum;
  SynthProgress progress;
  progress.tensors_total = plan.size();
  for (const auto& t : plan) {
    int64_t n = 1;
    for (int64_t d : t.ne) n *= d;
    sum.n_params += n;
    progress.bytes_total += row_size(t.type, t.ne[0]) * static_cast<uint64_t>(n / t.ne[0]);
  }
  sum.n_tensors = plan.size();
  sum.data_bytes = progress.bytes_total;

  ThreadPool pool(options.n_threads > 0 ? options.n_threads : default_thread_count());
  const std::vector<float> rope_factors = llama3_rope_factors(shape);
  for (const auto& t : plan) {
    const uint64_t seed = detail::tensor_seed(options.seed, t.name);
    auto fill = [&, t, seed](uint8_t* dst, size_t nbytes) {
      if (t.name == "rope_freqs.weight") {
        std::memcpy(dst, rope_factors.data(), std::min(nbytes, rope_factors.size() * sizeof(float)));
      } else if (t.ne.size() == 1 && ends_with(t.name, "norm.weight")) {
        detail::fill_gaussian_f32(reinterpret_cast<float*>(dst), nbytes / 4, seed, 1.0f, kNormStd);
      } else if (t.ne.size() == 1) {
        detail::fill_gaussian_f32(reinterpret_cast<float*>(dst), nbytes / 4, seed, 0.0f, kBiasStd);
      } else {
        detail::fill_random(t.type, dst, nbytes, seed, kWeightStd, pool);
      }
      ++progress.tensors_done;
      progress.bytes_done += nbytes;
      if (options.on_progress) options.on_progress(progress);
    };
    w.add_tensor_generated(t.name, t.type, t.ne, fill);
  }
  w.write(path);

  sum.file_bytes = std::filesystem::file_size(path);
  sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return sum;
}

}  // namespace xnai::synth
