// Random-weight `bert` GGUF files with the layout llama.cpp's converter writes (tensor
// names, order and types of an F16 conversion; the metadata keys of a bge model), so
// embedding speed can be measured at real sizes without downloading a model.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/fp16.h"
#include "formats/gguf.h"
#include "models/encoder/bert.h"

namespace xnai::models {
namespace {

uint64_t splitmix64(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Uniform values with mean `center` and standard deviation `stddev`.
struct Noise {
  uint64_t state;
  float center, half_width;
  Noise(uint64_t seed, uint64_t tensor, float c, float stddev)
      : state(seed * 0x9e3779b97f4a7c15ull + tensor), center(c), half_width(stddev * std::sqrt(3.0f)) {}
  float next() {
    const float u = static_cast<float>(splitmix64(state) >> 40) * (1.0f / 16777216.0f);  // [0, 1)
    return center + (2.0f * u - 1.0f) * half_width;
  }
};

// Word-start pieces carry U+2581 and continuation pieces none: the converter's rewrite of
// WordPiece's "##" convention, which the tokenizer reads back.
std::vector<std::string> synthetic_vocab(int64_t n_vocab) {
  std::vector<std::string> v;
  v.push_back("[PAD]");
  for (int i = 0; i < 99; ++i) v.push_back("[unused" + std::to_string(i) + "]");
  for (const char* s : {"[UNK]", "[CLS]", "[SEP]", "[MASK]"}) v.push_back(s);
  const std::string ws = "\xE2\x96\x81";
  for (int c = 33; c < 127; ++c) {
    if (c >= 'A' && c <= 'Z') continue;  // uncased: the tokenizer lower-cases first
    v.push_back(ws + static_cast<char>(c));
    v.push_back(std::string(1, static_cast<char>(c)));
  }
  for (const char* w :
       {"the",   "of",       "and",  "to",     "in",     "is",   "for",  "that",  "with",  "on",    "as",
        "are",   "by",       "this", "be",     "from",   "or",   "it",   "an",    "at",    "which", "data",
        "model", "document", "text", "search", "vector", "page", "file", "local", "query", "answer"})
    v.push_back(ws + w);
  if (static_cast<int64_t>(v.size()) > n_vocab)
    throw Error(ErrorKind::InvalidArgument, "synthetic bert: n_vocab " + std::to_string(n_vocab) +
                                                " is smaller than the minimal vocabulary of " +
                                                std::to_string(v.size()) + " tokens");
  for (int64_t i = 99; static_cast<int64_t>(v.size()) < n_vocab; ++i)
    v.push_back("[unused" + std::to_string(i) + "]");
  return v;
}

}  // namespace

void write_synthetic_bert(const SyntheticBertShape& s, const std::string& path) {
  if (s.n_embd <= 0 || s.n_head <= 0 || s.n_embd % s.n_head != 0 || s.n_ff <= 0 || s.n_layer <= 0 ||
      s.n_ctx <= 0 || s.n_vocab <= 0)
    throw Error(ErrorKind::InvalidArgument, "synthetic bert: bad shape (n_embd " + std::to_string(s.n_embd) +
                                                ", n_head " + std::to_string(s.n_head) + ", n_ff " +
                                                std::to_string(s.n_ff) + ", n_layer " +
                                                std::to_string(s.n_layer) + ")");
  gguf::GgufWriter w;
  const std::string a = "bert.";
  w.set_string("general.architecture", "bert");
  w.set_string("general.name", s.name);
  w.set_u32(a + "context_length", static_cast<uint32_t>(s.n_ctx));
  w.set_u32(a + "embedding_length", static_cast<uint32_t>(s.n_embd));
  w.set_u32(a + "feed_forward_length", static_cast<uint32_t>(s.n_ff));
  w.set_u32(a + "block_count", static_cast<uint32_t>(s.n_layer));
  w.set_u32(a + "attention.head_count", static_cast<uint32_t>(s.n_head));
  w.set_u32(a + "attention.head_count_kv", static_cast<uint32_t>(s.n_head));
  w.set_f32(a + "attention.layer_norm_epsilon", 1e-12f);
  w.set_bool(a + "attention.causal", false);
  w.set_u32(a + "pooling_type", static_cast<uint32_t>(s.pooling));
  w.set_u32("general.file_type", 1);  // MOSTLY_F16

  if (!s.vocab_from.empty()) {
    const auto src = gguf::GgufFile::open(s.vocab_from);
    const auto* toks = src.find("tokenizer.ggml.tokens");
    if (!toks) throw Error(ErrorKind::NotFound, s.vocab_from + ": no tokenizer.ggml.tokens to copy");
    if (static_cast<int64_t>(toks->size()) > s.n_vocab)
      throw Error(ErrorKind::InvalidArgument, s.vocab_from + ": its " + std::to_string(toks->size()) +
                                                  " tokens do not fit n_vocab " + std::to_string(s.n_vocab));
    for (const auto& [key, value] : src.metadata())
      if (key.rfind("tokenizer.", 0) == 0) w.set(key, value);
  } else {
    const auto vocab = synthetic_vocab(s.n_vocab);
    std::vector<int32_t> types(vocab.size(), 1);
    for (int id : {0, 100, 101, 102, 103})
      types[static_cast<size_t>(id)] = 3;  // control, as the converter marks them
    w.set_u32("tokenizer.ggml.token_type_count", 2);
    w.set_string("tokenizer.ggml.model", "bert");
    w.set_string("tokenizer.ggml.pre", "bert-bge");
    w.set_strings("tokenizer.ggml.tokens", vocab);
    w.set_ints("tokenizer.ggml.token_type", types);
    w.set_u32("tokenizer.ggml.unknown_token_id", 100);
    w.set_u32("tokenizer.ggml.seperator_token_id", 102);
    w.set_u32("tokenizer.ggml.padding_token_id", 0);
    w.set_u32("tokenizer.ggml.cls_token_id", 101);
    w.set_u32("tokenizer.ggml.mask_token_id", 103);
  }

  uint64_t tensor_no = 0;
  auto add = [&](const std::string& name, std::vector<int64_t> ne, DType type, float center, float stddev) {
    const uint64_t id = ++tensor_no;
    w.add_tensor_generated(name, type, std::move(ne), [=, seed = s.seed](uint8_t* dst, size_t nbytes) {
      Noise noise(seed, id, center, stddev);
      if (type == DType::F16) {
        for (size_t i = 0; i < nbytes / 2; ++i) {
          const uint16_t h = f32_to_fp16(noise.next());
          std::memcpy(dst + 2 * i, &h, 2);
        }
      } else {
        for (size_t i = 0; i < nbytes / 4; ++i) {
          const float f = noise.next();
          std::memcpy(dst + 4 * i, &f, 4);
        }
      }
    });
  };
  const int64_t E = s.n_embd, F = s.n_ff;
  constexpr float kStd = 0.02f, kBiasStd = 0.01f;
  add("token_embd.weight", {E, s.n_vocab}, DType::F16, 0.0f, kStd);
  add("token_types.weight", {E, 2}, DType::F32, 0.0f, kStd);
  add("position_embd.weight", {E, s.n_ctx}, DType::F32, 0.0f, kStd);
  add("token_embd_norm.weight", {E}, DType::F32, 1.0f, kBiasStd);
  add("token_embd_norm.bias", {E}, DType::F32, 0.0f, kBiasStd);
  for (int64_t il = 0; il < s.n_layer; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    for (const char* t : {"attn_q", "attn_k", "attn_v", "attn_output"}) {
      add(p + t + ".weight", {E, E}, DType::F16, 0.0f, kStd);
      add(p + t + ".bias", {E}, DType::F32, 0.0f, kBiasStd);
    }
    add(p + "attn_output_norm.weight", {E}, DType::F32, 1.0f, kBiasStd);
    add(p + "attn_output_norm.bias", {E}, DType::F32, 0.0f, kBiasStd);
    add(p + "ffn_up.weight", {E, F}, DType::F16, 0.0f, kStd);
    add(p + "ffn_up.bias", {F}, DType::F32, 0.0f, kBiasStd);
    add(p + "ffn_down.weight", {F, E}, DType::F16, 0.0f, kStd);
    add(p + "ffn_down.bias", {E}, DType::F32, 0.0f, kBiasStd);
    add(p + "layer_output_norm.weight", {E}, DType::F32, 1.0f, kBiasStd);
    add(p + "layer_output_norm.bias", {E}, DType::F32, 0.0f, kBiasStd);
  }
  w.write(path);
}

}  // namespace xnai::models
