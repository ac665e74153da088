// Tokenizers read from GGUF metadata (the `tokenizer.*` keys), reproducing llama.cpp at commit
// c392e50 (Feb 2025) token for token: SentencePiece ("llama"), byte-level BPE ("gpt2") and
// WordPiece ("bert"). docs/tokenizers.md lists the supported pre-tokenizers and the few places
// where llama.cpp's behaviour is not fully determined (and what xnai does there).
//
// Thread-safety: a Tokenizer is immutable after from_gguf(); every member is const and may be
// called from any number of threads at once.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xnai::gguf {
class GgufFile;
}

namespace xnai::text {

// The values of `tokenizer.ggml.token_type` (anything else reads as Undefined).
enum class TokenAttr : uint32_t {
  Undefined = 0,
  Normal = 1,
  Unknown = 2,
  Control = 3,
  UserDefined = 4,
  Unused = 5,
  Byte = 6,
};

class Vocab;

class Tokenizer {
 public:
  // Reads every tokenizer.* key it needs. Throws Error naming the file and the key on missing or
  // malformed data (NotFound / InvalidFormat), and Error(Unsupported) naming the value for a
  // tokenizer.ggml.model or tokenizer.ggml.pre this implementation does not know.
  static std::unique_ptr<Tokenizer> from_gguf(const gguf::GgufFile& f);
  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // As llama_tokenize(vocab, text, add_special, parse_special). add_special adds BOS/EOS as the
  // vocabulary asks (CLS/SEP for WordPiece); parse_special turns control-token texts such as
  // "<|im_start|>" into their ids (user-defined tokens are always split out, as in llama.cpp).
  // Invalid UTF-8 never throws: bad bytes read as U+FFFD where llama.cpp does the same.
  std::vector<int32_t> encode(std::string_view text, bool add_special, bool parse_special = false) const;

  // As llama_token_to_piece(vocab, id, buf, lstrip = 0, special): SentencePiece byte tokens
  // (<0xXX>) give their raw byte and U+2581 becomes ' '; byte-level BPE text is mapped back to
  // bytes; control/unknown tokens give "" unless `special`. An id outside [0, n_vocab) gives "".
  // A piece may end inside a UTF-8 character (see take_complete_utf8).
  std::string token_to_piece(int32_t id, bool special = true) const;

  // As llama_detokenize: the concatenated pieces. With a space prefix (SentencePiece) one leading
  // space of the first piece is removed. That applies to the first token only, so after a BOS
  // the space stays, whether or not remove_special drops the BOS: decode({BOS, "▁Hi"}) is " Hi".
  // Then llama.cpp's space clean-up (" ," → ",", …) for the vocabularies that enable it.
  std::string decode(const std::vector<int32_t>& ids, bool remove_special = false,
                     bool unparse_special = false) const;

  int32_t n_vocab() const;
  int32_t bos() const;  // -1 if the vocabulary has none
  int32_t eos() const;  // -1 if none
  int32_t eot() const;  // end-of-turn (<|eot_id|>, <|im_end|>, …), -1 if none
  int32_t unk() const;  // -1 if none
  int32_t sep() const;  // -1 if none
  int32_t pad() const;  // -1 if none
  int32_t nl() const;   // the token of "\n" (llama.cpp's linefeed id), -1 if none
  bool add_bos() const;
  bool add_eos() const;

  // End of generation, as llama.cpp collects it: eos, eot, eom, FIM pad/repo/file-sep and every
  // token whose text is one of <|eot_id|>, <|im_end|>, <|end|>, <end_of_turn>, <|endoftext|>,
  // <|eom_id|>, <EOT>, _<EOT>, <|end_of_text|>.
  bool is_eog(int32_t id) const;
  std::vector<int32_t> eog_ids() const;    // ascending
  bool is_control(int32_t id) const;       // llama.cpp's CONTROL attribute (after its fix-ups)
  TokenAttr token_type(int32_t id) const;  // as stored in the file; Undefined for a bad id
  float token_score(int32_t id) const;     // 0 for a bad id or a vocabulary without scores

  const std::string& token_text(int32_t id) const;  // raw vocab string; "" for a bad id
  std::string_view model() const;                   // tokenizer.ggml.model
  std::string_view pre() const;                     // tokenizer.ggml.pre ("" when absent)
  std::optional<int32_t> find_token(std::string_view text) const;

 private:
  explicit Tokenizer(std::unique_ptr<Vocab> vocab);
  std::unique_ptr<Vocab> vocab_;
};

// Streaming helper: returns (and removes from `pending`) the longest prefix of `pending` that does
// not end inside a UTF-8 sequence, so streamed output never splits a character. Only a valid but
// incomplete sequence at the very end is held back; invalid bytes are passed through as they are.
std::string take_complete_utf8(std::string& pending);
// Appends `piece` to `pending`, then does the same.
std::string take_complete_utf8(std::string& pending, std::string_view piece);

}  // namespace xnai::text
