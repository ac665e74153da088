#include "text/tokenizer.h"

#include <cctype>

#include "core/error.h"
#include "formats/gguf.h"
#include "text/tokenizer_models.h"
#include "text/vocab.h"

namespace xnai::text {
namespace {

// A run of the input: raw text (offset/length into it) or a special token already recognised.
struct Fragment {
  int32_t token;  // -1 for raw text
  size_t offset;
  size_t length;
};

inline bool is_c_space(char c) {  // C isspace in the "C" locale, as llama.cpp's strip uses
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// llama.cpp's tokenizer_st_partition: for each special token in turn (longest text first), every
// occurrence inside a raw fragment is cut out, left to right. Control and unknown tokens take part
// only with parse_special; user-defined ones always do. LSTRIP/RSTRIP tokens eat the whitespace
// next to them.
std::vector<Fragment> partition(const Vocab& vocab, std::string_view text, bool parse_special) {
  std::vector<Fragment> frags;
  if (text.empty()) return frags;
  frags.push_back({-1, 0, text.size()});
  std::vector<Fragment> next;
  for (int32_t id : vocab.special_tokens) {
    const TokenData& tok = vocab.tokens[size_t(id)];
    if (!parse_special && (tok.attr & (attr::kControl | attr::kUnknown))) continue;
    const std::string_view needle = tok.text;
    bool changed = false;
    next.clear();
    for (const Fragment& f : frags) {
      if (f.token >= 0) {
        next.push_back(f);
        continue;
      }
      size_t base = f.offset;
      size_t len = f.length;
      const std::string_view hay = text.substr(0, f.offset + f.length);
      while (true) {
        const size_t match = hay.find(needle, base);
        if (match == std::string_view::npos) {
          if (len > 0) next.push_back({-1, base, len});
          break;
        }
        changed = true;
        if (match > base) {
          size_t left_len = match - base;
          if (tok.attr & attr::kLstrip) {
            while (left_len > 0 && is_c_space(text[base + left_len - 1])) --left_len;
          }
          if (left_len > 0) next.push_back({-1, base, left_len});
        }
        next.push_back({id, 0, 0});
        const size_t after = match + needle.size();
        const size_t end = base + len;
        if (after >= end) break;
        size_t right = after;
        size_t right_len = end - after;
        if (tok.attr & attr::kRstrip) {
          while (right_len > 0 && is_c_space(text[right])) {
            ++right;
            --right_len;
          }
        }
        base = right;
        len = right_len;
      }
    }
    if (changed) frags.swap(next);
  }
  return frags;
}

// llama.cpp's detokenizer clean-up, three in-place passes over the bytes, reproduced with their
// exact read-after-write behaviour: " ?" " !" " ." " ," lose the space; a "'" between two spaces
// loses both (the second one is blanked, so two such quotes in a row do not both match); " 's"
// " 'm" " 're" " 've" lose the space.
void clean_spaces(std::string& s) {
  size_t n = s.size();
  size_t total = n ? 1 : 0;
  for (size_t i = 1; i < n; ++i) {
    const char x = s[i];
    if (s[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) --total;
    s[total++] = x;
  }
  n = total;
  total = n ? 1 : 0;
  for (size_t i = 1; i < n; ++i) {
    const char x = s[i];
    if (x == '\'' && i + 1 < n && s[i - 1] == ' ' && s[i + 1] == ' ') {
      --total;
      s[++i] = '\0';
    }
    s[total++] = x;
  }
  n = total;
  total = n ? 1 : 0;
  for (size_t i = 1; i < n; ++i) {
    const char x = s[i];
    if (s[i - 1] == ' ' && x == '\'' && i + 1 < n) {
      const char x1 = s[i + 1];
      if (x1 == 's' || x1 == 'm') {
        --total;
      } else if (i + 2 < n) {
        const char x2 = s[i + 2];
        if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) --total;
      }
    }
    s[total++] = x;
  }
  s.resize(total);
}

}  // namespace

Tokenizer::Tokenizer(std::unique_ptr<Vocab> vocab) : vocab_(std::move(vocab)) {}
Tokenizer::~Tokenizer() = default;

std::unique_ptr<Tokenizer> Tokenizer::from_gguf(const gguf::GgufFile& f) {
  std::unique_ptr<Tokenizer> t(new Tokenizer(Vocab::load(f)));
  Vocab& v = *t->vocab_;
  if (v.type == VocabType::Bpe) {
    // llama.cpp's linefeed id for BPE: the first token of "\n" (before special tokens exist).
    std::vector<int32_t> ids;
    bpe_tokenize(v, "\n", ids);
    v.linefeed = ids.empty() ? v.pad : ids[0];
  }
  return t;
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
  const Vocab& v = *vocab_;
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);
  const std::vector<Fragment> frags = partition(v, text, parse_special);

  switch (v.type) {
    case VocabType::Spm: {
      // SentencePiece puts a space in front of the text and of every raw run after a special token.
      if (add_special && v.add_bos) out.push_back(v.bos);
      bool prev_special = true;
      std::string escaped;
      for (const Fragment& f : frags) {
        if (f.token >= 0) {
          out.push_back(f.token);
          prev_special = true;
          continue;
        }
        escaped.clear();
        if (v.add_space_prefix && prev_special) escaped += "\xE2\x96\x81";
        for (char c : text.substr(f.offset, f.length)) {
          if (c == ' ') {
            escaped += "\xE2\x96\x81";
          } else {
            escaped.push_back(c);
          }
        }
        spm_tokenize(v, escaped, out);
        prev_special = false;
      }
      if (add_special && v.add_eos) out.push_back(v.eos);
      break;
    }
    case VocabType::Bpe: {
      if (add_special && v.add_bos) out.push_back(v.bos);
      for (const Fragment& f : frags) {
        if (f.token >= 0) {
          out.push_back(f.token);
        } else {
          bpe_tokenize(v, text.substr(f.offset, f.length), out);
        }
      }
      if (add_special && v.add_eos) out.push_back(v.eos);
      break;
    }
    case VocabType::Wpm: {
      // BERT: [CLS] … [SEP] whenever specials are added, whatever the add_* keys say.
      if (add_special && v.bos >= 0) out.push_back(v.bos);
      for (const Fragment& f : frags) {
        if (f.token >= 0) {
          out.push_back(f.token);
        } else {
          wpm_tokenize(v, text.substr(f.offset, f.length), out);
        }
      }
      if (add_special && v.sep >= 0) out.push_back(v.sep);
      break;
    }
  }
  return out;
}

std::string Tokenizer::token_to_piece(int32_t id, bool special) const {
  const Vocab& v = *vocab_;
  if (!v.valid(id)) return {};
  if (!special && (v.tokens[size_t(id)].attr & (attr::kUnknown | attr::kControl))) return {};
  return v.pieces[size_t(id)];
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool remove_special,
                              bool unparse_special) const {
  const Vocab& v = *vocab_;
  size_t first = 0;
  size_t last = ids.size();
  bool remove_space = v.add_space_prefix;  // strip the space encode() put in front
  if (remove_special && v.add_bos && last > first && ids[first] == v.bos) {
    remove_space = false;
    ++first;
  }
  if (remove_special && v.add_eos && last > first && ids[last - 1] == v.eos) --last;

  std::string text;
  for (size_t i = first; i < last; ++i) {
    const std::string piece = token_to_piece(ids[i], unparse_special);
    // llama.cpp's lstrip: skip one leading space of the first piece only.
    const size_t skip = (remove_space && !piece.empty() && piece[0] == ' ') ? 1 : 0;
    text.append(piece, skip, std::string::npos);
    remove_space = false;
  }

  if (v.clean_spaces) clean_spaces(text);
  return text;
}

int32_t Tokenizer::n_vocab() const { return vocab_->n_tokens(); }
int32_t Tokenizer::bos() const { return vocab_->bos; }
int32_t Tokenizer::eos() const { return vocab_->eos; }
int32_t Tokenizer::eot() const { return vocab_->eot; }
int32_t Tokenizer::unk() const { return vocab_->unk; }
int32_t Tokenizer::sep() const { return vocab_->sep; }
int32_t Tokenizer::pad() const { return vocab_->pad; }
int32_t Tokenizer::nl() const { return vocab_->linefeed; }
bool Tokenizer::add_bos() const { return vocab_->add_bos; }
bool Tokenizer::add_eos() const { return vocab_->add_eos; }

bool Tokenizer::is_eog(int32_t id) const {
  const auto& e = vocab_->eog_ids;
  return std::binary_search(e.begin(), e.end(), id);
}
std::vector<int32_t> Tokenizer::eog_ids() const { return vocab_->eog_ids; }

bool Tokenizer::is_control(int32_t id) const {
  return vocab_->valid(id) && (vocab_->tokens[size_t(id)].attr & attr::kControl);
}

TokenAttr Tokenizer::token_type(int32_t id) const {
  return vocab_->valid(id) ? vocab_->tokens[size_t(id)].type : TokenAttr::Undefined;
}

float Tokenizer::token_score(int32_t id) const {
  return vocab_->valid(id) ? vocab_->tokens[size_t(id)].score : 0.0f;
}

const std::string& Tokenizer::token_text(int32_t id) const {
  static const std::string empty;
  return vocab_->valid(id) ? vocab_->tokens[size_t(id)].text : empty;
}

std::string_view Tokenizer::model() const { return vocab_->model_name; }
std::string_view Tokenizer::pre() const { return vocab_->pre_name; }

std::optional<int32_t> Tokenizer::find_token(std::string_view text) const {
  const int32_t id = vocab_->find(text);
  return id >= 0 ? std::optional<int32_t>(id) : std::nullopt;
}

}  // namespace xnai::text
