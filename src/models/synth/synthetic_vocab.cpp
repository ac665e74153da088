// Tokenizer metadata for synthetic models: a filler vocabulary of the real size that a
// real tokenizer implementation can load and run, with the model's real special tokens at
// their real ids, its real flags and chat template; or the tokenizer.* keys of a real GGUF.
//
// SPM filler: <unk> <s> </s>, the 256 byte tokens <0x00>..<0xFF> (type BYTE), then pieces
// over a small alphabet ("▁", letters, digits, punctuation): every single symbol, every
// pair, then triples until the vocabulary is full; scores fall by one per piece, as real
// SentencePiece scores fall with rank. Any text tokenizes (bytes cover the rest).
//
// BPE filler: the 256 GPT-2 byte-level symbols at ids 0..255 in the usual order, then
// pairs and triples of common symbols, each with the one merge that builds it (so the
// merge list is consistent: both halves of every merge are tokens ranked before it). Ids
// from n_normal_tokens on hold the special tokens; ids no token claims are "[PAD<id>]"
// UNUSED tokens, as the converter fills them.
#include <cstdio>
#include <string>
#include <vector>

#include "core/error.h"
#include "formats/gguf.h"
#include "models/synth/synth_internal.h"

namespace xnai::synth::detail {
namespace {

void append_utf8(std::string& s, uint32_t cp) {
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::string utf8(uint32_t cp) {
  std::string s;
  append_utf8(s, cp);
  return s;
}

// Symbols the filler pieces are built from, most useful first.
std::vector<std::string> filler_alphabet(const std::string& space_symbol, const std::string& newline_symbol) {
  std::vector<std::string> a = {space_symbol};
  for (const char* group : {"etaoinshrdlcumwfgypbvkjxqz", "ETAOINSHRDLCUMWFGYPBVKJXQZ", "0123456789",
                            ".,:;!?'\"-()[]{}/\\@#$%^&*_+=<>|~`"})
    for (const char* c = group; *c; ++c) a.push_back(std::string(1, *c));
  if (!newline_symbol.empty()) a.push_back(newline_symbol);
  return a;
}

// GPT-2's byte → symbol table in token-id order: printable bytes map to themselves, the
// other 68 bytes to U+0100 onwards.
std::vector<std::string> gpt2_byte_symbols() {
  std::vector<int> bytes;
  for (int b = 33; b <= 126; ++b) bytes.push_back(b);
  for (int b = 161; b <= 172; ++b) bytes.push_back(b);
  for (int b = 174; b <= 255; ++b) bytes.push_back(b);
  std::vector<uint32_t> cps(bytes.begin(), bytes.end());
  uint32_t extra = 0;
  for (int b = 0; b < 256; ++b) {
    bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    if (!printable) cps.push_back(256 + extra++);
  }
  std::vector<std::string> out;
  for (uint32_t cp : cps) out.push_back(utf8(cp));
  return out;
}

void set_special_keys(gguf::GgufWriter& w, const ModelShape& shape) {
  for (const auto& [kind, id] : shape.special_ids)
    w.set_u32("tokenizer.ggml." + kind + "_token_id", static_cast<uint32_t>(id));
  for (const auto& [kind, on] : shape.add_flags) w.set_bool("tokenizer.ggml.add_" + kind + "_token", on);
  if (!shape.chat_template.empty()) w.set_string("tokenizer.chat_template", shape.chat_template);
}

void add_spm(gguf::GgufWriter& w, const ModelShape& shape) {
  const size_t n = static_cast<size_t>(shape.n_vocab);
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
  tokens.reserve(n), scores.reserve(n), types.reserve(n);
  for (const auto& s : shape.specials) {
    if (static_cast<size_t>(s.id) != tokens.size())
      throw Error(ErrorKind::Internal, "SPM specials must be ids 0.. in order (" + shape.key + ")");
    tokens.push_back(s.text), scores.push_back(0.0f), types.push_back(s.type);
  }
  char buf[8];
  for (int b = 0; b < 256; ++b) {
    std::snprintf(buf, sizeof(buf), "<0x%02X>", b);
    tokens.push_back(buf), scores.push_back(0.0f), types.push_back(kTokenByte);
  }
  const std::vector<std::string> alpha = filler_alphabet("\xE2\x96\x81", "");  // U+2581 "▁"
  float score = 0.0f;
  auto add = [&](std::string piece) {
    if (tokens.size() >= n) return false;
    tokens.push_back(std::move(piece)), scores.push_back(score), types.push_back(kTokenNormal);
    score -= 1.0f;
    return true;
  };
  for (const auto& a : alpha) add(a);
  for (const auto& a : alpha)
    for (const auto& b : alpha) add(a + b);
  [&] {
    for (const auto& a : alpha)
      for (const auto& b : alpha)
        for (const auto& c : alpha)
          if (!add(a + b + c)) return;
  }();
  if (tokens.size() != n)
    throw Error(ErrorKind::Internal, "synthetic SPM vocabulary too small for " + shape.key);
  w.set_string("tokenizer.ggml.model", "llama");
  w.set_string("tokenizer.ggml.pre", shape.tokenizer_pre);
  w.set_strings("tokenizer.ggml.tokens", tokens);
  w.set_floats("tokenizer.ggml.scores", scores);
  w.set_ints("tokenizer.ggml.token_type", types);
  set_special_keys(w, shape);
}

void add_bpe(gguf::GgufWriter& w, const ModelShape& shape) {
  const size_t n = static_cast<size_t>(shape.n_vocab);
  const size_t n_normal = static_cast<size_t>(shape.n_normal_tokens);
  std::vector<std::string> tokens = gpt2_byte_symbols();
  std::vector<std::string> merges;
  tokens.reserve(n), merges.reserve(n_normal);
  const std::vector<std::string> alpha = filler_alphabet(utf8(256 + 32), utf8(256 + 10));  // "Ġ", "Ċ"
  std::vector<std::string> pairs;
  for (const auto& a : alpha)
    for (const auto& b : alpha) {
      if (tokens.size() >= n_normal) break;
      tokens.push_back(a + b), merges.push_back(a + " " + b), pairs.push_back(a + b);
    }
  for (const auto& p : pairs)
    for (const auto& c : alpha) {
      if (tokens.size() >= n_normal) break;
      tokens.push_back(p + c), merges.push_back(p + " " + c);
    }
  if (tokens.size() != n_normal)
    throw Error(ErrorKind::Internal, "synthetic BPE vocabulary too small for " + shape.key);
  std::vector<int32_t> types(n_normal, kTokenNormal);
  tokens.resize(n), types.resize(n, kTokenUnused);
  for (size_t id = n_normal; id < n; ++id) tokens[id] = "[PAD" + std::to_string(id) + "]";
  for (const auto& s : shape.specials) {
    tokens.at(static_cast<size_t>(s.id)) = s.text;
    types.at(static_cast<size_t>(s.id)) = s.type;
  }
  w.set_string("tokenizer.ggml.model", "gpt2");
  w.set_string("tokenizer.ggml.pre", shape.tokenizer_pre);
  w.set_strings("tokenizer.ggml.tokens", tokens);
  w.set_ints("tokenizer.ggml.token_type", types);
  w.set_strings("tokenizer.ggml.merges", merges);
  set_special_keys(w, shape);
}

}  // namespace

void add_synthetic_vocab(gguf::GgufWriter& w, const ModelShape& shape) {
  if (shape.vocab == VocabKind::Spm)
    add_spm(w, shape);
  else
    add_bpe(w, shape);
}

void add_vocab_from_file(gguf::GgufWriter& w, const ModelShape& shape, const std::string& path) {
  const gguf::GgufFile f = gguf::GgufFile::open(path);
  const gguf::Value* tokens = f.find("tokenizer.ggml.tokens");
  if (!tokens || !tokens->is_array())
    throw Error(ErrorKind::InvalidFormat, path + ": no tokenizer.ggml.tokens array to copy");
  const size_t have = tokens->size(), want = static_cast<size_t>(shape.n_vocab);
  if (have > want)
    throw Error(ErrorKind::InvalidArgument, path + ": vocabulary of " + std::to_string(have) +
                                                " tokens does not fit " + shape.key + " (n_vocab " +
                                                std::to_string(want) + ")");
  for (const auto& [key, value] : f.metadata()) {
    if (key.rfind("tokenizer.", 0) != 0) continue;
    if (have < want && key == "tokenizer.ggml.tokens") {
      std::vector<std::string> t = value.as_strings();
      for (size_t id = have; id < want; ++id) t.push_back("[PAD" + std::to_string(id) + "]");
      w.set_strings(key, t);
    } else if (have < want && key == "tokenizer.ggml.scores") {
      std::vector<float> s = value.as_floats();
      s.resize(want, -10000.0f);
      w.set_floats(key, s);
    } else if (have < want && key == "tokenizer.ggml.token_type") {
      std::vector<int32_t> t = value.as_ints();
      t.resize(want, kTokenUnused);
      w.set_ints(key, t);
    } else {
      w.set(key, value);
    }
  }
}

}  // namespace xnai::synth::detail
