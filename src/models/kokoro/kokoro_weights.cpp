// Loading: config.json, and the checkpoint's five state dicts with the DataParallel
// "module." prefix stripped and every weight-norm pair folded into a plain weight.
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "core/error.h"
#include "formats/torch_checkpoint.h"
#include "models/kokoro/kokoro_internal.h"
#include "models/kokoro/kokoro_simd.h"

namespace xnai::models::kokoro {
namespace {

char32_t single_code_point(const std::string& s, const std::string& path) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  char32_t c = 0;
  size_t n = 0;
  if (s.empty()) throw Error(ErrorKind::InvalidFormat, path + ": empty vocab key");
  if (p[0] < 0x80)
    c = p[0], n = 1;
  else if ((p[0] >> 5) == 6)
    c = p[0] & 0x1f, n = 2;
  else if ((p[0] >> 4) == 14)
    c = p[0] & 0x0f, n = 3;
  else if ((p[0] >> 3) == 30)
    c = p[0] & 0x07, n = 4;
  if (n == 0 || s.size() != n)
    throw Error(ErrorKind::InvalidFormat, path + ": vocab key \"" + s + "\" is not one code point");
  for (size_t i = 1; i < n; ++i) c = c << 6 | (p[i] & 0x3f);
  return c;
}

// g * v / ||v|| with the norm over every dim but 0 (torch weight_norm, dim=0), computed in
// v's own buffer (the folded weight replaces v: no second copy).
Param fold_weight_norm(const Param& g, Param v, const std::string& name) {
  const int64_t d0 = v.dim(0);
  if (g.data.size() != static_cast<size_t>(d0) || d0 == 0 || v.data.size() % d0)
    throw Error(ErrorKind::InvalidFormat, name + ": weight_g does not match weight_v");
  const size_t per = v.data.size() / d0;
  for (int64_t o = 0; o < d0; ++o) {
    double ss = 0;
    for (size_t i = 0; i < per; ++i) ss += static_cast<double>(v.data[o * per + i]) * v.data[o * per + i];
    const float scale = static_cast<float>(g.data[o] / std::sqrt(ss));
    for (size_t i = 0; i < per; ++i) v.data[o * per + i] *= scale;
  }
  return v;
}

}  // namespace

KokoroConfig read_config(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw Error(ErrorKind::NotFound, path + ": cannot open the Kokoro config.json");
  nlohmann::json j;
  try {
    f >> j;
  } catch (const std::exception& e) {
    throw Error(ErrorKind::InvalidFormat, path + ": not valid JSON (" + e.what() + ")");
  }
  KokoroConfig c;
  try {
    c.n_token = j.value("n_token", c.n_token);
    c.style_dim = j.value("style_dim", c.style_dim);
    c.n_layer = j.value("n_layer", c.n_layer);
    c.text_kernel = j.value("text_encoder_kernel_size", c.text_kernel);
    c.max_dur = j.value("max_dur", c.max_dur);
    c.hidden_dim = j.value("hidden_dim", c.hidden_dim);
    if (j.contains("plbert")) {
      const auto& b = j["plbert"];
      c.bert_hidden = b.value("hidden_size", c.bert_hidden);
      c.bert_heads = b.value("num_attention_heads", c.bert_heads);
      c.bert_ff = b.value("intermediate_size", c.bert_ff);
      c.bert_layers = b.value("num_hidden_layers", c.bert_layers);
      c.bert_max_pos = b.value("max_position_embeddings", c.bert_max_pos);
      c.bert_embed = b.value("embedding_size", c.bert_embed);
    }
    if (j.contains("istftnet")) {
      const auto& s = j["istftnet"];
      c.upsample_rates = s.value("upsample_rates", c.upsample_rates);
      c.upsample_kernels = s.value("upsample_kernel_sizes", c.upsample_kernels);
      c.upsample_initial_channel = s.value("upsample_initial_channel", c.upsample_initial_channel);
      c.resblock_kernels = s.value("resblock_kernel_sizes", c.resblock_kernels);
      c.resblock_dilations = s.value("resblock_dilation_sizes", c.resblock_dilations);
      c.n_fft = s.value("gen_istft_n_fft", c.n_fft);
      c.hop = s.value("gen_istft_hop_size", c.hop);
    }
    if (!j.contains("vocab") || !j["vocab"].is_object())
      throw Error(ErrorKind::InvalidFormat, path + ": Kokoro config has no \"vocab\" object");
    for (auto it = j["vocab"].begin(); it != j["vocab"].end(); ++it)
      c.vocab[single_code_point(it.key(), path)] = it.value().get<int64_t>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::InvalidFormat,
                path + ": unexpected value in the Kokoro config (" + e.what() + ")");
  }
  if (c.upsample_rates.size() != c.upsample_kernels.size() || c.upsample_rates.empty() ||
      c.resblock_kernels.size() != c.resblock_dilations.size() || c.bert_heads <= 0 || c.hop <= 0 ||
      c.n_fft <= 0 || c.n_fft % 2)
    throw Error(ErrorKind::InvalidFormat, path + ": inconsistent istftnet / plbert settings");
  return c;
}

// Stripped, unfolded float tensors of the file (what expected_tensors() describes).
std::map<std::string, Param> read_raw_params(const std::string& pth_path) {
  auto ck = torch::Checkpoint::open(pth_path);
  std::map<std::string, Param> raw;
  for (const auto& [key, t] : ck->tensors()) {
    const size_t dot = key.find('.');
    if (dot == std::string::npos)
      throw Error(ErrorKind::InvalidFormat,
                  pth_path + ": tensor \"" + key + "\" is not inside a module dict; not a Kokoro checkpoint");
    std::string rest = key.substr(dot + 1);
    if (rest.rfind("module.", 0) == 0) rest = rest.substr(7);
    const std::string name = key.substr(0, dot) + "." + rest;
    if (t.dtype == torch::ScalarType::I64 || t.dtype == torch::ScalarType::I32) continue;  // position_ids
    raw[name] = Param{t.shape, t.to_float()};
    ck->release_pages(t);  // copied: the file's pages need not stay resident as well
  }
  return raw;
}

Weights fold_params(std::map<std::string, Param> raw, const std::string& source) {
  Weights w;
  w.source = source;
  const std::pair<std::string, std::string> kPairs[] = {
      {"weight_g", "weight_v"}, {"parametrizations.weight.original0", "parametrizations.weight.original1"}};
  const auto ends = [](const std::string& name, const std::string& sfx) {
    return name.size() > sfx.size() && name.compare(name.size() - sfx.size(), sfx.size(), sfx) == 0;
  };
  // Every pair is checked first; then each tensor moves out of `raw` as it is taken (v
  // folded in place), so the raw and folded weights are never held twice.
  for (const auto& [name, p] : raw)
    for (const auto& [gs, vs] : kPairs) {
      if (ends(name, gs) && !raw.count(name.substr(0, name.size() - gs.size()) + vs))
        throw Error(ErrorKind::InvalidFormat, source + ": module." + name + " has no " + vs);
      if (ends(name, vs) && !raw.count(name.substr(0, name.size() - vs.size()) + gs))
        throw Error(ErrorKind::InvalidFormat, source + ": module." + name + " has no " + gs);
    }
  while (!raw.empty()) {
    auto it = raw.begin();
    const std::string name = it->first;
    bool folded = false;
    for (const auto& [gs, vs] : kPairs) {
      const bool is_g = ends(name, gs), is_v = ends(name, vs);
      if (!is_g && !is_v) continue;
      const std::string base = name.substr(0, name.size() - (is_g ? gs : vs).size());
      auto g = raw.find(base + gs), v = raw.find(base + vs);
      Param folded_w =
          fold_weight_norm(g->second, std::move(v->second), source + ": module." + base + "weight");
      raw.erase(g);
      raw.erase(v);
      w.params[base + "weight"] = std::move(folded_w);
      folded = true;
      break;
    }
    if (!folded) {
      w.params[name] = std::move(it->second);
      raw.erase(it);
    }
  }
  return w;
}

// The stride-1, ungrouped convs of the architecture (kokoro_expected.cpp's names): AdaIN
// residual blocks of the predictor and decoder, the generator's resblocks, the text
// encoder's CNN, asr_res and conv_post. Transposed and strided convs keep their layout.
// The linears applied to every token as kernel-1 convs: ALBERT's (12 times per synthesis),
// bert_encoder and the LSTMs' input projections (the recurrent weights stay as they are).
void pack_conv_weights_in_place(Weights& w) {
  static const std::regex kStrideOne(
      R"(.*\.(conv1|conv2|conv1x1|convs1\.\d+|convs2\.\d+)\.weight|text_encoder\.cnn\.\d+\.0\.weight|)"
      R"(decoder\.asr_res\.0\.weight|decoder\.generator\.conv_post\.weight)");
  static const std::regex kTokenLinear(
      R"(bert\.encoder\.(embedding_hidden_mapping_in|albert_layer_groups\.0\.albert_layers\.0\.)"
      R"((attention\.(query|key|value|dense)|ffn|ffn_output))\.weight|bert_encoder\.weight|)"
      R"(.*\.weight_ih_l0(_reverse)?)");
  for (auto& [name, p] : w.params) {
    // conv1d()'s and linear()'s conditions for the direct path, less the input length.
    if (p.shape.size() == 3 && p.dim(1) * p.dim(2) >= 32 && p.dim(0) >= 8 &&
        std::regex_match(name, kStrideOne))
      simd::pack_in_place(p);
    if (p.shape.size() == 2 && p.dim(1) >= 32 && p.dim(0) >= 16 && std::regex_match(name, kTokenLinear))
      simd::pack_in_place(p);
  }
}

}  // namespace xnai::models::kokoro
