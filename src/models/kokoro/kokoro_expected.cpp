// The tensor list of a Kokoro checkpoint derived from the architecture (spec §5.3): what
// load() checks a file against, and what the test compares with the list taken from the
// upstream Python modules (kokoro-82m-v1.0-expected-keys.tsv).
#include "models/kokoro/kokoro_internal.h"

namespace xnai::models::kokoro {
namespace {

class Lister {
 public:
  Lister(std::vector<ExpectedTensor>& out, int64_t style) : out_(out), style_(style) {}
  std::string module;

  void add(const std::string& key, std::vector<int64_t> shape) {
    out_.push_back({module, "module." + key, std::move(shape)});
  }
  void linear(const std::string& p, int64_t out, int64_t in) {
    add(p + ".weight", {out, in});
    add(p + ".bias", {out});
  }
  void norm(const std::string& p, int64_t c, const char* w = "weight", const char* b = "bias") {
    add(p + "." + w, {c});
    add(p + "." + b, {c});
  }
  // Weight-normed conv: v [d0, d1, k], g [d0, 1, 1]; bias of `bias` entries (0 = none).
  void wn(const std::string& p, int64_t d0, int64_t d1, int64_t k, int64_t bias) {
    if (bias) add(p + ".bias", {bias});
    add(p + ".weight_g", {d0, 1, 1});
    add(p + ".weight_v", {d0, d1, k});
  }
  void lstm(const std::string& p, int64_t in, int64_t h) {
    for (const char* sfx : {"", "_reverse"}) {
      add(p + ".weight_ih_l0" + sfx, {4 * h, in});
      add(p + ".weight_hh_l0" + sfx, {4 * h, h});
      add(p + ".bias_ih_l0" + sfx, {4 * h});
      add(p + ".bias_hh_l0" + sfx, {4 * h});
    }
  }
  void adain_res_blk1d(const std::string& p, int64_t din, int64_t dout, bool up) {
    wn(p + ".conv1", dout, din, 3, dout);
    wn(p + ".conv2", dout, dout, 3, dout);
    linear(p + ".norm1.fc", 2 * din, style_);
    linear(p + ".norm2.fc", 2 * dout, style_);
    if (din != dout) wn(p + ".conv1x1", dout, din, 1, 0);
    if (up) wn(p + ".pool", din, 1, 3, din);
  }
  void adain_res_block1(const std::string& p, int64_t c, int64_t k, size_t n) {
    for (size_t j = 0; j < n; ++j) {
      const std::string js = std::to_string(j);
      wn(p + ".convs1." + js, c, c, k, c);
      wn(p + ".convs2." + js, c, c, k, c);
      linear(p + ".adain1." + js + ".fc", 2 * c, style_);
      linear(p + ".adain2." + js + ".fc", 2 * c, style_);
      add(p + ".alpha1." + js, {1, c, 1});
      add(p + ".alpha2." + js, {1, c, 1});
    }
  }

 private:
  std::vector<ExpectedTensor>& out_;
  int64_t style_;
};

}  // namespace

std::vector<ExpectedTensor> expected_tensors(const std::string& config_json_path, int64_t enc_out,
                                             int64_t res_out) {
  return expected_tensors(read_config(config_json_path), enc_out, res_out);
}

std::vector<ExpectedTensor> expected_tensors(const KokoroConfig& c, int64_t enc_out, int64_t res_out) {
  std::vector<ExpectedTensor> out;
  Lister l(out, c.style_dim);
  const int64_t H = c.bert_hidden, E = c.bert_embed, D = c.hidden_dim, S = c.style_dim;

  l.module = "bert";
  l.add("embeddings.word_embeddings.weight", {c.n_token, E});
  l.add("embeddings.position_embeddings.weight", {c.bert_max_pos, E});
  l.add("embeddings.token_type_embeddings.weight", {2, E});
  l.norm("embeddings.LayerNorm", E);
  l.add("embeddings.position_ids", {1, c.bert_max_pos});
  l.linear("encoder.embedding_hidden_mapping_in", H, E);
  const std::string a = "encoder.albert_layer_groups.0.albert_layers.0.";
  for (const char* n : {"query", "key", "value", "dense"}) l.linear(a + "attention." + n, H, H);
  l.norm(a + "attention.LayerNorm", H);
  l.linear(a + "ffn", c.bert_ff, H);
  l.linear(a + "ffn_output", H, c.bert_ff);
  l.norm(a + "full_layer_layer_norm", H);
  l.linear("pooler", H, H);

  l.module = "bert_encoder";
  l.add("weight", {D, H});
  l.add("bias", {D});

  l.module = "predictor";
  for (int64_t i = 0; i < c.n_layer; ++i) {
    l.lstm("text_encoder.lstms." + std::to_string(2 * i), D + S, D / 2);
    l.linear("text_encoder.lstms." + std::to_string(2 * i + 1) + ".fc", 2 * D, S);
  }
  l.lstm("lstm", D + S, D / 2);
  l.linear("duration_proj.linear_layer", c.max_dur, D);
  l.lstm("shared", D + S, D / 2);
  for (const char* h : {"F0", "N"}) {
    const std::string p = h;
    l.adain_res_blk1d(p + ".0", D, D, false);
    l.adain_res_blk1d(p + ".1", D, D / 2, true);
    l.adain_res_blk1d(p + ".2", D / 2, D / 2, false);
    l.add(p + "_proj.weight", {1, D / 2, 1});
    l.add(p + "_proj.bias", {1});
  }

  l.module = "text_encoder";
  l.add("embedding.weight", {c.n_token, D});
  for (int64_t i = 0; i < c.n_layer; ++i) {
    const std::string p = "cnn." + std::to_string(i);
    l.wn(p + ".0", D, D, c.text_kernel, D);
    l.norm(p + ".1", D, "gamma", "beta");
  }
  l.lstm("lstm", D, D / 2);

  l.module = "decoder";
  const int64_t gin = c.upsample_initial_channel, cat = enc_out + res_out + 2;
  l.adain_res_blk1d("encode", D + 2, enc_out, false);
  for (int b = 0; b < 3; ++b) l.adain_res_blk1d("decode." + std::to_string(b), cat, enc_out, false);
  l.adain_res_blk1d("decode.3", cat, gin, true);
  l.wn("F0_conv", 1, 1, 3, 1);
  l.wn("N_conv", 1, 1, 3, 1);
  l.wn("asr_res.0", res_out, D, 1, res_out);
  const std::string g = "generator.";
  l.linear(g + "m_source.l_linear", 1, 9);
  const size_t n = c.upsample_rates.size(), nk = c.resblock_kernels.size();
  for (size_t i = 0; i < n; ++i) {
    const int64_t cin = gin >> i, cur = gin >> (i + 1);
    const std::string is = std::to_string(i);
    int64_t sf = 1;
    for (size_t r = i + 1; r < n; ++r) sf *= c.upsample_rates[r];
    const bool last = i + 1 == n;
    l.add(g + "noise_convs." + is + ".weight", {cur, c.n_fft + 2, last ? 1 : 2 * sf});
    l.add(g + "noise_convs." + is + ".bias", {cur});
    l.adain_res_block1(g + "noise_res." + is, cur, last ? 11 : 7, 3);
    l.add(g + "ups." + is + ".bias", {cur});
    l.add(g + "ups." + is + ".weight_g", {cin, 1, 1});
    l.add(g + "ups." + is + ".weight_v", {cin, cur, c.upsample_kernels[i]});
    for (size_t j = 0; j < nk; ++j)
      l.adain_res_block1(g + "resblocks." + std::to_string(i * nk + j), cur, c.resblock_kernels[j],
                         c.resblock_dilations[j].size());
  }
  l.wn(g + "conv_post", c.n_fft + 2, gin >> n, 7, c.n_fft + 2);
  return out;
}

}  // namespace xnai::models::kokoro
