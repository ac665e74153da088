// The table of real models that `xnai model synth --like` reproduces. Every number is the
// one in the Hugging Face repo named in hf_repo (config.json, tokenizer_config.json), and
// each key is written exactly when convert_hf_to_gguf.py (llama.cpp c392e50) writes it:
// - rope.freq_base only when config.json has rope_theta (Llama-2-7b-chat-hf has none;
//   loaders then use 10000);
// - attention.key_length / value_length only when config.json has head_dim (Llama-3.2);
// - <arch>.vocab_size and rope.dimension_count only for arch llama (the LlamaModel class);
// - the llama3 rope scaling becomes the rope_freqs tensor, with no rope.scaling.* keys.
#include <algorithm>
#include <cctype>
#include <string>

#include "core/error.h"
#include "models/synth/synth_internal.h"
#include "models/synth/synthetic_model.h"

namespace xnai::synth {
namespace {

std::vector<SpecialToken> spm_specials() {
  return {{0, "<unk>", kTokenUnknown}, {1, "<s>", kTokenControl}, {2, "</s>", kTokenControl}};
}

// Llama 3.1 / 3.2 names for ids 128000..128255 (all CONTROL).
std::vector<SpecialToken> llama31_specials() {
  std::vector<SpecialToken> s = {
      {128000, "<|begin_of_text|>", kTokenControl},
      {128001, "<|end_of_text|>", kTokenControl},
      {128002, "<|reserved_special_token_0|>", kTokenControl},
      {128003, "<|reserved_special_token_1|>", kTokenControl},
      {128004, "<|finetune_right_pad_id|>", kTokenControl},
      {128005, "<|reserved_special_token_2|>", kTokenControl},
      {128006, "<|start_header_id|>", kTokenControl},
      {128007, "<|end_header_id|>", kTokenControl},
      {128008, "<|eom_id|>", kTokenControl},
      {128009, "<|eot_id|>", kTokenControl},
      {128010, "<|python_tag|>", kTokenControl},
  };
  for (int32_t id = 128011; id < 128256; ++id)
    s.push_back({id, "<|reserved_special_token_" + std::to_string(id - 128008) + "|>", kTokenControl});
  return s;
}

// Qwen2.5's 22 added tokens. <tool_call> and </tool_call> are not "special" in the HF
// tokenizer and do not look special to the converter, so they are USER_DEFINED.
std::vector<SpecialToken> qwen25_specials() {
  const char* names[] = {"<|endoftext|>",      "<|im_start|>",     "<|im_end|>",     "<|object_ref_start|>",
                         "<|object_ref_end|>", "<|box_start|>",    "<|box_end|>",    "<|quad_start|>",
                         "<|quad_end|>",       "<|vision_start|>", "<|vision_end|>", "<|vision_pad|>",
                         "<|image_pad|>",      "<|video_pad|>",    "<tool_call>",    "</tool_call>",
                         "<|fim_prefix|>",     "<|fim_middle|>",   "<|fim_suffix|>", "<|fim_pad|>",
                         "<|repo_name|>",      "<|file_sep|>"};
  std::vector<SpecialToken> s;
  for (int32_t i = 0; i < 22; ++i) {
    const std::string t = names[i];
    s.push_back({151643 + i, t, t[1] == '|' ? kTokenControl : kTokenUserDefined});
  }
  return s;
}

ModelShape tinyllama() {
  ModelShape m;
  m.key = "tinyllama-1.1b";
  m.hf_repo = "TinyLlama/TinyLlama-1.1B-Chat-v1.0";
  m.arch = "llama";
  m.name = "TinyLlama 1.1B Chat v1.0";
  m.version = "v1.0";
  m.finetune = "Chat";
  m.basename = "TinyLlama";
  m.size_label = "1.1B";
  m.license = "apache-2.0";
  m.n_vocab = 32000, m.n_embd = 2048, m.n_ff = 5632, m.n_layer = 22, m.n_head = 32, m.n_head_kv = 4;
  m.n_ctx = 2048;
  m.rope_theta = 10000.0;
  m.rms_eps = 1e-5;
  m.vocab = VocabKind::Spm;
  m.tokenizer_pre = "default";
  m.specials = spm_specials();
  m.special_ids = {{"bos", 1}, {"eos", 2}, {"unknown", 0}, {"padding", 2}};  // pad_token "</s>"
  m.add_flags = {{"bos", true}, {"eos", false}};
  m.chat_template = detail::kTemplateZephyr;
  return m;
}

ModelShape llama2_7b() {
  ModelShape m;
  m.key = "llama-2-7b";
  m.hf_repo = "meta-llama/Llama-2-7b-chat-hf";
  m.arch = "llama";
  m.name = "Llama 2 7b Chat Hf";
  m.finetune = "chat-hf";
  m.basename = "Llama-2";
  m.size_label = "7B";
  m.license = "llama2";
  m.n_vocab = 32000, m.n_embd = 4096, m.n_ff = 11008, m.n_layer = 32, m.n_head = 32, m.n_head_kv = 32;
  m.n_ctx = 4096;
  m.rope_theta = 0;  // config.json has no rope_theta
  m.rms_eps = 1e-5;
  m.vocab = VocabKind::Spm;
  m.tokenizer_pre = "default";
  m.specials = spm_specials();
  m.special_ids = {{"bos", 1}, {"eos", 2}, {"unknown", 0}};  // pad_token null
  m.add_flags = {{"bos", true}, {"eos", false}};
  m.chat_template = detail::kTemplateLlama2Chat;
  return m;
}

ModelShape llama32_1b() {
  ModelShape m;
  m.key = "llama-3.2-1b";
  m.hf_repo = "meta-llama/Llama-3.2-1B-Instruct";
  m.arch = "llama";
  m.name = "Llama 3.2 1B Instruct";
  m.finetune = "Instruct";
  m.basename = "Llama-3.2";
  m.size_label = "1B";
  m.license = "llama3.2";
  m.n_vocab = 128256, m.n_embd = 2048, m.n_ff = 8192, m.n_layer = 16, m.n_head = 32, m.n_head_kv = 8;
  m.head_dim = 64;
  m.n_ctx = 131072;
  m.rope_theta = 500000.0;
  m.rms_eps = 1e-5;
  m.tied_embeddings = true;
  m.llama3_rope = Llama3Rope{32.0, 1.0, 4.0, 8192};
  m.vocab = VocabKind::Bpe;
  m.tokenizer_pre = "llama-bpe";
  m.n_normal_tokens = 128000;
  m.specials = llama31_specials();
  m.special_ids = {{"bos", 128000}, {"eos", 128009}};  // eos_token "<|eot_id|>"
  m.chat_template = detail::kTemplateLlama32Instruct;
  return m;
}

ModelShape qwen25(const char* key, const char* repo, const char* label, int64_t n_vocab, int64_t n_embd,
                  int64_t n_ff, int64_t n_layer, int64_t n_head, int64_t n_head_kv, bool tied) {
  ModelShape m;
  m.key = key;
  m.hf_repo = repo;
  m.arch = "qwen2";
  m.name = std::string("Qwen2.5 ") + label + " Instruct";
  m.finetune = "Instruct";
  m.basename = "Qwen2.5";
  m.size_label = label;
  m.license = "apache-2.0";
  m.n_vocab = n_vocab, m.n_embd = n_embd, m.n_ff = n_ff, m.n_layer = n_layer, m.n_head = n_head;
  m.n_head_kv = n_head_kv;
  m.n_ctx = 32768;
  m.rope_theta = 1000000.0;
  m.rms_eps = 1e-6;
  m.tied_embeddings = tied;
  m.qkv_bias = true;
  m.writes_vocab_size = false;  // the Qwen2 converter class writes neither vocab_size nor rope dims
  m.vocab = VocabKind::Bpe;
  m.tokenizer_pre = "qwen2";
  m.n_normal_tokens = 151643;
  m.specials = qwen25_specials();
  // tokenizer_config gives eos "<|im_end|>" and pad "<|endoftext|>"; bos comes from config.json.
  m.special_ids = {{"eos", 151645}, {"padding", 151643}, {"bos", 151643}};
  m.add_flags = {{"bos", false}};
  m.chat_template = detail::kTemplateQwen25Instruct;
  return m;
}

}  // namespace

const std::vector<ModelShape>& known_shapes() {
  static const std::vector<ModelShape> shapes = {
      tinyllama(),
      qwen25("qwen2.5-0.5b", "Qwen/Qwen2.5-0.5B-Instruct", "0.5B", 151936, 896, 4864, 24, 14, 2, true),
      llama32_1b(),
      llama2_7b(),
      qwen25("qwen2.5-7b", "Qwen/Qwen2.5-7B-Instruct", "7B", 152064, 3584, 18944, 28, 28, 4, false),
  };
  return shapes;
}

const ModelShape& find_shape(std::string_view key) {
  std::string k(key);
  std::transform(k.begin(), k.end(), k.begin(), [](unsigned char c) { return std::tolower(c); });
  std::string known;
  for (const auto& s : known_shapes()) {
    if (s.key == k) return s;
    known += (known.empty() ? "" : ", ") + s.key;
  }
  throw Error(ErrorKind::InvalidArgument,
              "unknown model shape '" + std::string(key) + "' (known: " + known + ")");
}

ModelShape with_layers(const ModelShape& shape, int64_t n_layer) {
  if (n_layer < 1)
    throw Error(ErrorKind::InvalidArgument, "layer count must be >= 1, got " + std::to_string(n_layer));
  ModelShape m = shape;
  m.n_layer = std::min(n_layer, shape.n_layer);
  return m;
}

}  // namespace xnai::synth
