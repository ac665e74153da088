// Malformed GGUF input: each case must throw xnai::Error with a message that names the file
// and the problem, never crash or read out of bounds (the asan preset runs these too).
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>

#include "core/error.h"
#include "formats/gguf.h"
#include "formats/gguf_bytes.h"
#include "test_support.h"

namespace xnai::gguf {
namespace {

using test::GgufBytes;

// Parses bytes that must be rejected; returns the message and checks kind + file name.
std::string reject(const std::vector<uint8_t>& bytes, ErrorKind kind = ErrorKind::InvalidFormat) {
  // A private copy of exactly the given size, so ASan sees any read past its end.
  std::vector<uint8_t> copy(bytes);
  try {
    GgufFile::parse(copy.data(), copy.size(), "bad.gguf");
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind("bad.gguf: ", 0), 0u) << msg;
    return msg;
  }
  ADD_FAILURE() << "parse accepted malformed input";
  return "";
}

#define EXPECT_REJECTED(bytes, substring, ...)                                 \
  do {                                                                         \
    const std::string msg_ = reject((bytes), ##__VA_ARGS__);                   \
    EXPECT_NE(msg_.find(substring), std::string::npos) << "message: " << msg_; \
  } while (0)

// A valid file: one u32 key, one F32 tensor [4] at offset 0.
GgufBytes valid_file() {
  GgufBytes b;
  b.header(3, 1, 1).kv_u32("general.x", 7).tensor("t", {4}, 0, 0).pad(32).zeros(16).pad(32);
  return b;
}

TEST(GgufMalformed, ValidBaselineParses) {
  auto b = valid_file();
  const auto f = GgufFile::parse(b.data(), b.size(), "ok.gguf");
  EXPECT_EQ(f.tensors().size(), 1u);
  EXPECT_EQ(f.get_int("general.x", 0), 7);
  EXPECT_EQ(f.tensors()[0].nbytes, 16u);
}

TEST(GgufMalformed, EmptyAndTiny) {
  EXPECT_REJECTED(std::vector<uint8_t>(), "truncated while reading header");
  EXPECT_REJECTED((std::vector<uint8_t>{'G', 'G'}), "truncated while reading header");
  EXPECT_REJECTED((GgufBytes().raw("GGUF").bytes), "truncated while reading header");
  // parse() with a null pointer is an empty input, not a crash.
  EXPECT_THROW(GgufFile::parse(nullptr, 100, "null.gguf"), Error);
}

TEST(GgufMalformed, BadMagic) {
  auto b = valid_file();
  b.bytes[3] = 'X';
  EXPECT_REJECTED(b.bytes, "not a GGUF file (magic is 'GGUX'");
}

TEST(GgufMalformed, Versions) {
  EXPECT_REJECTED(GgufBytes().header(1, 0, 0).bytes, "GGUF version 1 is not supported",
                  ErrorKind::Unsupported);
  EXPECT_REJECTED(GgufBytes().header(99, 0, 0).bytes, "GGUF version 99 is not supported",
                  ErrorKind::Unsupported);
  EXPECT_REJECTED(GgufBytes().header(0, 0, 0).bytes, "GGUF version 0 is not supported",
                  ErrorKind::Unsupported);
  EXPECT_REJECTED(GgufBytes().header(0x03000000, 0, 0).bytes, "big-endian", ErrorKind::Unsupported);
  // Version 2 has the same layout as 3 and is accepted.
  auto v2 = valid_file();
  v2.bytes[4] = 2;
  EXPECT_EQ(GgufFile::parse(v2.data(), v2.size(), "v2.gguf").version(), 2u);
}

TEST(GgufMalformed, AbsurdCounts) {
  EXPECT_REJECTED(GgufBytes().header(3, 1ull << 60, 0).bytes, "claims 1152921504606846976 tensors");
  EXPECT_REJECTED(GgufBytes().header(3, 0, ~0ull).bytes, "claims 18446744073709551615 metadata entries");
  // Each count alone could fit, but not both together.
  GgufBytes both;
  both.header(3, 1, 2).zeros(40);
  EXPECT_REJECTED(both.bytes, "claims 1 tensors but only 40 bytes follow the header");
}

TEST(GgufMalformed, AbsurdStringLengths) {
  GgufBytes key;
  key.header(3, 0, 1).u64(1ull << 40).zeros(16);
  EXPECT_REJECTED(key.bytes, "metadata entry 0: key length 1099511627776 exceeds the 16 bytes left");
  GgufBytes val;
  val.header(3, 0, 1).str("general.name").u32(8).u64(~0ull).raw("abc");
  EXPECT_REJECTED(val.bytes, "metadata entry 0 ('general.name'): string length 18446744073709551615 exceeds");
  GgufBytes name;
  name.header(3, 1, 0).u64(5000).zeros(30);
  EXPECT_REJECTED(name.bytes, "tensor info 0: tensor name length 5000 exceeds the 30 bytes left");
}

TEST(GgufMalformed, AbsurdArrayLengths) {
  GgufBytes u8s;
  u8s.header(3, 0, 1).str("a").u32(9).u32(0).u64(1000).zeros(999);
  EXPECT_REJECTED(u8s.bytes,
                  "metadata entry 0 ('a'): array of 1000 u8 items needs at least 1000 bytes but only 999");
  GgufBytes strs;  // 2^61 strings of at least 8 bytes each: the size itself overflows
  strs.header(3, 0, 1).str("tokenizer.ggml.tokens").u32(9).u32(8).u64(1ull << 61).zeros(64);
  EXPECT_REJECTED(strs.bytes, "array of 2305843009213693952 string items needs at least 2^64 bytes");
  GgufBytes nested;  // inner array claims more than is left
  nested.header(3, 0, 1).str("n").u32(9).u32(9).u64(1).u32(5).u64(4).i32(1).i32(2);
  EXPECT_REJECTED(nested.bytes, "array of 4 i32 items needs at least 16 bytes but only 8");
}

TEST(GgufMalformed, TooManyArrayItemsInTotal) {
  // Two u8 arrays of 2^23 + 1 items: each is backed by real bytes, together they pass the
  // 2^24 cap on metadata values (each would cost a 72-byte Value).
  const uint64_t n = (1u << 23) + 1;
  GgufBytes b;
  b.header(3, 0, 2).str("a").u32(9).u32(0).u64(n).zeros(n).str("b").u32(9).u32(0).u64(n).zeros(n);
  EXPECT_REJECTED(b.bytes, "metadata entry 1 ('b'): metadata arrays hold more than 16777216 items in total",
                  ErrorKind::Unsupported);
}

TEST(GgufMalformed, UnknownValueTypes) {
  EXPECT_REJECTED(GgufBytes().header(3, 0, 1).str("k").u32(13).u32(0).bytes, "unknown value type id 13");
  EXPECT_REJECTED(GgufBytes().header(3, 0, 1).str("k").u32(9).u32(77).u64(0).bytes,
                  "unknown array element type id 77");
}

TEST(GgufMalformed, DeeplyNestedArrays) {
  GgufBytes b;
  b.header(3, 0, 1).str("deep").u32(9);
  for (int i = 0; i < 40; ++i) b.u32(9).u64(1);
  b.u32(0).u64(0);
  EXPECT_REJECTED(b.bytes, "nested more than 16 deep", ErrorKind::Unsupported);
  // 15 levels are fine.
  GgufBytes ok;
  ok.header(3, 0, 1).str("deep").u32(9);
  for (int i = 0; i < 14; ++i) ok.u32(9).u64(1);
  ok.u32(4).u64(1).u32(42);
  const auto f = GgufFile::parse(ok.data(), ok.size(), "ok.gguf");
  const Value* v = &f.get("deep");
  for (int i = 0; i < 14; ++i) v = &v->at(0);
  EXPECT_EQ(v->at(0).as_uint(), 42u);
}

TEST(GgufMalformed, DuplicateKeyAndTensor) {
  GgufBytes keys;
  keys.header(3, 0, 3).kv_u32("a", 1).kv_u32("b", 2).kv_str("a", "x");
  EXPECT_REJECTED(keys.bytes, "metadata entry 2 ('a'): duplicate key (first seen at entry 0)");
  GgufBytes tensors;
  tensors.header(3, 2, 0).tensor("w", {4}, 0, 0).tensor("w", {4}, 0, 32).pad(32).zeros(64);
  EXPECT_REJECTED(tensors.bytes, "tensor info 1 ('w'): duplicate tensor name (first seen at tensor info 0)");
}

TEST(GgufMalformed, NamesInMessagesAreEscapedAndCut) {
  GgufBytes ctl;
  ctl.header(3, 0, 2).kv_u32("a\nb", 1).kv_u32("a\nb", 2);
  EXPECT_REJECTED(ctl.bytes, "metadata entry 1 ('a\\x0ab'): duplicate key");
  const std::string long_key(5000, 'k');
  GgufBytes big;
  big.header(3, 0, 2).kv_u32(long_key, 1).kv_u32(long_key, 2);
  const std::string msg = reject(big.bytes);
  EXPECT_NE(msg.find("('" + std::string(96, 'k') + "...')"), std::string::npos) << msg;
  EXPECT_LT(msg.size(), 200u);
}

TEST(GgufMalformed, Alignment) {
  for (uint32_t a : {0u, 3u, 48u}) {
    GgufBytes b;
    b.header(3, 0, 1).kv_u32("general.alignment", a);
    EXPECT_REJECTED(
        b.bytes, "('general.alignment'): alignment " + std::to_string(a) + " is not a non-zero power of two");
  }
  GgufBytes s;
  s.header(3, 0, 1).kv_str("general.alignment", "64");
  EXPECT_REJECTED(s.bytes, "must be an integer, got string");
  GgufBytes neg;
  neg.header(3, 0, 1).str("general.alignment").u32(5).i32(-32);
  EXPECT_REJECTED(neg.bytes, "alignment -32 is not");
  // A valid 64 moves the data section and requires 64-aligned offsets.
  GgufBytes ok;
  ok.header(3, 1, 1).kv_u32("general.alignment", 64).tensor("t", {4}, 0, 0).pad(64).zeros(16);
  const auto f = GgufFile::parse(ok.data(), ok.size(), "ok.gguf");
  EXPECT_EQ(f.alignment(), 64u);
  EXPECT_EQ(f.data_offset() % 64, 0u);
  GgufBytes off;
  off.header(3, 1, 1).kv_u32("general.alignment", 64).tensor("t", {4}, 0, 32).pad(64).zeros(128);
  EXPECT_REJECTED(off.bytes, "tensor info 0 ('t'): data offset 32 is not a multiple of the alignment 64");
}

TEST(GgufMalformed, TensorInfoChecks) {
  auto one = [](const std::string& name, std::vector<int64_t> ne, uint32_t type, uint64_t offset) {
    GgufBytes b;
    b.header(3, 1, 0).tensor(name, ne, type, offset).pad(32).zeros(256);
    return b.bytes;
  };
  {
    GgufBytes b;
    b.header(3, 1, 0).str("blk.0.attn_q.weight").u32(5);
    for (int i = 0; i < 5; ++i) b.i64(1);
    b.u32(0).u64(0).pad(32).zeros(32);
    EXPECT_REJECTED(b.bytes, "tensor info 0 ('blk.0.attn_q.weight'): n_dims 5 exceeds the maximum of 4");
  }
  EXPECT_REJECTED(one("t", {4}, 4, 0), "tensor info 0 ('t'): unknown tensor type id 4",
                  ErrorKind::Unsupported);
  EXPECT_REJECTED(one("t", {4}, 1000, 0), "unknown tensor type id 1000", ErrorKind::Unsupported);
  EXPECT_REJECTED(one("t", {4, -1}, 0, 0), "dimension 1 is negative (-1)");
  EXPECT_REJECTED(one("t", {1ll << 40, 1ll << 40}, 0, 0), "element count overflows 64 bits");
  EXPECT_REJECTED(one("q", {33, 2}, 8, 0), "ne[0] = 33 is not a multiple of the q8_0 block size 32");
  EXPECT_REJECTED(one("q", {}, 12, 0), "ne[0] = 1 is not a multiple of the q4_K block size 256");
  EXPECT_REJECTED(one("t", {4}, 0, 7), "data offset 7 is not a multiple of the alignment 32");
  EXPECT_REJECTED(one(std::string(64, 'n'), {4}, 0, 0), "tensor name is 64 bytes long; the limit is 63");
  // The element count fits i64 but the bytes do not: 2^61 f64 values.
  EXPECT_REJECTED(one("t", {1ll << 31, 1ll << 30}, 28, 0), "byte size overflows");
  // Zero-size tensors are allowed, as in llama.cpp.
  auto z = one("z", {0, 7}, 0, 0);
  EXPECT_EQ(GgufFile::parse(z.data(), z.size(), "z.gguf").tensors()[0].nbytes, 0u);
}

TEST(GgufMalformed, TensorDataOutOfFile) {
  GgufBytes past;  // offset beyond the data section
  past.header(3, 1, 0).tensor("w", {4}, 0, 1ull << 50).pad(32).zeros(16);
  EXPECT_REJECTED(past.bytes,
                  "tensor info 0 ('w'): data [1125899906842624, +16) runs past the end of the file");
  GgufBytes tail;  // starts inside, ends outside
  tail.header(3, 1, 0).tensor("w", {64}, 0, 0).pad(32).zeros(100);
  EXPECT_REJECTED(tail.bytes,
                  "data [0, +256) runs past the end of the file (the data section holds 100 bytes)");
  GgufBytes nodata;  // the data section itself would start past the end
  nodata.header(3, 1, 0).tensor("w", {0}, 0, 0);
  EXPECT_REJECTED(nodata.bytes, "data section: starts at byte 64, past the end of the file");
}

TEST(GgufMalformed, TruncatedHandMadeFileAtEveryByte) {
  GgufBytes b;
  b.header(3, 2, 3)
      .kv_u32("general.alignment", 32)
      .kv_str("general.architecture", "llama")
      .str("arr")
      .u32(9)
      .u32(8)
      .u64(2)
      .str("ab")
      .str("c")
      .tensor("a", {32, 2}, 8, 0)
      .tensor("b", {3}, 0, 96)
      .pad(32)
      .zeros(96 + 12)
      .pad(32);
  const size_t data_end = b.size() - 32 + 12;  // tensor b ends 12 bytes into the last block
  ASSERT_NO_THROW(GgufFile::parse(b.data(), b.size(), "full.gguf"));
  for (size_t cut = 0; cut < data_end; ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    std::vector<uint8_t> part(b.bytes.begin(), b.bytes.begin() + cut);
    const std::string msg = reject(part);
    EXPECT_TRUE(msg.find("truncated") != std::string::npos || msg.find("exceeds") != std::string::npos ||
                msg.find("past the end") != std::string::npos ||
                msg.find("needs at least") != std::string::npos || msg.find("claims") != std::string::npos)
        << msg;
  }
}

TEST(GgufMalformed, TruncatedRealFileAtManyCuts) {
  XNAI_SKIP_IF_MISSING(path, "llm/tiny-llama-spm-q4_0-pure.gguf");
  std::ifstream in(path, std::ios::binary);
  const std::vector<uint8_t> full((std::istreambuf_iterator<char>(in)), {});
  const auto f = GgufFile::parse(full.data(), full.size(), "full.gguf");
  size_t data_end = 0;
  for (const auto& t : f.tensors())
    data_end = std::max<size_t>(data_end, f.data_offset() + t.offset + t.nbytes);
  // Every byte of the header and the first metadata, then a stride through the rest of
  // the metadata (the 32000-token vocabulary) and the tensor infos, then into the data.
  std::vector<size_t> cuts;
  for (size_t c = 0; c < 4096; ++c) cuts.push_back(c);
  for (size_t c = 4096; c < f.data_offset(); c += 997) cuts.push_back(c);
  for (size_t c = f.data_offset() - 2048; c < f.data_offset(); ++c) cuts.push_back(c);  // tensor infos
  for (size_t c = f.data_offset(); c < data_end; c += 104729) cuts.push_back(c);
  cuts.push_back(data_end - 1);
  for (size_t cut : cuts) {
    // Parse the prefix in a buffer of exactly that size, so ASan catches overreads.
    std::vector<uint8_t> part(full.begin(), full.begin() + cut);
    try {
      GgufFile::parse(part.data(), part.size(), "model.gguf");
      ADD_FAILURE() << "cut at " << cut << " was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).rfind("model.gguf: ", 0), 0u) << e.what();
    }
  }
  EXPECT_GT(cuts.size(), 6000u);
}

TEST(GgufMalformed, TruncationMessageNamesTensor) {
  GgufBytes b;
  b.header(3, 4, 0).tensor("blk.0.attn_k.weight", {4}, 0, 0).tensor("x", {4}, 0, 32).tensor("y", {4}, 0, 64);
  b.tensor("blk.0.attn_q.weight", {4, 4}, 0, 96);
  b.bytes.resize(b.size() - 10);  // inside the offset of tensor info 3
  EXPECT_REJECTED(b.bytes, "bad.gguf: truncated while reading tensor info 3 ('blk.0.attn_q.weight')");
}

TEST(GgufMalformed, OpenNamesPathInContentErrors) {
  const auto dir = std::filesystem::temp_directory_path();
  const auto path = (dir / "xnai_gguf_bad_magic.gguf").string();
  {
    std::ofstream out(path, std::ios::binary);
    out << "GGML this is not gguf at all";
  }
  try {
    GgufFile::open(path);
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(path + ": not a GGUF file", 0), 0u) << e.what();
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace xnai::gguf
