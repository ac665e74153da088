// Tokenizer behaviour beyond the raw vectors: decoding, special-token parsing, end-of-generation
// sets, streaming UTF-8, error reporting and speed. Expected ids come from the llama.cpp vectors
// and reference files or from the vocabulary itself (find_token), never from our own encoder
// alone.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <functional>

#include "core/error.h"
#include "tokenizer_test_data.h"

namespace xnai::test {
namespace {

using text::Tokenizer;

const Tokenizer* load_or_skip(const char* rel) {
  const auto p = testdata_file(rel);
  return p.empty() ? nullptr : &cached_tokenizer(p);
}

#define LOAD_OR_SKIP(var, rel)              \
  const Tokenizer* var = load_or_skip(rel); \
  if (var == nullptr) GTEST_SKIP() << "conformance data missing: " << (testdata_dir() / (rel))

int32_t id_of(const Tokenizer& t, std::string_view text) {
  const auto id = t.find_token(text);
  EXPECT_TRUE(id.has_value()) << "token '" << text << "' not in the vocabulary";
  return id.value_or(-1);
}

bool valid_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char b = static_cast<unsigned char>(s[i]);
    const size_t n = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

// llama.cpp's detokenizer drops the space in " ?", " !", " .", " ,", " 's", " 'm", " 're",
// " 've" and around a lone "'" when the vocabulary asks for clean-up; such strings cannot
// round-trip there.
bool has_cleaned_pattern(const std::string& s) {
  for (const char* p : {" ?", " !", " .", " ,", " '"})
    if (s.find(p) != std::string::npos) return true;
  return false;
}

struct RoundTripCase {
  const char* name;
  const char* gguf;
  const char* vectors;
  bool clean_spaces;
};

class TokenizerRoundTrip : public ::testing::TestWithParam<RoundTripCase> {};

// decode(encode(s)) == s for every vector string where llama.cpp's own round trip holds: all of
// them for SentencePiece (the added space prefix is removed again) and for BPE vocabularies
// without clean-up; those with clean-up skip strings that contain the patterns it rewrites.
TEST_P(TokenizerRoundTrip, DecodeInvertsEncode) {
  const RoundTripCase& c = GetParam();
  XNAI_SKIP_IF_MISSING(gguf_path, c.gguf);
  XNAI_SKIP_IF_MISSING(inp, std::string(c.vectors) + ".inp");
  XNAI_SKIP_IF_MISSING(out, std::string(c.vectors) + ".out");
  const auto& tok = cached_tokenizer(gguf_path);
  size_t checked = 0;
  for (const auto& v : read_vectors(inp, out)) {
    if (c.clean_spaces && has_cleaned_pattern(v.text)) continue;
    EXPECT_EQ(escape(tok.decode(v.ids)), escape(v.text)) << c.name << ": ids " << join(v.ids);
    ++checked;
  }
  EXPECT_GE(checked, 35u);
}

INSTANTIATE_TEST_SUITE_P(
    LlamaCpp, TokenizerRoundTrip,
    ::testing::Values(
        RoundTripCase{"llama_spm", "vocab/ggml-vocab-llama-spm.gguf", "vocab/ggml-vocab-llama-spm.gguf",
                      false},
        RoundTripCase{"phi_3", "vocab/ggml-vocab-phi-3.gguf", "vocab/ggml-vocab-phi-3.gguf", false},
        RoundTripCase{"gpt_2", "vocab/ggml-vocab-gpt-2.gguf", "vocab/ggml-vocab-gpt-2.gguf", true},
        RoundTripCase{"deepseek_coder", "vocab/ggml-vocab-deepseek-coder.gguf",
                      "vocab/ggml-vocab-deepseek-coder.gguf", false},
        RoundTripCase{"llama_bpe", "llm/tiny-llama-bpe-f16.gguf", "vocab/ggml-vocab-llama-bpe.gguf", true},
        RoundTripCase{"qwen2", "llm/tiny-qwen2-f16.gguf", "vocab/ggml-vocab-qwen2.gguf", false}),
    [](const ::testing::TestParamInfo<RoundTripCase>& info) { return std::string(info.param.name); });

TEST(TokenizerDecode, SentencePieceLeadingSpaceAndBos) {
  LOAD_OR_SKIP(spm, "vocab/ggml-vocab-llama-spm.gguf");
  // " Hello" and "Hello" from the llama-spm vectors: 29871 15043 and 15043.
  EXPECT_EQ(spm->decode({15043, 3186}), "Hello world");
  EXPECT_EQ(spm->decode({29871, 15043, 3186}), " Hello world");
  // As llama_detokenize: the space removal applies to the first token only, so after a BOS it is
  // kept whether or not the BOS is removed; unparse_special shows the BOS text.
  EXPECT_EQ(spm->decode({1, 15043, 3186}, /*remove_special=*/true), " Hello world");
  EXPECT_EQ(spm->decode({1, 15043, 3186}, /*remove_special=*/false), " Hello world");
  EXPECT_EQ(spm->decode({1, 15043, 3186}, false, /*unparse_special=*/true), "<s> Hello world");
  EXPECT_EQ(spm->decode({15043, 2}, /*remove_special=*/true, true), "Hello</s>");  // add_eos is false
  EXPECT_EQ(spm->decode({}), "");
}

TEST(TokenizerDecode, BpeCleanSpacesAsLlamaCpp) {
  LOAD_OR_SKIP(gpt2, "vocab/ggml-vocab-gpt-2.gguf");
  LOAD_OR_SKIP(qwen2, "llm/tiny-qwen2-f16.gguf");
  const std::string s = "Hello , world !";
  // gpt-2 cleans up " ," and " !"; qwen2 (clean_spaces off) keeps them.
  EXPECT_EQ(gpt2->decode(gpt2->encode(s, false)), "Hello, world!");
  EXPECT_EQ(qwen2->decode(qwen2->encode(s, false)), s);
  EXPECT_EQ(gpt2->decode(gpt2->encode("it ' s a dog 's", false)), "it's a dog's");
}

TEST(TokenizerPieces, BytesSpacesAndSpecials) {
  LOAD_OR_SKIP(spm, "vocab/ggml-vocab-llama-spm.gguf");
  LOAD_OR_SKIP(bpe, "llm/tiny-llama-bpe-f16.gguf");
  EXPECT_EQ(spm->token_to_piece(id_of(*spm, "<0x0A>")), "\n");
  EXPECT_EQ(spm->token_to_piece(id_of(*spm, "<0xE6>")), "\xE6");
  EXPECT_EQ(spm->token_to_piece(15043), " Hello");  // "▁Hello"
  EXPECT_EQ(spm->token_to_piece(1, true), "<s>");
  EXPECT_EQ(spm->token_to_piece(1, false), "");
  EXPECT_EQ(spm->token_to_piece(0, false), "");  // <unk> is UNKNOWN-typed
  EXPECT_EQ(spm->token_to_piece(-1), "");
  EXPECT_EQ(spm->token_to_piece(spm->n_vocab()), "");
  EXPECT_EQ(bpe->token_to_piece(id_of(*bpe, "\xC4\xA0Hello")), " Hello");  // "ĠHello"
  EXPECT_EQ(bpe->token_to_piece(id_of(*bpe, "\xC4\x8A")), "\n");           // "Ċ"
  EXPECT_EQ(bpe->token_to_piece(128000, false), "");
  EXPECT_EQ(bpe->token_to_piece(128000, true), "<|begin_of_text|>");
  EXPECT_EQ(spm->nl(), id_of(*spm, "<0x0A>"));
  EXPECT_EQ(bpe->nl(), id_of(*bpe, "\xC4\x8A"));
}

TEST(TokenizerSpecial, ParseSpecialSentencePiece) {
  LOAD_OR_SKIP(spm, "vocab/ggml-vocab-llama-spm.gguf");
  const int32_t hello = id_of(*spm, "\xE2\x96\x81hello");
  // A raw run after a special token gets the SentencePiece space prefix again.
  EXPECT_EQ(join(spm->encode("<s>hello</s>", false, true)), join({1, hello, 2}));
  EXPECT_EQ(join(spm->encode("<s>hello</s>", true, true)), join({1, 1, hello, 2}));
  // Without parse_special the control texts are plain text.
  const auto plain = spm->encode("<s>hello</s>", false, false);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), 1), 0);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), 2), 0);
  EXPECT_EQ(spm->decode(plain), "<s>hello</s>");
}

TEST(TokenizerSpecial, ParseSpecialChatMl) {
  LOAD_OR_SKIP(qwen2, "llm/tiny-qwen2-f16.gguf");
  const int32_t im_start = id_of(*qwen2, "<|im_start|>");
  const int32_t im_end = id_of(*qwen2, "<|im_end|>");
  EXPECT_EQ(im_start, 151644);
  EXPECT_EQ(im_end, 151645);
  // qwen2's vector "Hello world" is 9707 1879; "user" and "\n" are single tokens.
  const int32_t user = id_of(*qwen2, "user");
  const int32_t nl = id_of(*qwen2, "\xC4\x8A");
  EXPECT_EQ(join(qwen2->encode("<|im_start|>user\nHello world<|im_end|>", false, true)),
            join({im_start, user, nl, 9707, 1879, im_end}));
  const auto plain = qwen2->encode("<|im_start|>user", false, false);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), im_start), 0);
  EXPECT_GT(plain.size(), 2u);
  // add_bos is false for qwen2: add_special adds nothing.
  EXPECT_EQ(qwen2->encode("Hello world", true), (std::vector<int32_t>{9707, 1879}));
  // User-defined tokens are split out even without parse_special (llama.cpp does the same).
  EXPECT_EQ(join(qwen2->encode("<tool_call>", false, false)), join({id_of(*qwen2, "<tool_call>")}));
}

TEST(TokenizerSpecial, LlamaBpeAddsBosWithoutKey) {
  LOAD_OR_SKIP(bpe, "llm/tiny-llama-bpe-f16.gguf");
  EXPECT_TRUE(bpe->add_bos());
  EXPECT_FALSE(bpe->add_eos());
  // llama-bpe vector "Hello world" is 9906 1917.
  EXPECT_EQ(bpe->encode("Hello world", true), (std::vector<int32_t>{128000, 9906, 1917}));
  EXPECT_EQ(join(bpe->encode("<|start_header_id|>user<|end_header_id|>", false, true)),
            join({128006, id_of(*bpe, "user"), 128007}));
}

TEST(TokenizerSpecial, Phi3StripsWhitespaceAfterSpecialTokens) {
  LOAD_OR_SKIP(phi3, "vocab/ggml-vocab-phi-3.gguf");
  // llama.cpp marks phi-3's special tokens RSTRIP (except <s>, <unk>, <|endoftext|>), so the
  // newline after <|user|> disappears.
  const int32_t user = id_of(*phi3, "<|user|>");
  const int32_t end = id_of(*phi3, "<|end|>");
  const auto with_nl = phi3->encode("<|user|>\n hello<|end|>", false, true);
  EXPECT_EQ(join(with_nl), join(phi3->encode("<|user|>hello<|end|>", false, true)));
  EXPECT_EQ(with_nl.front(), user);
  EXPECT_EQ(with_nl.back(), end);
  // "</s>" is USER_DEFINED in this vocabulary: split out even without parse_special.
  EXPECT_EQ(phi3->encode("</s>", false, false), (std::vector<int32_t>{2}));
}

TEST(TokenizerSpecial, EndOfGeneration) {
  LOAD_OR_SKIP(qwen2, "llm/tiny-qwen2-f16.gguf");
  LOAD_OR_SKIP(bpe, "llm/tiny-llama-bpe-f16.gguf");
  LOAD_OR_SKIP(spm, "vocab/ggml-vocab-llama-spm.gguf");
  LOAD_OR_SKIP(phi3, "vocab/ggml-vocab-phi-3.gguf");
  // qwen2: <|endoftext|> (eos), <|im_end|>, and the FIM pad / repo / file-sep tokens.
  EXPECT_EQ(qwen2->eog_ids(), (std::vector<int32_t>{151643, 151645, 151662, 151663, 151664}));
  EXPECT_EQ(qwen2->eos(), 151643);
  EXPECT_EQ(qwen2->eot(), 151645);
  EXPECT_FALSE(qwen2->is_eog(151644));
  EXPECT_TRUE(qwen2->is_control(151645));
  EXPECT_EQ(bpe->eog_ids(), (std::vector<int32_t>{128001, 128009}));
  EXPECT_EQ(bpe->eot(), 128009);
  EXPECT_EQ(spm->eog_ids(), (std::vector<int32_t>{2}));
  EXPECT_EQ(spm->eot(), -1);
  EXPECT_EQ(phi3->eog_ids(), (std::vector<int32_t>{32000, 32007}));
  EXPECT_EQ(phi3->eot(), 32007);
}

TEST(TokenizerMeta, ModelPreAndSpecialIds) {
  LOAD_OR_SKIP(spm, "vocab/ggml-vocab-llama-spm.gguf");
  LOAD_OR_SKIP(dsc, "vocab/ggml-vocab-deepseek-coder.gguf");
  LOAD_OR_SKIP(bert, "vocab/ggml-vocab-bert-bge.gguf");
  EXPECT_EQ(spm->model(), "llama");
  EXPECT_EQ(spm->pre(), "default");
  EXPECT_EQ(spm->n_vocab(), 32000);
  EXPECT_EQ(spm->bos(), 1);
  EXPECT_EQ(spm->eos(), 2);
  EXPECT_EQ(spm->unk(), 0);
  EXPECT_TRUE(spm->add_bos());
  EXPECT_EQ(spm->token_text(3), "<0x00>");
  EXPECT_EQ(spm->token_type(3), text::TokenAttr::Byte);
  EXPECT_EQ(spm->token_type(0), text::TokenAttr::Unknown);
  EXPECT_EQ(spm->token_text(-5), "");
  EXPECT_FALSE(spm->find_token("no such token").has_value());
  EXPECT_EQ(dsc->model(), "gpt2");
  EXPECT_EQ(dsc->pre(), "deepseek-coder");
  EXPECT_EQ(dsc->encode("Hello world", true).front(), 32013);  // add_bos_token is true
  EXPECT_EQ(bert->model(), "bert");
  EXPECT_EQ(bert->bos(), 101);
  EXPECT_EQ(bert->sep(), 102);
  EXPECT_EQ(bert->encode("", true), (std::vector<int32_t>{101, 102}));
}

TEST(TokenizerUtf8, TakeCompleteHoldsBackSplitSequences) {
  std::string pending;
  EXPECT_EQ(text::take_complete_utf8(pending, "ab\xC3"), "ab");
  EXPECT_EQ(pending, "\xC3");
  EXPECT_EQ(text::take_complete_utf8(pending, "\xA9!"), "\xC3\xA9!");
  EXPECT_EQ(pending, "");
  // A 4-byte emoji (U+1F363) in every split.
  const std::string sushi = "\xF0\x9F\x8D\xA3";
  for (size_t cut = 1; cut < 4; ++cut) {
    pending.clear();
    EXPECT_EQ(text::take_complete_utf8(pending, sushi.substr(0, cut)), "");
    EXPECT_EQ(text::take_complete_utf8(pending, sushi.substr(cut)), sushi);
    EXPECT_TRUE(pending.empty());
  }
  // Three bytes split 1 + 1 + 1.
  pending.clear();
  EXPECT_EQ(text::take_complete_utf8(pending, "\xE6"), "");
  EXPECT_EQ(text::take_complete_utf8(pending, "\x9D"), "");
  EXPECT_EQ(text::take_complete_utf8(pending, "\xB1x"), "\xE6\x9D\xB1x");
  // Invalid bytes pass through instead of stalling the stream.
  pending.clear();
  EXPECT_EQ(text::take_complete_utf8(pending, "\x80\xFFz"), "\x80\xFFz");
  EXPECT_EQ(text::take_complete_utf8(pending, "\x9A"), "\x9A");
  EXPECT_EQ(text::take_complete_utf8(pending, ""), "");
}

TEST(TokenizerUtf8, StreamingRealPiecesNeverSplitsCharacters) {
  LOAD_OR_SKIP(spm, "vocab/ggml-vocab-llama-spm.gguf");
  LOAD_OR_SKIP(bpe, "llm/tiny-llama-bpe-f16.gguf");
  const std::string prompt =
      "Caf\xC3\xA9 na\xC3\xAFve \xE2\x80\x94 \xE6\x9D\xB1\xE4\xBA\xAC\xE3\x81\xA7 "
      "\xF0\x9F\x8D\xA3\xF0\x9F\x98\x8A!";
  for (const Tokenizer* t : {spm, bpe}) {
    std::string pending, streamed;
    const auto ids = t->encode(prompt, false);
    for (size_t i = 0; i < ids.size(); ++i) {
      std::string piece = t->token_to_piece(ids[i]);
      if (i == 0 && t == spm) piece.erase(0, 1);  // the space prefix
      const std::string chunk = text::take_complete_utf8(pending, piece);
      EXPECT_TRUE(valid_utf8(chunk)) << escape(chunk);
      streamed += chunk;
    }
    EXPECT_TRUE(pending.empty());
    EXPECT_EQ(streamed, prompt);
  }
}

TEST(TokenizerEncode, InvalidUtf8NeverThrows) {
  LOAD_OR_SKIP(spm, "vocab/ggml-vocab-llama-spm.gguf");
  LOAD_OR_SKIP(qwen2, "llm/tiny-qwen2-f16.gguf");
  LOAD_OR_SKIP(dsc, "vocab/ggml-vocab-deepseek-coder.gguf");
  LOAD_OR_SKIP(bert, "vocab/ggml-vocab-bert-bge.gguf");
  const std::string bad =
      std::string("a\xFF\xC3(\xF0\x9F\x98 b\x80") + std::string(1, '\0') + "\xF7\xBF\xBF\xBFz";
  for (const Tokenizer* t : {spm, qwen2, dsc, bert}) {
    std::vector<int32_t> ids;
    EXPECT_NO_THROW(ids = t->encode(bad, true, true));
    EXPECT_FALSE(ids.empty());
    for (int32_t id : ids) EXPECT_TRUE(id >= 0 && id < t->n_vocab());
  }
  // SentencePiece keeps the raw bytes (byte fallback), so the round trip is exact.
  EXPECT_EQ(escape(spm->decode(spm->encode(bad, false))), escape(bad));
}

// --- errors --------------------------------------------------------------------------------

std::string write_gguf(const std::string& name, const std::function<void(gguf::GgufWriter&)>& fill) {
  const auto path = (std::filesystem::temp_directory_path() / ("xnai_tok_" + name + ".gguf")).string();
  gguf::GgufWriter w;
  w.set_string("general.architecture", "llama");
  fill(w);
  w.write(path);
  return path;
}

void expect_load_error(const std::string& path, ErrorKind kind, const std::vector<std::string>& needles) {
  const auto file = gguf::GgufFile::open(path);
  try {
    (void)Tokenizer::from_gguf(file);
    ADD_FAILURE() << "loading " << path << " should fail";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    for (const auto& n : needles) EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << e.what();
  }
  std::filesystem::remove(path);
}

TEST(TokenizerErrors, MissingTokens) {
  const auto path =
      write_gguf("no_tokens", [](gguf::GgufWriter& w) { w.set_string("tokenizer.ggml.model", "llama"); });
  expect_load_error(path, ErrorKind::NotFound, {path, "tokenizer.ggml.tokens"});
}

TEST(TokenizerErrors, MissingModel) {
  const auto path = write_gguf("no_model", [](gguf::GgufWriter&) {});
  expect_load_error(path, ErrorKind::NotFound, {path, "tokenizer.ggml.model"});
}

TEST(TokenizerErrors, UnknownModelType) {
  const auto path = write_gguf("t5", [](gguf::GgufWriter& w) {
    w.set_string("tokenizer.ggml.model", "t5");
    w.set_strings("tokenizer.ggml.tokens", {"a", "b"});
  });
  expect_load_error(path, ErrorKind::Unsupported, {path, "tokenizer.ggml.model", "'t5'"});
}

TEST(TokenizerErrors, UnknownPreTokenizer) {
  const auto path = write_gguf("pre", [](gguf::GgufWriter& w) {
    w.set_string("tokenizer.ggml.model", "gpt2");
    w.set_string("tokenizer.ggml.pre", "made-up-pre");
    w.set_strings("tokenizer.ggml.tokens", {"a", "b"});
    w.set_strings("tokenizer.ggml.merges", {"a b"});
  });
  expect_load_error(path, ErrorKind::Unsupported, {path, "tokenizer.ggml.pre", "'made-up-pre'"});
}

TEST(TokenizerErrors, BadArrays) {
  auto path = write_gguf("tokens_type", [](gguf::GgufWriter& w) {
    w.set_string("tokenizer.ggml.model", "llama");
    w.set_ints("tokenizer.ggml.tokens", {1, 2});
  });
  expect_load_error(path, ErrorKind::InvalidFormat, {path, "tokenizer.ggml.tokens", "string"});
  path = write_gguf("short_scores", [](gguf::GgufWriter& w) {
    w.set_string("tokenizer.ggml.model", "llama");
    w.set_strings("tokenizer.ggml.tokens", {"a", "b", "c"});
    w.set_floats("tokenizer.ggml.scores", {0.0f});
  });
  expect_load_error(path, ErrorKind::InvalidFormat, {path, "tokenizer.ggml.scores"});
  path = write_gguf("no_merges", [](gguf::GgufWriter& w) {
    w.set_string("tokenizer.ggml.model", "gpt2");
    w.set_strings("tokenizer.ggml.tokens", {"a", "b"});
  });
  expect_load_error(path, ErrorKind::NotFound, {path, "tokenizer.ggml.merges"});
  path = write_gguf("duplicate", [](gguf::GgufWriter& w) {
    w.set_string("tokenizer.ggml.model", "llama");
    w.set_strings("tokenizer.ggml.tokens", {"a", "b", "a"});
  });
  expect_load_error(path, ErrorKind::InvalidFormat, {path, "duplicate", "'a'"});
}

TEST(TokenizerErrors, TinySyntheticBpeWorks) {
  // A hand-made vocabulary: merges apply by rank, unknown pieces fall back to byte tokens.
  const auto path = write_gguf("tiny_bpe", [](gguf::GgufWriter& w) {
    w.set_string("tokenizer.ggml.model", "gpt2");
    w.set_string("tokenizer.ggml.pre", "gpt-2");
    w.set_strings("tokenizer.ggml.tokens", {"a", "b", "c", "ab", "abc", "\xC4\xA0",
                                            "\xC4\xA0"
                                            "a"});
    w.set_strings("tokenizer.ggml.merges", {"a b", "ab c", "\xC4\xA0 a"});
  });
  const auto file = gguf::GgufFile::open(path);
  const auto tok = Tokenizer::from_gguf(file);
  std::filesystem::remove(path);
  // "abc" | "Ġabd": a+b merges first (rank 0), so "Ġa" (rank 2) never forms; "d" is no token.
  EXPECT_EQ(tok->encode("abc abd", false), (std::vector<int32_t>{4, 5, 3}));
  EXPECT_EQ(tok->bos(), -1);  // the default id 11 is outside this vocabulary
  EXPECT_EQ(tok->decode({4, 5, 3}), "abc ab");
  EXPECT_EQ(tok->encode(" a", false), (std::vector<int32_t>{6}));
}

// Speed is measured in bench/tokenizer_bench.cpp; here long single "words" only have to come
// out right (they are the inputs that make naive merge loops quadratic).
TEST(TokenizerLongInput, LongWordsRoundTrip) {
  LOAD_OR_SKIP(bpe, "llm/tiny-llama-bpe-f16.gguf");
  LOAD_OR_SKIP(spm, "vocab/ggml-vocab-llama-spm.gguf");
  for (const std::string& s :
       {std::string(100000, 'a'), std::string(100000, ' '), std::string(50000, '=') + "x"}) {
    const auto b = bpe->encode(s, false);
    EXPECT_FALSE(b.empty());
    EXPECT_EQ(bpe->decode(b), s);
    const auto p = spm->encode(s, false);
    EXPECT_FALSE(p.empty());
    EXPECT_EQ(spm->decode(p), s);  // the space prefix is removed again on decode
  }
}

}  // namespace
}  // namespace xnai::test
