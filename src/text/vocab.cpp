#include "text/vocab.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <initializer_list>

#include "core/error.h"
#include "formats/gguf.h"
#include "text/unicode_props.h"
#include "text/unicode_utf8.h"

namespace xnai::text {
namespace {

constexpr std::string_view kUnderscoreBlock = "\xE2\x96\x81";  // U+2581, SentencePiece's space

[[noreturn]] void fail(ErrorKind kind, const gguf::GgufFile& f, std::string_view key,
                       const std::string& what) {
  throw Error(kind, f.path() + ": " + std::string(key) + ": " + what);
}

// An ARRAY value of one of the accepted element types, with at least `min_size` items.
const gguf::Value* find_array(const gguf::GgufFile& f, std::string_view key,
                              std::initializer_list<gguf::ValueType> elem_types, size_t min_size) {
  const gguf::Value* v = f.find(key);
  if (v == nullptr) return nullptr;
  bool ok = v->is_array();
  if (ok) ok = std::find(elem_types.begin(), elem_types.end(), v->array_type()) != elem_types.end();
  if (!ok) {
    std::string want;
    for (auto t : elem_types) want += std::string(want.empty() ? "" : " or ") + gguf::value_type_name(t);
    fail(ErrorKind::InvalidFormat, f, key,
         std::string("expected an array of ") + want + ", found " +
             (v->is_array() ? std::string("an array of ") + gguf::value_type_name(v->array_type())
                            : std::string(gguf::value_type_name(v->type()))));
  }
  if (v->size() < min_size) {
    fail(ErrorKind::InvalidFormat, f, key,
         "has " + std::to_string(v->size()) + " entries, fewer than the " + std::to_string(min_size) +
             " tokens");
  }
  return v;
}

bool read_bool(const gguf::GgufFile& f, std::string_view key, bool def) {
  const gguf::Value* v = f.find(key);
  if (v == nullptr) return def;
  if (v->type() == gguf::ValueType::BOOL) return v->as_bool();
  if (v->is_integer()) return v->as_int() != 0;
  fail(ErrorKind::InvalidFormat, f, key,
       std::string("expected a bool, found ") + gguf::value_type_name(v->type()));
}

// Special-token ids the loader fills in: key, and the member it sets.
struct SpecialKey {
  const char* key;
  int32_t Vocab::*member;
};

constexpr SpecialKey kSpecialKeys[] = {
    {"tokenizer.ggml.bos_token_id", &Vocab::bos},
    {"tokenizer.ggml.eos_token_id", &Vocab::eos},
    {"tokenizer.ggml.eot_token_id", &Vocab::eot},
    {"tokenizer.ggml.eom_token_id", &Vocab::eom},
    {"tokenizer.ggml.unknown_token_id", &Vocab::unk},
    {"tokenizer.ggml.seperator_token_id", &Vocab::sep},  // sic: the key is spelled this way
    {"tokenizer.ggml.padding_token_id", &Vocab::pad},
    {"tokenizer.ggml.cls_token_id", &Vocab::bos},  // llama.cpp uses CLS as BOS for WordPiece
    {"tokenizer.ggml.mask_token_id", &Vocab::mask},
    {"tokenizer.ggml.fim_pre_token_id", &Vocab::fim_pre},
    {"tokenizer.ggml.fim_suf_token_id", &Vocab::fim_suf},
    {"tokenizer.ggml.fim_mid_token_id", &Vocab::fim_mid},
    {"tokenizer.ggml.fim_pad_token_id", &Vocab::fim_pad},
    {"tokenizer.ggml.fim_rep_token_id", &Vocab::fim_rep},
    {"tokenizer.ggml.fim_sep_token_id", &Vocab::fim_sep},
    {"tokenizer.ggml.prefix_token_id", &Vocab::fim_pre},  // deprecated spellings
    {"tokenizer.ggml.suffix_token_id", &Vocab::fim_suf},
    {"tokenizer.ggml.middle_token_id", &Vocab::fim_mid},
};

// Token texts llama.cpp recognises when the file names no id. The first text of a list that is
// in the vocabulary wins (llama.cpp takes whichever its hash map visits first; see
// docs/tokenizers.md).
struct TextRule {
  int32_t Vocab::*member;
  std::initializer_list<std::string_view> texts;
};

const TextRule kTextRules[] = {
    {&Vocab::eot,
     {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<EOT>",
      "_<EOT>",
      "<\xEF\xBD\x9C"
      "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>"}},
    {&Vocab::eom, {"<|eom_id|>"}},
    {&Vocab::fim_pre,
     {"<|fim_prefix|>", "<fim-prefix>",
      "<\xEF\xBD\x9C"
      "fim\xE2\x96\x81"
      "begin\xEF\xBD\x9C>",
      "<PRE>"}},
    {&Vocab::fim_suf,
     {"<|fim_suffix|>", "<fim-suffix>",
      "<\xEF\xBD\x9C"
      "fim\xE2\x96\x81hole\xEF\xBD\x9C>",
      "<SUF>"}},
    {&Vocab::fim_mid,
     {"<|fim_middle|>", "<fim-middle>",
      "<\xEF\xBD\x9C"
      "fim\xE2\x96\x81"
      "end\xEF\xBD\x9C>",
      "<MID>"}},
    {&Vocab::fim_pad, {"<|fim_pad|>", "<fim-pad>", "<PAD>"}},
    {&Vocab::fim_rep, {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>"}},
    {&Vocab::fim_sep, {"<|file_sep|>"}},
};

constexpr std::string_view kEogTexts[] = {"<|eot_id|>",    "<|im_end|>",    "<|end|>",
                                          "<end_of_turn>", "<|endoftext|>", "<|eom_id|>",
                                          "<EOT>",         "_<EOT>",        "<|end_of_text|>"};

uint32_t attr_of_type(int64_t type) {
  switch (type) {
    case 1:
      return attr::kNormal;
    case 2:
      return attr::kUnknown;
    case 3:
      return attr::kControl;
    case 4:
      return attr::kUserDefined;
    case 5:
      return attr::kUnused;
    case 6:
      return attr::kByte;
    default:
      return attr::kUndefined;
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// MergeRanks

uint64_t MergeRanks::hash(std::string_view left, std::string_view right) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a over left, a separator, right
  for (char c : left) h = (h ^ uint8_t(c)) * 1099511628211ull;
  h = (h ^ 0xFFu) * 1099511628211ull;
  for (char c : right) h = (h ^ uint8_t(c)) * 1099511628211ull;
  return h ^ (h >> 29);
}

void MergeRanks::build(std::vector<std::string> rules) {
  rules_ = std::move(rules);
  size_t cap = 16;
  while (cap < rules_.size() * 2) cap <<= 1;
  slots_.assign(cap, Entry{});
  count_ = 0;
  for (size_t i = 0; i < rules_.size(); ++i) {
    const std::string& r = rules_[i];
    // As llama.cpp: split at the first space after the first byte. A rule without one, or with
    // an empty half, can never match a pair of non-empty symbols and is skipped.
    const size_t sp = r.size() > 1 ? r.find(' ', 1) : std::string::npos;
    if (sp == std::string::npos || sp + 1 >= r.size()) continue;
    const std::string_view left(r.data(), sp), right(r.data() + sp + 1, r.size() - sp - 1);
    size_t slot = hash(left, right) & (cap - 1);
    bool duplicate = false;
    while (slots_[slot].rule != 0) {
      const Entry& e = slots_[slot];
      const std::string& o = rules_[e.rule - 1];
      if (e.split == sp && std::string_view(o) == std::string_view(r)) {
        duplicate = true;  // the earlier (lower) rank stays
        break;
      }
      slot = (slot + 1) & (cap - 1);
    }
    if (duplicate) continue;
    slots_[slot] = Entry{uint32_t(i + 1), uint32_t(sp)};
    ++count_;
  }
}

int32_t MergeRanks::rank(std::string_view left, std::string_view right) const {
  if (slots_.empty()) return -1;
  const size_t mask = slots_.size() - 1;
  for (size_t slot = hash(left, right) & mask; slots_[slot].rule != 0; slot = (slot + 1) & mask) {
    const Entry& e = slots_[slot];
    if (e.split != left.size()) continue;
    const std::string& r = rules_[e.rule - 1];
    if (r.size() == left.size() + 1 + right.size() && r.compare(0, left.size(), left) == 0 &&
        r.compare(left.size() + 1, right.size(), right) == 0) {
      return int32_t(e.rule - 1);
    }
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// Vocab

int32_t Vocab::byte_token_spm(uint8_t byte) const {
  static const char* hex = "0123456789ABCDEF";
  const char buf[6] = {'<', '0', 'x', hex[byte >> 4], hex[byte & 15], '>'};
  const int32_t id = find(std::string_view(buf, 6));
  if (id >= 0) return id;
  const char one = static_cast<char>(byte);
  return find(std::string_view(&one, 1));
}

uint8_t Vocab::token_byte(const std::string& text) {
  // "<0xXX>"; anything else reads as the hex digits at [3, 5) as far as they go.
  const auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  int value = 0;
  for (size_t i = 3; i < 5 && i < text.size(); ++i) {
    const int n = nibble(text[i]);
    if (n < 0) break;
    value = value * 16 + n;
  }
  return static_cast<uint8_t>(value);
}

std::string Vocab::make_piece(int32_t id) const {
  const TokenData& t = tokens[size_t(id)];
  if (t.attr & (attr::kUnknown | attr::kControl | attr::kUserDefined)) return t.text;
  if (t.attr & attr::kNormal) {
    if (type == VocabType::Bpe) {
      // Map the byte-level alphabet back to bytes; a code point outside it is written the way
      // llama.cpp's llama_decode_text writes it.
      std::string out;
      std::vector<uint32_t> cps;
      utf8_decode(t.text, cps);
      for (uint32_t cp : cps) {
        const int b = unicode_to_byte(cp);
        if (b >= 0) {
          out.push_back(static_cast<char>(b));
        } else {
          std::string utf8;
          utf8_append(cp, utf8);
          static const char* hex = "0123456789abcdef";
          out += "[UNK_BYTE_0x";
          for (unsigned char c : utf8) {
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
          }
          out += t.text + "]";
        }
      }
      return out;
    }
    std::string out;  // SentencePiece / WordPiece: U+2581 → ' '
    out.reserve(t.text.size());
    for (size_t i = 0; i < t.text.size();) {
      if (t.text.compare(i, kUnderscoreBlock.size(), kUnderscoreBlock) == 0) {
        out.push_back(' ');
        i += kUnderscoreBlock.size();
      } else {
        out.push_back(t.text[i++]);
      }
    }
    return out;
  }
  // BYTE tokens give their raw byte in SentencePiece vocabularies; llama.cpp gives nothing for
  // them in BPE ones, like for unused / undefined tokens.
  if ((t.attr & attr::kByte) && type != VocabType::Bpe)
    return std::string(1, static_cast<char>(token_byte(t.text)));
  return {};
}

void Vocab::build_token_index(const std::string& file) {
  token_to_id_.reserve(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    auto [it, inserted] = token_to_id_.emplace(std::string_view(tokens[i].text), int32_t(i));
    if (!inserted) {
      throw Error(ErrorKind::InvalidFormat, file + ": tokenizer.ggml.tokens: duplicate token '" +
                                                tokens[i].text + "' has ids " + std::to_string(it->second) +
                                                " and " + std::to_string(i));
    }
    max_token_len = std::max(max_token_len, int32_t(tokens[i].text.size()));
  }
}

std::unique_ptr<Vocab> Vocab::load(const gguf::GgufFile& f) {
  auto v = std::make_unique<Vocab>();
  using gguf::ValueType;

  // Tokenizer kind and its defaults.
  if (f.find("tokenizer.ggml.model") == nullptr) {
    fail(ErrorKind::NotFound, f, "tokenizer.ggml.model", "missing (the file has no tokenizer)");
  }
  v->model_name = f.get_string("tokenizer.ggml.model");
  v->pre_name = f.get_string("tokenizer.ggml.pre", "");
  if (v->model_name == "llama") {
    v->type = VocabType::Spm;
    v->bos = 1;
    v->eos = 2;
    v->unk = 0;
    v->add_space_prefix = true;
    v->clean_spaces = false;
    v->add_bos = true;
    v->add_eos = false;
  } else if (v->model_name == "bert") {
    v->type = VocabType::Wpm;
    v->bos = 101;
    v->unk = 100;
    v->sep = 102;
    v->pad = 0;
    v->mask = 103;
    v->add_space_prefix = false;
    v->clean_spaces = true;
    v->add_bos = true;
    v->add_eos = false;
  } else if (v->model_name == "gpt2") {
    v->type = VocabType::Bpe;
    v->bos = 11;
    v->eos = 11;
    const auto info = pre_tokenizer_info(v->pre_name);
    if (!info) {
      fail(ErrorKind::Unsupported, f, "tokenizer.ggml.pre",
           "pre-tokenizer '" + v->pre_name +
               "' is not supported (xnai knows default, llama-bpe/llama3, gpt-2, starcoder, qwen2, "
               "deepseek-coder and their aliases; see docs/tokenizers.md)");
    }
    v->pre_type = info->type;
    v->clean_spaces = info->clean_spaces;
    v->ignore_merges = info->ignore_merges;
    v->add_bos = info->add_bos;
    v->add_space_prefix = false;
  } else {
    fail(ErrorKind::Unsupported, f, "tokenizer.ggml.model",
         "tokenizer '" + v->model_name + "' is not supported (xnai knows llama, gpt2 and bert)");
  }
  v->add_space_prefix = read_bool(f, "tokenizer.ggml.add_space_prefix", v->add_space_prefix);
  v->remove_extra_whitespaces = read_bool(f, "tokenizer.ggml.remove_extra_whitespaces", false);

  // Tokens, scores, types.
  const gguf::Value* toks = f.find("tokenizer.ggml.tokens");
  if (toks == nullptr)
    fail(ErrorKind::NotFound, f, "tokenizer.ggml.tokens", "missing (the file has no vocabulary)");
  toks = find_array(f, "tokenizer.ggml.tokens", {ValueType::STRING}, 0);
  const size_t n = toks->size();
  if (n == 0) fail(ErrorKind::InvalidFormat, f, "tokenizer.ggml.tokens", "is empty");
  if (n > size_t(INT32_MAX))
    fail(ErrorKind::InvalidFormat, f, "tokenizer.ggml.tokens", "has too many entries");
  const gguf::Value* scores = find_array(f, "tokenizer.ggml.scores", {ValueType::F32, ValueType::I32}, n);
  const gguf::Value* types = find_array(f, "tokenizer.ggml.token_type", {ValueType::I32}, n);

  v->tokens.resize(n);
  for (size_t i = 0; i < n; ++i) {
    TokenData& t = v->tokens[i];
    t.text = toks->items()[i].as_string();
    if (t.text.empty()) t.text = "[EMPTY_" + std::to_string(i) + "]";
    if (scores != nullptr) t.score = static_cast<float>(scores->items()[i].as_float());
    if (types != nullptr) {
      const int64_t ty = types->items()[i].as_int();
      t.attr = attr_of_type(ty);
      t.type = (ty >= 1 && ty <= 6) ? static_cast<TokenAttr>(ty) : TokenAttr::Undefined;
    }
  }
  v->build_token_index(f.path());
  if (v->type == VocabType::Spm) {
    v->spm_space_starts_piece = std::none_of(v->tokens.begin(), v->tokens.end(), [](const TokenData& t) {
      for (size_t pos = t.text.find(kUnderscoreBlock, 1); pos != std::string::npos;
           pos = t.text.find(kUnderscoreBlock, pos + 1)) {
        if (pos < 3 || t.text.compare(pos - 3, 3, kUnderscoreBlock) != 0) return true;
      }
      return false;
    });
  }

  if (v->type == VocabType::Bpe) {
    const gguf::Value* merges = f.find("tokenizer.ggml.merges");
    if (merges == nullptr)
      fail(ErrorKind::NotFound, f, "tokenizer.ggml.merges", "missing (a BPE vocabulary needs it)");
    merges = find_array(f, "tokenizer.ggml.merges", {ValueType::STRING}, 0);
    std::vector<std::string> rules;
    rules.reserve(merges->size());
    for (const auto& item : merges->items()) rules.push_back(item.as_string());
    v->merges.build(std::move(rules));
  }

  // Special ids: defaults outside the vocabulary are dropped; a key outside it is ignored.
  for (int32_t Vocab::*m : {&Vocab::bos, &Vocab::eos, &Vocab::unk, &Vocab::sep, &Vocab::pad, &Vocab::mask}) {
    if (!v->valid(v.get()->*m)) v.get()->*m = -1;
  }
  for (const SpecialKey& sk : kSpecialKeys) {
    const gguf::Value* val = f.find(sk.key);
    if (val == nullptr) continue;
    if (!val->is_integer()) {
      fail(ErrorKind::InvalidFormat, f, sk.key,
           std::string("expected an integer token id, found ") + gguf::value_type_name(val->type()));
    }
    const int64_t id = val->as_int();
    if (id >= 0 && id < int64_t(n)) v.get()->*(sk.member) = int32_t(id);
  }
  if (v->type == VocabType::Spm) {
    v->linefeed = v->byte_token_spm('\n');
    if (v->linefeed < 0) v->linefeed = v->pad;
  } else if (v->type == VocabType::Wpm) {
    v->linefeed = v->pad;
  }  // BPE: the tokenizer encodes "\n" once the vocabulary is complete

  v->add_bos = read_bool(f, "tokenizer.ggml.add_bos_token", v->add_bos);
  v->add_eos = read_bool(f, "tokenizer.ggml.add_eos_token", v->add_eos);
  if (v->add_bos && v->bos < 0) {
    fail(ErrorKind::InvalidFormat, f, "tokenizer.ggml.add_bos_token", "is true, but there is no BOS token");
  }
  if (v->add_eos && v->eos < 0) {
    fail(ErrorKind::InvalidFormat, f, "tokenizer.ggml.add_eos_token", "is true, but there is no EOS token");
  }

  // Ids found by their text (EOT, EOM, FIM); such a token is made CONTROL (replacing its other
  // attributes, as llama.cpp does) if it was not.
  for (const TextRule& rule : kTextRules) {
    if (v.get()->*(rule.member) >= 0) continue;
    for (std::string_view text : rule.texts) {
      const int32_t id = v->find(text);
      if (id < 0) continue;
      v.get()->*(rule.member) = id;
      uint32_t& a = v->tokens[size_t(id)].attr;
      if ((a & attr::kControl) == 0) a = attr::kControl;
      break;
    }
  }
  // End of generation.
  std::vector<int32_t> eog;
  for (int32_t id : {v->fim_pad, v->fim_rep, v->fim_sep})
    if (id >= 0) eog.push_back(id);
  for (std::string_view text : kEogTexts) {
    const int32_t id = v->find(text);
    if (id < 0) continue;
    eog.push_back(id);
    uint32_t& a = v->tokens[size_t(id)].attr;
    if ((a & attr::kControl) == 0) a = attr::kControl;
  }
  for (int32_t id : {v->eos, v->eot, v->eom})
    if (id >= 0) eog.push_back(id);
  std::sort(eog.begin(), eog.end());
  eog.erase(std::unique(eog.begin(), eog.end()), eog.end());
  v->eog_ids = std::move(eog);

  // Texts split out of raw text before tokenizing, longest first.
  for (int32_t id = 0; id < int32_t(n); ++id) {
    if (v->tokens[size_t(id)].attr & (attr::kControl | attr::kUserDefined | attr::kUnknown)) {
      v->special_tokens.push_back(id);
    }
  }
  std::stable_sort(v->special_tokens.begin(), v->special_tokens.end(), [&](int32_t a, int32_t b) {
    return v->tokens[size_t(a)].text.size() > v->tokens[size_t(b)].text.size();
  });

  v->pieces.resize(n);
  for (int32_t id = 0; id < int32_t(n); ++id) v->pieces[size_t(id)] = v->make_piece(id);

  // Per-model strip attributes llama.cpp sets by name.
  std::string name = f.get_string("general.name", "");
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  const auto set_attr = [&](std::string_view text, uint32_t bit, bool on) {
    const int32_t id = v->find(text);
    if (id < 0) return;
    uint32_t& a = v->tokens[size_t(id)].attr;
    a = on ? (a | bit) : (a & ~bit);
  };
  const auto pre_has = [&](std::string_view s) { return v->pre_name.find(s) != std::string::npos; };
  if (pre_has("jina-v2-de") || pre_has("jina-v2-es") || pre_has("jina-v2-code")) {
    set_attr("<mask>", attr::kLstrip, true);
  } else if (name.find("phi-3") != std::string::npos || name.find("phi3") != std::string::npos) {
    for (int32_t id : v->special_tokens) v->tokens[size_t(id)].attr |= attr::kRstrip;
    set_attr("</s>", attr::kRstrip, true);
    for (std::string_view t : {"<unk>", "<s>", "<|endoftext|>"}) set_attr(t, attr::kRstrip, false);
  }
  return v;
}

}  // namespace xnai::text
