// Shared by the tokenizer tests: loading (and caching) tokenizers from ../shared/testdata and
// reading llama.cpp's .inp/.out tokenizer vectors (format: testdata/vocab/README.md).
#pragma once
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "test_support.h"
#include "text/tokenizer.h"

namespace xnai::test {

// A tokenizer per GGUF path, loaded once per test program (the big vocabularies take a while).
inline const text::Tokenizer& cached_tokenizer(const std::filesystem::path& path) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<text::Tokenizer>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = cache[path.string()];
  if (!slot) {
    const auto file = gguf::GgufFile::open(path.string());
    slot = text::Tokenizer::from_gguf(file);
  }
  return *slot;
}

inline std::string read_file_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct TokenizerVector {
  std::string text;
  std::vector<int32_t> ids;
};

// Pairs the strings of X.inp with the id lines of X.out.
inline std::vector<TokenizerVector> read_vectors(const std::filesystem::path& inp,
                                                 const std::filesystem::path& out) {
  const std::string sep = "\n__ggml_vocab_test__\n";
  const std::string in_text = read_file_bytes(inp);
  std::vector<std::string> inputs;
  for (size_t pos = 0;;) {
    const size_t next = in_text.find(sep, pos);
    if (next == std::string::npos) break;
    inputs.push_back(in_text.substr(pos, next - pos));
    pos = next + sep.size();
  }
  std::vector<TokenizerVector> vectors;
  std::istringstream lines(read_file_bytes(out));
  std::string line;
  for (const auto& s : inputs) {
    if (!std::getline(lines, line)) break;
    TokenizerVector v{s, {}};
    std::istringstream ids(line);
    for (long long id; ids >> id;) v.ids.push_back(int32_t(id));
    vectors.push_back(std::move(v));
  }
  return vectors;
}

// Printable form of a test string: control bytes and non-ASCII escaped.
inline std::string escape(const std::string& s) {
  std::string r;
  for (unsigned char c : s) {
    if (c == '\n')
      r += "\\n";
    else if (c == '\t')
      r += "\\t";
    else if (c < 0x20 || c >= 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      r += buf;
    } else
      r.push_back(char(c));
  }
  return r;
}

inline std::string join(const std::vector<int32_t>& ids) {
  std::string r;
  for (int32_t id : ids) {
    if (!r.empty()) r.push_back(' ');
    r.append(std::to_string(id));
  }
  return r;
}

}  // namespace xnai::test
