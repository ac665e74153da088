// Kokoro loading: the tensor list derived from the architecture equals the one taken from
// the upstream Python modules for the real Kokoro-82M config; weight norm folds to
// g·v/‖v‖; absent AdaIN affine params act as identity; bad files name what is wrong.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "core/error.h"
#include "core/thread_pool.h"
#include "formats/torch_checkpoint.h"
#include "models/kokoro/kokoro.h"
#include "models/kokoro/kokoro_internal.h"
#include "models/kokoro/parallel.h"
#include "test_support.h"

namespace xnai::models::kokoro {
namespace {

std::string shape_str(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(KokoroLoad, ExpectedTensorsEqualTheRealModelList) {
  XNAI_SKIP_IF_MISSING(cfg, "kokoro/kokoro-82m-v1.0-config.json");
  XNAI_SKIP_IF_MISSING(tsv, "kokoro/kokoro-82m-v1.0-expected-keys.tsv");
  std::set<std::string> want, got;
  std::ifstream f(tsv);
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream ls(line);
    std::string module, key, shape;
    std::getline(ls, module, '\t');
    std::getline(ls, key, '\t');
    std::getline(ls, shape, '\t');
    want.insert(module + "\t" + key + "\t" + shape);
  }
  const auto list = expected_tensors(cfg.string());
  for (const auto& e : list) got.insert(e.module + "\t" + e.key + "\t" + shape_str(e.shape));
  EXPECT_EQ(list.size(), 549u);
  EXPECT_EQ(got.size(), list.size()) << "duplicate names";
  for (const auto& w : want) EXPECT_TRUE(got.count(w)) << "missing from the derived list: " << w;
  for (const auto& g : got) EXPECT_TRUE(want.count(g)) << "not in the upstream list: " << g;
}

TEST(KokoroLoad, WeightNormFoldsToGTimesVOverNorm) {
  XNAI_SKIP_IF_MISSING(pth, "kokoro/kokoro-testdata.pth");
  auto ck = torch::Checkpoint::open(pth.string());
  auto raw = read_raw_params(pth.string());
  const Weights w = fold_params(raw, pth.string());
  for (const std::string base : {"decoder.generator.conv_post.", "decoder.generator.ups.0.",
                                 "decoder.decode.3.pool.", "text_encoder.cnn.1.0."}) {
    const auto g = ck->find(base.substr(0, base.find('.') + 1) + "module." + base.substr(base.find('.') + 1) +
                            "weight_g");
    const auto v = ck->find(base.substr(0, base.find('.') + 1) + "module." + base.substr(base.find('.') + 1) +
                            "weight_v");
    ASSERT_TRUE(g && v) << base;
    const auto gv = g->to_float(), vv = v->to_float();
    const Param& W = w.get(base + "weight");
    EXPECT_FALSE(w.has(base + "weight_g"));
    ASSERT_EQ(W.shape, v->shape);
    const size_t d0 = static_cast<size_t>(v->shape[0]), per = vv.size() / d0;
    for (size_t o = 0; o < d0; ++o) {
      double ss = 0;
      for (size_t i = 0; i < per; ++i) ss += double(vv[o * per + i]) * vv[o * per + i];
      for (size_t i = 0; i < per; ++i)
        ASSERT_NEAR(W.data[o * per + i], gv[o] * vv[o * per + i] / std::sqrt(ss), 1e-6)
            << base << " row " << o;
    }
    EXPECT_GT(std::fabs(gv[0] - std::sqrt([&] {
                          double ss = 0;
                          for (size_t i = 0; i < per; ++i) ss += double(vv[i]) * vv[i];
                          return ss;
                        }())),
              1e-3)
        << "test data should have g != |v| so folding is exercised";
  }
  EXPECT_FALSE(w.has("decoder.encode.norm1.norm.weight"));  // absent, as in the real file
}

TEST(KokoroLoad, AbsentAdaInAffineIsIdentityPresentOneIsApplied) {
  Weights w;
  w.source = "mem";
  const int64_t C = 2, S = 3;
  w.params["b.fc.weight"] = Param{{2 * C, S}, {0.1f, 0, 0, 0, 0.2f, 0, 0, 0, 0.3f, 0, 0, 0}};
  w.params["b.fc.bias"] = Param{{2 * C}, {0, 0, 0.5f, -0.5f}};
  Mat x(C, 4);
  x.v = {1, 2, 3, 4, -1, 0, 1, 5};
  const std::vector<float> s = {1, 1, 1};
  const Mat plain = adain1d(x, s, w, "b");
  // gamma = (0.1, 0.2), beta = (0.5 + 0.3, -0.5): row 0 normalised is (-1.342, -0.447, 0.447, 1.342).
  EXPECT_NEAR(plain.at(0, 0), 1.1f * -1.3416355f + 0.8f, 1e-4);
  w.params["b.norm.weight"] = Param{{C}, {1, 1}};
  w.params["b.norm.bias"] = Param{{C}, {0, 0}};
  EXPECT_EQ(adain1d(x, s, w, "b").v, plain.v);
  w.params["b.norm.weight"] = Param{{C}, {2, 1}};
  const Mat scaled = adain1d(x, s, w, "b");
  EXPECT_NEAR(scaled.at(0, 0), 1.1f * 2 * -1.3416355f + 0.8f, 1e-4);
  EXPECT_EQ(scaled.at(1, 2), plain.at(1, 2));
}

TEST(KokoroLoad, ErrorsNameTheFileAndTheProblem) {
  XNAI_SKIP_IF_MISSING(pth, "kokoro/kokoro-testdata.pth");
  XNAI_SKIP_IF_MISSING(cfg, "kokoro/config.json");
  XNAI_SKIP_IF_MISSING(real_cfg, "kokoro/kokoro-82m-v1.0-config.json");
  XNAI_SKIP_IF_MISSING(voice, "kokoro/voice-testdata.pt");
  std::string e = error_of([&] { KokoroModel::load(pth.string(), "/nonexistent/config.json"); });
  EXPECT_NE(e.find("/nonexistent/config.json"), std::string::npos) << e;
  e = error_of([&] { KokoroModel::load(voice.string(), cfg.string()); });
  EXPECT_NE(e.find(voice.string()), std::string::npos) << e;
  EXPECT_NE(e.find("not a Kokoro checkpoint"), std::string::npos) << e;
  // The shrunk checkpoint against the real config: a shape mismatch, named.
  e = error_of([&] { KokoroModel::load(pth.string(), real_cfg.string()); });
  EXPECT_NE(e.find("has shape"), std::string::npos) << e;
  EXPECT_NE(e.find("expected"), std::string::npos) << e;
  e = error_of([&] { VoicePack::load(pth.string()); });
  EXPECT_NE(e.find("voice pack"), std::string::npos) << e;
  e = error_of([&] { KokoroModel::load(cfg.string(), cfg.string()); });
  EXPECT_NE(e.find("not a zip"), std::string::npos) << e;
}

TEST(KokoroLoad, PhonemeIdsAndVoiceRows) {
  XNAI_SKIP_IF_MISSING(pth, "kokoro/kokoro-testdata.pth");
  XNAI_SKIP_IF_MISSING(cfg, "kokoro/config.json");
  XNAI_SKIP_IF_MISSING(voice, "kokoro/voice-testdata.pt");
  auto m = KokoroModel::load(pth.string(), cfg.string());
  // "a" = 43, " " = 16, U+0303 combining tilde = 17 in the real vocab; '#' is not in it.
  EXPECT_EQ(m->ids_from_phonemes("a #\xcc\x83"), (std::vector<int64_t>{0, 43, 16, 17, 0}));
  EXPECT_EQ(m->ids_from_phonemes(""), (std::vector<int64_t>{0, 0}));
  EXPECT_NE(error_of([&] { m->ids_from_phonemes(std::string(600, 'a')); }).find("context"),
            std::string::npos);
  const VoicePack v = VoicePack::load(voice.string());
  EXPECT_EQ(v.rows(), 510u);
  EXPECT_EQ(v.style_for(0).data(), v.style_for(1).data());
  EXPECT_EQ(v.style_for(10000).data(), v.style_for(510).data());
  const std::vector<float> style(256, 0.f);
  const std::vector<int64_t> bad = {0, 500, 0};
  EXPECT_NE(error_of([&] { m->synthesize(bad, style, 1.f, true); }).find("token id 500"), std::string::npos);
  EXPECT_NE(error_of([&] {
              m->synthesize(std::vector<int64_t>{0, 0}, std::vector<float>(10), 1.f, true);
            }).find("style"),
            std::string::npos);
}

}  // namespace
}  // namespace xnai::models::kokoro

namespace xnai::models::kokoro {
namespace {

// A long transposed conv is computed a block of input steps at a time (its full product
// would be twice the output): the blocks must join seamlessly.
TEST(KokoroLayers, TransposedConvInBlocksMatchesPlain) {
  std::mt19937 rng(4);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  Mat x(32, 700);  // with [32, 256, 20] weights: blocks of 204 steps, the last one longer
  for (float& v : x.v) v = u(rng);
  Param w{{32, 256, 20}, std::vector<float>(32 * 256 * 20)}, b{{256}, std::vector<float>(256)};
  for (float& v : w.data) v = u(rng);
  for (float& v : b.data) v = u(rng);
  const Mat y = conv_transpose1d_gemm(x, w, &b, 10, 5, 0), ref = conv_transpose1d_plain(x, w, &b, 10, 5, 0);
  ASSERT_EQ(y.rows, ref.rows);
  ASSERT_EQ(y.cols, ref.cols);
  for (size_t i = 0; i < y.v.size(); ++i) ASSERT_NEAR(y.v[i], ref.v[i], 1e-4f) << "at " << i;
}

// Splitting the big layers over a pool must not change a single bit.
TEST(KokoroLayers, ThreadedLayersEqualSerialOnes) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  auto fill = [&](std::vector<float>& v) {
    for (float& x : v) x = u(rng);
  };
  Mat x(64, 2000);
  fill(x.v);
  Param w{{64, 64, 3}, std::vector<float>(64 * 64 * 3)}, b{{64}, std::vector<float>(64)};
  Param wt{{64, 32, 4}, std::vector<float>(64 * 32 * 4)}, bt{{32}, std::vector<float>(32)};
  Param wl{{400, 2000}, std::vector<float>(400 * 2000)};
  fill(w.data), fill(b.data), fill(wt.data), fill(bt.data), fill(wl.data);
  const Mat c1 = conv1d(x, w, &b, 1, 2, 2), t1 = conv_transpose1d(x, wt, &bt, 2, 1, 0),
            l1 = linear(x, wl, nullptr);
  // The matmul fast paths agree with the plain loops to float rounding (sums of up to 2000
  // terms in a different order: ~1e-6 of the largest output).
  auto max_rel = [](const Mat& a, const Mat& b) {
    double m = 0, scale = 0;
    for (size_t i = 0; i < a.v.size(); ++i) {
      m = std::max(m, double(std::fabs(a.v[i] - b.v[i])));
      scale = std::max(scale, double(std::fabs(b.v[i])));
    }
    return m / scale;
  };
  ASSERT_EQ(c1.cols, conv1d_plain(x, w, &b, 1, 2, 2).cols);
  EXPECT_LT(max_rel(c1, conv1d_plain(x, w, &b, 1, 2, 2)), 1e-5);
  EXPECT_LT(max_rel(conv1d(x, w, &b, 3, 1, 1), conv1d_plain(x, w, &b, 3, 1, 1)), 1e-5);
  EXPECT_LT(max_rel(l1, linear_plain(x, wl, nullptr)), 1e-5);
  EXPECT_LT(max_rel(t1, conv_transpose1d_plain(x, wt, &bt, 2, 1, 0)), 1e-5);
  EXPECT_EQ(t1.cols, conv_transpose1d_plain(x, wt, &bt, 2, 1, 0).cols);
  EXPECT_NE(c1.v, conv1d_plain(x, w, &b, 1, 2, 2).v) << "expected the fast path to be taken";
  ThreadPool pool(3);
  PoolScope scope(&pool);
  EXPECT_EQ(conv1d(x, w, &b, 1, 2, 2).v, c1.v);
  EXPECT_EQ(conv_transpose1d(x, wt, &bt, 2, 1, 0).v, t1.v);
  EXPECT_EQ(linear(x, wl, nullptr).v, l1.v);
}

// A batch runs whole utterances one per pool thread and the left-over ones on the whole
// pool: every utterance's audio must equal its own synthesize() bit for bit, in order.
TEST(KokoroBatch, EachUtteranceEqualsItsOwnSynthesis) {
  XNAI_SKIP_IF_MISSING(pth, "kokoro/kokoro-testdata.pth");
  XNAI_SKIP_IF_MISSING(cfg, "kokoro/config.json");
  const auto model = KokoroModel::load(pth.string(), cfg.string(), 2);
  const std::vector<std::string> texts = {"həlˈO", "ðə skˈI əbˌʌv ðə pˈɔɹt", "wˈɜɹld!", "kˈomo ˈestas",
                                          "tˈɛləvˌɪʒən, tˈund."};  // 5 on 2 threads: two rounds, one left
  std::vector<std::vector<int64_t>> ids;
  for (const auto& t : texts) ids.push_back(model->ids_from_phonemes(t));
  std::vector<std::vector<float>> styles;
  for (size_t i = 0; i < texts.size(); ++i) styles.emplace_back(256, 0.02f * float(i + 1));
  std::vector<KokoroModel::BatchItem> items;
  for (size_t i = 0; i < texts.size(); ++i) items.push_back({ids[i], styles[i], i == 2 ? 1.25f : 1.f});
  const auto batch = model->synthesize_batch(items, true);
  ASSERT_EQ(batch.size(), texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    const auto one = model->synthesize(ids[i], styles[i], items[i].speed, true);
    EXPECT_EQ(batch[i].pred_dur, one.pred_dur) << texts[i];
    ASSERT_EQ(batch[i].audio.size(), one.audio.size()) << texts[i];
    EXPECT_TRUE(batch[i].audio == one.audio) << texts[i];
  }
  // A bad item fails the batch with its own error once the others are done.
  items[3].speed = -1.f;
  const std::string e = error_of([&] { model->synthesize_batch(items, true); });
  EXPECT_NE(e.find("speed"), std::string::npos) << e;
  // And the model is usable afterwards (the pool was handed back).
  EXPECT_EQ(model->synthesize(ids[0], styles[0], 1.f, true).audio, batch[0].audio);
}

}  // namespace
}  // namespace xnai::models::kokoro
