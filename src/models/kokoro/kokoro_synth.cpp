// Kokoro-82M-shaped models with seeded random weights (KokoroModel::synthetic): the tensor
// list is the one load() checks real files against, filled with values of sensible scale
// so every stage stays finite (unit-variance convs, PyTorch's LSTM init, F0 around 150 Hz,
// a quiet conv_post so exp() of the magnitudes stays tame).
#include <cmath>
#include <random>

#include "core/thread_pool.h"
#include "models/kokoro/kokoro_internal.h"
#include "models/kokoro/parallel.h"

namespace xnai::models::kokoro {
namespace {

bool ends_with(const std::string& s, const std::string& sfx) {
  return s.size() >= sfx.size() && s.compare(s.size() - sfx.size(), sfx.size(), sfx) == 0;
}

// Values for one tensor, by what its name says it is.
std::vector<float> random_values(const std::string& name, const std::vector<int64_t>& shape,
                                 std::mt19937_64& rng) {
  size_t n = 1;
  for (int64_t d : shape) n *= static_cast<size_t>(d);
  std::vector<float> v(n);
  auto fill_uniform = [&](float a) {
    std::uniform_real_distribution<float> u(-a, a);
    for (float& x : v) x = u(rng);
  };
  auto fill_const = [&](float c) { std::fill(v.begin(), v.end(), c); };
  const bool is_norm =
      name.find("LayerNorm") != std::string::npos || name.find("layer_norm") != std::string::npos ||
      (name.find("cnn.") != std::string::npos && (ends_with(name, ".gamma") || ends_with(name, ".beta")));
  if (is_norm) {
    fill_const(ends_with(name, "weight") || ends_with(name, "gamma") ? 1.f : 0.f);
  } else if (name.find(".alpha") != std::string::npos) {
    fill_const(1.f);  // Snake alpha
  } else if (name.find("F0_proj.bias") != std::string::npos) {
    fill_const(150.f);  // voiced, in Hz
  } else if (ends_with(name, "bias") || ends_with(name, "bias_ih_l0") || ends_with(name, "bias_hh_l0") ||
             ends_with(name, "bias_ih_l0_reverse") || ends_with(name, "bias_hh_l0_reverse")) {
    fill_uniform(0.02f);
  } else if (name.find("embeddings") != std::string::npos ||
             name.find("embedding.weight") != std::string::npos) {
    fill_uniform(0.05f);
  } else if (name.find("_l0") != std::string::npos) {  // LSTM weights: U(±1/sqrt(H))
    fill_uniform(1.f / std::sqrt(static_cast<float>(shape.back() > 1 ? shape[0] / 4 : 1)));
  } else {
    // Linear [out, in] or conv [out, in, k] (transposed convs: [in, out, k]); fan-in from
    // every dim but the first keeps unit variance through the layer.
    int64_t fan_in = 1;
    for (size_t i = 1; i < shape.size(); ++i) fan_in *= shape[i];
    float scale = std::sqrt(3.f / static_cast<float>(std::max<int64_t>(fan_in, 1)));
    if (name.find("conv_post") != std::string::npos) scale *= 0.1f;
    if (name.find("F0_proj") != std::string::npos || name.find("N_proj") != std::string::npos) scale *= 0.1f;
    fill_uniform(scale);
  }
  return v;
}

}  // namespace

std::unique_ptr<KokoroModel> KokoroModel::synthetic(const SyntheticKokoroOptions& o) {
  std::unique_ptr<KokoroModel> m(new KokoroModel());
  m->pool_ = std::make_unique<ThreadPool>(o.n_threads > 0 ? o.n_threads : default_thread_count());
  auto cfg = std::make_unique<KokoroConfig>();  // the defaults are Kokoro-82M v1.0's values
  for (char32_t cp = 0x20; cp < 0x300; ++cp)
    cfg->vocab[cp] = 1 + static_cast<int64_t>(cp) % (cfg->n_token - 1);
  std::mt19937_64 rng(o.seed);
  auto w = std::make_unique<Weights>();
  w->source = "synthetic Kokoro-82M";
  for (const ExpectedTensor& e : expected_tensors(*cfg, 1024, 64)) {
    if (e.key == "module.embeddings.position_ids") continue;
    std::string name = e.module + "." + e.key.substr(7);
    if (ends_with(name, ".weight_g")) continue;  // folded form only: "<base>.weight"
    if (ends_with(name, ".weight_v")) name = name.substr(0, name.size() - 8) + "weight";
    w->params[name] = Param{e.shape, random_values(name, e.shape, rng)};
  }
  {
    PoolScope scope(m->pool_.get());
    pack_conv_weights_in_place(*w);
  }
  m->config_ = std::move(cfg);
  m->w_ = std::move(w);
  m->forced_frames_per_token_ = o.frames_per_token;
  return m;
}

}  // namespace xnai::models::kokoro
