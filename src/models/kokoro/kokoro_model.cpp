// KokoroModel: loading and the forward of KModel.forward_with_tokens (spec §2), stage by stage.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <random>

#include "core/error.h"
#include "core/thread_pool.h"
#include "models/kokoro/kokoro_internal.h"
#include "models/kokoro/parallel.h"
#include "models/kokoro/stage_timer.h"

namespace xnai::models::kokoro {
namespace {

constexpr uint64_t kConformanceSeed = 20250607;  // the testdata README's splitmix seed

std::string shape_str(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

// Repeats column i of x [C, T] pred_dur[i] times (x @ alignment).
Mat expand_by_durations(const Mat& x, std::span<const int64_t> dur) {
  int64_t F = 0;
  for (int64_t d : dur) F += d;
  Mat y(x.rows, F);
  for (int64_t c = 0; c < x.rows; ++c) {
    int64_t f = 0;
    for (size_t i = 0; i < dur.size(); ++i)
      for (int64_t k = 0; k < dur[i]; ++k) y.at(c, f++) = x.at(c, static_cast<int64_t>(i));
  }
  return y;
}

// True on a thread running one utterance of synthesize_batch: it must not take the pool
// (the batch runs on it, and holds its lock).
thread_local bool t_batch_item = false;

// Installs the model's pool for this thread if no other synthesis holds it.
struct ScopedPool {
  std::unique_lock<std::mutex> lock;
  PoolScope scope;
  ScopedPool(std::mutex& m, ThreadPool* pool)
      : lock(t_batch_item ? std::unique_lock<std::mutex>()
                          : std::unique_lock<std::mutex>(m, std::try_to_lock)),
        scope(lock.owns_lock() ? pool : nullptr) {}
};

}  // namespace

KokoroModel::KokoroModel() = default;
KokoroModel::~KokoroModel() = default;

std::unique_ptr<KokoroModel> KokoroModel::load(const std::string& pth, const std::string& config_json,
                                               int n_threads) {
  std::unique_ptr<KokoroModel> m(new KokoroModel());
  m->pool_ = std::make_unique<ThreadPool>(n_threads > 0 ? n_threads : default_thread_count());
  m->config_ = std::make_unique<KokoroConfig>(read_config(config_json));
  auto raw = read_raw_params(pth);
  // Every tensor the architecture needs must be there with the shape the config implies;
  // the decoder widths that Python hard-codes are read from the file.
  auto dim0 = [&](const std::string& k) -> int64_t {
    auto it = raw.find(k);
    if (it == raw.end())
      throw Error(ErrorKind::InvalidFormat, pth + ": not a Kokoro checkpoint (no module." + k + ")");
    return it->second.dim(0);
  };
  const auto expected = expected_tensors(config_json, dim0("decoder.encode.conv1.weight_v"),
                                         dim0("decoder.asr_res.0.weight_v"));
  for (const auto& e : expected) {
    if (e.key == "module.embeddings.position_ids") continue;  // optional int64 buffer
    const std::string name = e.module + "." + e.key.substr(7);
    auto it = raw.find(name);
    if (it == raw.end())
      throw Error(ErrorKind::InvalidFormat,
                  pth + ": Kokoro tensor " + e.module + "." + e.key + " is missing");
    if (it->second.shape != e.shape)
      throw Error(ErrorKind::InvalidFormat, pth + ": Kokoro tensor " + e.module + "." + e.key +
                                                " has shape " + shape_str(it->second.shape) + ", expected " +
                                                shape_str(e.shape));
  }
  m->w_ = std::make_unique<Weights>(fold_params(std::move(raw), pth));
  PoolScope scope(m->pool_.get());
  pack_conv_weights_in_place(*m->w_);
  return m;
}

std::vector<int64_t> KokoroModel::ids_from_phonemes(std::string_view ps) const {
  std::vector<int64_t> ids{0};
  const auto* p = reinterpret_cast<const unsigned char*>(ps.data());
  size_t i = 0;
  while (i < ps.size()) {
    char32_t c = p[i];
    size_t n = 1;
    if (c >= 0xF0)
      c &= 0x07, n = 4;
    else if (c >= 0xE0)
      c &= 0x0F, n = 3;
    else if (c >= 0xC0)
      c &= 0x1F, n = 2;
    if (i + n > ps.size()) break;
    for (size_t k = 1; k < n; ++k) c = c << 6 | (p[i + k] & 0x3F);
    i += n;
    if (auto it = config_->vocab.find(c); it != config_->vocab.end()) ids.push_back(it->second);
  }
  ids.push_back(0);
  if (static_cast<int64_t>(ids.size()) > config_->bert_max_pos)
    throw Error(ErrorKind::InvalidArgument,
                "Kokoro: " + std::to_string(ids.size()) + " tokens exceed the context of " +
                    std::to_string(config_->bert_max_pos) + "; split the text first");
  return ids;
}

KokoroOutput KokoroModel::synthesize(std::span<const int64_t> ids, std::span<const float> ref_s, float speed,
                                     bool deterministic_noise, KokoroTaps* taps) const {
  return synthesize(ids, ref_s, speed, deterministic_noise ? NoiseMode::Splitmix : NoiseMode::Normal,
                    deterministic_noise ? kConformanceSeed : std::random_device{}(), taps);
}

std::vector<KokoroOutput> KokoroModel::synthesize_batch(std::span<const BatchItem> items,
                                                        bool deterministic_noise) const {
  std::vector<KokoroOutput> out(items.size());
  // Holding the pool's lock makes every synthesize() below run on its own thread only.
  std::unique_lock<std::mutex> lock(pool_mu_, std::try_to_lock);
  if (!lock.owns_lock() || items.size() < size_t(std::max(pool_->size(), 2))) {
    if (lock.owns_lock()) lock.unlock();
    for (size_t i = 0; i < items.size(); ++i)
      out[i] = synthesize(items[i].input_ids, items[i].ref_s, items[i].speed, deterministic_noise);
    return out;
  }
  std::vector<size_t> order(items.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return items[a].input_ids.size() > items[b].input_ids.size(); });
  // Whole rounds of one utterance per thread; the shortest ones left over (fewer than the
  // threads) then run one by one on the whole pool rather than leaving threads idle.
  const size_t threads = size_t(pool_->size());
  const size_t concurrent = items.size() / threads * threads;
  std::vector<size_t> tail(order.begin() + std::ptrdiff_t(concurrent), order.end());
  order.resize(concurrent);
  std::atomic<size_t> next{0};
  std::vector<std::exception_ptr> errors(items.size());
  pool_->run([&](int, int) {
    t_batch_item = true;
    for (size_t j; (j = next.fetch_add(1, std::memory_order_relaxed)) < order.size();) {
      const BatchItem& it = items[order[j]];
      try {
        out[order[j]] = synthesize(it.input_ids, it.ref_s, it.speed, deterministic_noise);
      } catch (...) {
        errors[order[j]] = std::current_exception();
      }
    }
    t_batch_item = false;
  });
  lock.unlock();
  for (size_t i : tail) {
    try {
      out[i] = synthesize(items[i].input_ids, items[i].ref_s, items[i].speed, deterministic_noise);
    } catch (...) {
      errors[i] = std::current_exception();
    }
  }
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
  return out;
}

KokoroOutput KokoroModel::synthesize(std::span<const int64_t> ids, std::span<const float> ref_s, float speed,
                                     NoiseMode noise, uint64_t seed, KokoroTaps* taps) const {
  const KokoroConfig& c = *config_;
  const Weights& w = *w_;
  ScopedPool pool(pool_mu_, pool_.get());
  const size_t S = static_cast<size_t>(c.style_dim);
  if (ref_s.size() != 2 * S)
    throw Error(ErrorKind::InvalidArgument, "Kokoro: style vector has " + std::to_string(ref_s.size()) +
                                                " values, expected " + std::to_string(2 * S));
  if (!(speed > 0.f) || !std::isfinite(speed))
    throw Error(ErrorKind::InvalidArgument, "Kokoro: speed must be a positive number");
  if (ids.empty()) throw Error(ErrorKind::InvalidArgument, "Kokoro: no input tokens");
  const auto s_dec = ref_s.subspan(0, S), s_pro = ref_s.subspan(S, S);
  StageTimer timer;

  Mat bert_out = albert_forward(c, w, ids);
  timer.lap("albert");
  Mat d_en = linear(bert_out, w.get("bert_encoder.weight"), &w.get("bert_encoder.bias"));  // [T, d_hid]
  Mat d = duration_encoder_forward(c, w, d_en, s_pro);                                     // [T, d_hid+S]
  Mat dur_lstm = bilstm(d, w, "predictor.lstm.");
  Mat logits = linear(dur_lstm, w.get("predictor.duration_proj.linear_layer.weight"),
                      &w.get("predictor.duration_proj.linear_layer.bias"));
  const int64_t T = static_cast<int64_t>(ids.size());
  std::vector<float> dur_float(T);
  KokoroOutput out;
  out.pred_dur.resize(T);
  for (int64_t t = 0; t < T; ++t) {
    float sum = 0.f;
    for (int64_t j = 0; j < logits.cols; ++j) sum += 1.f / (1.f + std::exp(-logits.at(t, j)));
    dur_float[t] = sum / speed;
    // torch.round is half-to-even: nearbyint in the default rounding mode.
    out.pred_dur[t] = std::max<int64_t>(1, static_cast<int64_t>(std::nearbyint(dur_float[t])));
  }
  if (forced_frames_per_token_ > 0)  // synthetic models: a realistic speaking rate
    for (int64_t t = 0; t < T; ++t) {
      const double f = forced_frames_per_token_ / speed;
      out.pred_dur[t] = std::max<int64_t>(1, std::llround((t + 1) * f) - std::llround(t * f));
    }
  timer.lap("durations");
  const Mat en = expand_by_durations(transpose(d), out.pred_dur);  // [d_hid+S, F]
  std::vector<float> F0, N;
  Mat shared;
  f0n_forward(w, en, s_pro, F0, N, taps ? &shared : nullptr);
  timer.lap("f0n");
  Mat t_en = text_encoder_forward(c, w, ids);  // [d_hid, T]
  const Mat asr = expand_by_durations(t_en, out.pred_dur);
  timer.lap("text enc");
  Mat dec_encode;
  Mat gen_in = decoder_forward(w, asr, F0, N, s_dec, taps ? &dec_encode : nullptr);
  // The generator's inputs are handed over (copied only for the taps): it frees each one
  // as soon as it has read it.
  timer.lap("decoder");
  Mat har;
  {
    SourceSignals src = source_forward(c, w, F0, noise, seed);
    har = stft_mag_phase(src.har_source, static_cast<int>(c.n_fft), static_cast<int>(c.hop));
    if (taps) {
      taps->har_source = std::move(src.har_source);
      taps->har = har;
    }
  }
  timer.lap("source");
  if (taps) taps->gen_in = gen_in;
  Mat post = generator_body(c, w, std::move(gen_in), s_dec, std::move(har));
  timer.lap("generator");
  out.audio = istft_from_post(post, static_cast<int>(c.n_fft), static_cast<int>(c.hop));
  timer.lap("istft");
  if (taps) {
    taps->bert_out = std::move(bert_out);
    taps->d_en = std::move(d_en);
    taps->d = std::move(d);
    taps->dur_lstm = std::move(dur_lstm);
    taps->dur_logits = std::move(logits);
    taps->dur_float = std::move(dur_float);
    taps->en = en;
    taps->shared_lstm = std::move(shared);
    taps->F0 = std::move(F0);
    taps->N = std::move(N);
    taps->t_en = std::move(t_en);
    taps->dec_encode = std::move(dec_encode);
    taps->gen_post = std::move(post);
  }
  return out;
}

Mat KokoroModel::decode_to_generator_input(const Mat& t_en, std::span<const int64_t> pred_dur,
                                           std::span<const float> F0, std::span<const float> N,
                                           std::span<const float> s_dec, Mat* dec_encode) const {
  ScopedPool pool(pool_mu_, pool_.get());
  return decoder_forward(*w_, expand_by_durations(t_en, pred_dur), F0, N, s_dec, dec_encode);
}

SourceSignals KokoroModel::harmonic_source(std::span<const float> f0_curve, NoiseMode noise,
                                           uint64_t seed) const {
  return source_forward(*config_, *w_, f0_curve, noise, seed);
}

Mat KokoroModel::generator_post(const Mat& gen_in, std::span<const float> s_dec, const Mat& har) const {
  ScopedPool pool(pool_mu_, pool_.get());
  return generator_body(*config_, *w_, gen_in, s_dec, har);  // copies: the arguments stay the caller's
}

}  // namespace xnai::models::kokoro
