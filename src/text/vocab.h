// The vocabulary of a tokenizer as llama.cpp's llama_vocab::load builds it from the tokenizer.*
// GGUF keys: token texts, scores and attributes, BPE merge ranks, special ids, the add-BOS/EOS
// rules, the end-of-generation set and the special-token list used to split raw text.
// Private to text/; immutable once load() returns.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "text/pre_tokenizer.h"
#include "text/tokenizer.h"

namespace xnai::gguf {
class GgufFile;
}

namespace xnai::text {

enum class VocabType { Spm, Bpe, Wpm };

// llama.cpp's token attribute bits (llama_token_attr).
namespace attr {
inline constexpr uint32_t kUndefined = 0;
inline constexpr uint32_t kUnknown = 1u << 0;
inline constexpr uint32_t kUnused = 1u << 1;
inline constexpr uint32_t kNormal = 1u << 2;
inline constexpr uint32_t kControl = 1u << 3;
inline constexpr uint32_t kUserDefined = 1u << 4;
inline constexpr uint32_t kByte = 1u << 5;
inline constexpr uint32_t kNormalized = 1u << 6;
inline constexpr uint32_t kLstrip = 1u << 7;
inline constexpr uint32_t kRstrip = 1u << 8;
inline constexpr uint32_t kSingleWord = 1u << 9;
}  // namespace attr

struct TokenData {
  std::string text;
  float score = 0.0f;
  uint32_t attr = attr::kNormal;       // attr:: bits after llama.cpp's fix-ups
  TokenAttr type = TokenAttr::Normal;  // as stored in tokenizer.ggml.token_type
};

// BPE merge ranks keyed by the two halves of a merge rule, looked up without building strings.
class MergeRanks {
 public:
  // `rules` are "left right" strings in rank order; the first occurrence of a pair wins.
  void build(std::vector<std::string> rules);
  int32_t rank(std::string_view left, std::string_view right) const;  // -1 if not a rule
  size_t size() const { return count_; }

 private:
  struct Entry {
    uint32_t rule = 0;   // index into rules_ + 1; 0 = empty slot
    uint32_t split = 0;  // length of the left half
  };
  static uint64_t hash(std::string_view left, std::string_view right);
  std::vector<std::string> rules_;
  std::vector<Entry> slots_;  // open addressing, power-of-two size
  size_t count_ = 0;
};

class Vocab {
 public:
  static std::unique_ptr<Vocab> load(const gguf::GgufFile& f);

  int32_t n_tokens() const { return static_cast<int32_t>(tokens.size()); }
  bool valid(int32_t id) const { return id >= 0 && id < n_tokens(); }
  int32_t find(std::string_view text) const {  // -1 if not a token
    auto it = token_to_id_.find(text);
    return it == token_to_id_.end() ? -1 : it->second;
  }
  // SentencePiece's byte fallback: "<0xXX>", else the one-byte token; -1 if neither exists.
  int32_t byte_token_spm(uint8_t byte) const;
  // The raw byte a BYTE-type token ("<0xXX>") stands for.
  static uint8_t token_byte(const std::string& text);
  // llama_token_to_piece with special = true (what the piece cache holds).
  std::string make_piece(int32_t id) const;

  VocabType type = VocabType::Spm;
  PreType pre_type = PreType::Default;
  std::string model_name;  // tokenizer.ggml.model
  std::string pre_name;    // tokenizer.ggml.pre

  std::vector<TokenData> tokens;
  std::vector<std::string> pieces;  // make_piece(id) for every id
  MergeRanks merges;
  int32_t max_token_len = 0;

  int32_t bos = -1, eos = -1, eot = -1, eom = -1, unk = -1, sep = -1, pad = -1, mask = -1;
  int32_t fim_pre = -1, fim_suf = -1, fim_mid = -1, fim_pad = -1, fim_rep = -1, fim_sep = -1;
  int32_t linefeed = -1;

  bool add_bos = false;
  bool add_eos = false;
  bool add_space_prefix = false;
  bool remove_extra_whitespaces = false;
  bool clean_spaces = false;
  bool ignore_merges = false;
  // SentencePiece: no token has a character other than U+2581 right before a U+2581, so text can
  // be merged run by run (see spm_tokenize).
  bool spm_space_starts_piece = false;

  std::vector<int32_t> eog_ids;         // ascending
  std::vector<int32_t> special_tokens;  // control/user-defined/unknown ids, longest text first

 private:
  void build_token_index(const std::string& file);
  std::unordered_map<std::string_view, int32_t> token_to_id_;  // views into tokens[i].text
};

}  // namespace xnai::text
