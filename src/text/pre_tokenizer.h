// Byte-level BPE pre-tokenization: splitting text into words the way llama.cpp's
// unicode_regex_split does for each tokenizer.ggml.pre, then mapping every byte of each word to
// the GPT-2 byte alphabet. The regexes are not interpreted at run time; each one llama.cpp uses
// for a supported pre-tokenizer is hand-written here with the exact matching semantics llama.cpp
// gets from its custom splitters or from std::regex on its category-collapsed text.
// Private to text/.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xnai::text {

enum class PreType {
  Default,        // "default" (and a missing key): llama.cpp's four-regex default
  Llama3,         // "llama-bpe", "llama3", "llama-v3", "falcon3", "dbrx", "smaug-bpe"
  Gpt2,           // "gpt-2", "phi-2", "jina-*", "gigachat", "roberta-bpe", "mpt", "olmo", "jais"
  Starcoder,      // "starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b"
  Qwen2,          // "qwen2", "deepseek-r1-qwen", "stablelm2", "megrez"
  DeepseekCoder,  // "deepseek-coder"
};

// Flags llama.cpp sets together with a pre-tokenizer name.
struct PreTokenizerInfo {
  PreType type = PreType::Default;
  bool clean_spaces = true;    // detokenize removes " ," " ." " 's" … spaces
  bool ignore_merges = false;  // a word that is itself a token skips the merges
  bool add_bos = false;        // add BOS even without tokenizer.ggml.add_bos_token
};

// nullopt for a name this implementation does not support.
std::optional<PreTokenizerInfo> pre_tokenizer_info(std::string_view name);

// Splits `text` into words and appends each, byte-level encoded, to `words`.
void pre_tokenize(PreType type, std::string_view text, std::vector<std::string>& words);

}  // namespace xnai::text
