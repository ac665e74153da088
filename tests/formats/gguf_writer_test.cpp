// GgufWriter: exact byte layout (against hand-assembled bytes), round trips through the
// reader, streamed tensors, crash-safe replacement, and a re-write of real llama.cpp files.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>

#include "core/error.h"
#include "formats/gguf.h"
#include "formats/gguf_bytes.h"
#include "test_support.h"

namespace xnai::gguf {
namespace {

namespace fs = std::filesystem;

std::vector<uint8_t> read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// A fresh directory per test, removed afterwards.
class GgufWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("xnai_gguf_writer_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  size_t files_in_dir() const { return static_cast<size_t>(std::distance(fs::directory_iterator(dir_), {})); }
  fs::path dir_;
};

TEST_F(GgufWriterTest, ExactBytesOfASmallFile) {
  const float data[4] = {1, 2, 3, 4};
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.set_u32("n", 7);
  w.set_ints("ids", {1, -2});
  w.add_tensor("w", DType::F32, {2, 2}, data);
  w.add_tensor("b", DType::F32, {1}, data + 3);
  w.write(path("a.gguf"));

  test::GgufBytes want;
  want.header(3, 2, 3)
      .kv_str("general.architecture", "llama")
      .kv_u32("n", 7)
      .str("ids")
      .u32(9)
      .u32(5)
      .u64(2)
      .i32(1)
      .i32(-2)
      .tensor("w", {2, 2}, 0, 0)
      .tensor("b", {1}, 0, 32)  // 16 bytes of "w" padded to 32
      .pad(32)
      .f32(1)
      .f32(2)
      .f32(3)
      .f32(4)
      .pad(32)
      .f32(4)
      .pad(32);
  EXPECT_EQ(read_all(path("a.gguf")), want.bytes);
}

// One value of every type, including nested and empty arrays and awkward floats.
std::vector<std::pair<std::string, Value>> every_value() {
  const float nan_payload = [] {
    const uint32_t bits = 0x7fa00001;  // a signalling NaN with a payload
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }();
  return {
      {"u8", Value::u8(255)},
      {"i8", Value::i8(-128)},
      {"u16", Value::u16(65535)},
      {"i16", Value::i16(-32768)},
      {"u32", Value::u32(4294967295u)},
      {"i32", Value::i32(std::numeric_limits<int32_t>::min())},
      {"u64", Value::u64(std::numeric_limits<uint64_t>::max())},
      {"i64", Value::i64(std::numeric_limits<int64_t>::min())},
      {"f32", Value::f32(-1.5e-38f)},
      {"f32.nan", Value::f32(nan_payload)},
      {"f64", Value::f64(1.0 / 3.0)},
      {"bool.t", Value::boolean(true)},
      {"bool.f", Value::boolean(false)},
      {"str", Value::string(std::string("nul\0inside \xe6\x9d\xb1\xe4\xba\xac", 17))},
      {"str.empty", Value::string("")},
      {"a.u8", Value::array(ValueType::U8, {Value::u8(0), Value::u8(200)})},
      {"a.i8", Value::array(ValueType::I8, {Value::i8(-1)})},
      {"a.u16", Value::array(ValueType::U16, {Value::u16(1), Value::u16(2)})},
      {"a.i16", Value::array(ValueType::I16, {Value::i16(-3)})},
      {"a.u32", Value::array(ValueType::U32, {Value::u32(5)})},
      {"a.i32", Value::ints({1, -2, 3})},
      {"a.u64", Value::array(ValueType::U64, {Value::u64(1ull << 63)})},
      {"a.i64", Value::array(ValueType::I64, {Value::i64(-(1ll << 62))})},
      {"a.f32", Value::floats({0.5f, -0.0f, INFINITY})},
      {"a.f64", Value::array(ValueType::F64, {Value::f64(-2.25)})},
      {"a.bool", Value::array(ValueType::BOOL, {Value::boolean(true), Value::boolean(false)})},
      {"a.str", Value::strings({"x", "", "long string with spaces"})},
      {"a.empty", Value::array(ValueType::STRING, {})},
      {"a.nested", Value::array(ValueType::ARRAY, {Value::ints({1, 2}), Value::strings({"s"}),
                                                   Value::array(ValueType::ARRAY, {Value::floats({9})}),
                                                   Value::array(ValueType::U8, {})})},
  };
}

TEST_F(GgufWriterTest, RoundTripsEveryValueType) {
  GgufWriter w;
  const auto values = every_value();
  for (const auto& [k, v] : values) w.set(k, v);
  w.write(path("v.gguf"));
  const auto f = GgufFile::open(path("v.gguf"));
  EXPECT_EQ(f.version(), 3u);
  ASSERT_EQ(f.metadata().size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    SCOPED_TRACE(values[i].first);
    EXPECT_EQ(f.metadata()[i].first, values[i].first);  // insertion order kept
    EXPECT_EQ(f.metadata()[i].second, values[i].second);
  }
  EXPECT_EQ(f.get("a.nested").at(2).at(0).at(0).as_float(), 9.0);
  EXPECT_EQ(f.get("str").as_string().size(), 17u);
  // The NaN's exact bits survive.
  const float got = static_cast<float>(f.get("f32.nan").as_float());
  EXPECT_TRUE(std::isnan(got));
  EXPECT_TRUE(f.tensors().empty());
  EXPECT_EQ(f.find("general.alignment"), nullptr);  // default alignment is not written
}

TEST_F(GgufWriterTest, SetReplacesInPlaceAndRemove) {
  GgufWriter w;
  w.set_u32("a", 1);
  w.set_u32("b", 2);
  w.set_string("a", "now a string");
  EXPECT_TRUE(w.remove("b"));
  EXPECT_FALSE(w.remove("b"));
  w.set_bool("c", true);
  w.write(path("r.gguf"));
  const auto f = GgufFile::open(path("r.gguf"));
  ASSERT_EQ(f.metadata().size(), 2u);
  EXPECT_EQ(f.metadata()[0].first, "a");
  EXPECT_EQ(f.metadata()[0].second.as_string(), "now a string");
  EXPECT_EQ(f.metadata()[1].first, "c");
}

// Deterministic bytes for tensor data.
std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 131 + seed);
  return v;
}

class GgufWriterAlignment : public GgufWriterTest, public ::testing::WithParamInterface<uint64_t> {};

TEST_P(GgufWriterAlignment, TensorsOfSeveralTypes) {
  const uint64_t alignment = GetParam();
  struct Spec {
    std::string name;
    DType type;
    std::vector<int64_t> ne;
    size_t nbytes;  // computed by hand from the block tables
  };
  const std::vector<Spec> specs = {
      {"f32.vec", DType::F32, {5}, 20},
      {"f16.mat", DType::F16, {3, 7}, 42},
      {"bf16.3d", DType::BF16, {2, 3, 4}, 48},
      {"q8_0", DType::Q8_0, {64, 3}, 2 * 34 * 3},
      {"q4_0", DType::Q4_0, {32, 1, 1, 2}, 18 * 2},
      {"q4_K", DType::Q4_K, {256, 2}, 144 * 2},
      {"q6_K", DType::Q6_K, {512}, 210 * 2},
      {"i32", DType::I32, {3}, 12},
      {"scalar", DType::F32, {}, 4},
      {"empty", DType::F16, {0, 9}, 0},
  };
  std::vector<std::vector<uint8_t>> datas;
  GgufWriter w;
  w.set_alignment(alignment);
  w.set_string("general.architecture", "test");
  for (size_t i = 0; i < specs.size(); ++i) {
    datas.push_back(pattern(specs[i].nbytes, static_cast<uint8_t>(i)));
    w.add_tensor(specs[i].name, specs[i].type, specs[i].ne, datas.back().data());
  }
  w.write(path("t.gguf"));

  const auto f = GgufFile::open(path("t.gguf"));
  EXPECT_EQ(f.alignment(), alignment);
  if (alignment == 32) {
    EXPECT_EQ(f.find("general.alignment"), nullptr);
  } else {
    EXPECT_EQ(f.get("general.alignment"), Value::u32(static_cast<uint32_t>(alignment)));
  }
  EXPECT_EQ(f.data_offset() % alignment, 0u);
  ASSERT_EQ(f.tensors().size(), specs.size());
  uint64_t expected_offset = 0;
  for (size_t i = 0; i < specs.size(); ++i) {
    const TensorInfo& t = f.tensors()[i];
    SCOPED_TRACE(t.name);
    EXPECT_EQ(t.name, specs[i].name);
    EXPECT_EQ(t.type, specs[i].type);
    EXPECT_EQ(t.ne, specs[i].ne);
    EXPECT_EQ(t.nbytes, specs[i].nbytes);
    EXPECT_EQ(t.offset, expected_offset);  // packed in order, each padded: llama.cpp's layout
    expected_offset += (specs[i].nbytes + alignment - 1) / alignment * alignment;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data) % alignment, 0u);  // the mapping is page-aligned
    EXPECT_EQ(std::vector<uint8_t>(t.data, t.data + t.nbytes), datas[i]);
  }
  EXPECT_EQ(f.file_size(), f.data_offset() + expected_offset);
}

INSTANTIATE_TEST_SUITE_P(Alignments, GgufWriterAlignment, ::testing::Values(32, 64, 4096));

TEST_F(GgufWriterTest, GeneratedTensorsAreFilledInPlace) {
  GgufWriter w;
  int calls = 0;
  w.add_tensor_generated("gen", DType::F32, {8, 1000}, [&](uint8_t* dst, size_t n) {
    ++calls;
    EXPECT_EQ(n, 32000u);
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(dst[i], 0) << "not zeroed at " << i;
    for (size_t i = 0; i < n / 4; ++i) {
      const float x = static_cast<float>(i);
      std::memcpy(dst + 4 * i, &x, 4);
    }
  });
  const float small[2] = {7, 8};
  w.add_tensor("after", DType::F32, {2}, small);
  w.write(path("g.gguf"));
  EXPECT_EQ(calls, 1);
  const auto f = GgufFile::open(path("g.gguf"));
  const auto& g = f.get_tensor("gen");
  for (size_t i = 0; i < 8000; i += 997) {
    float x;
    std::memcpy(&x, g.data + 4 * i, 4);
    EXPECT_EQ(x, static_cast<float>(i));
  }
  float a;
  std::memcpy(&a, f.get_tensor("after").data + 4, 4);
  EXPECT_EQ(a, 8.0f);
}

TEST_F(GgufWriterTest, FailedFillLeavesNoFileAndOldFileIntact) {
  const float one = 1;
  GgufWriter good;
  good.add_tensor("x", DType::F32, {1}, &one);
  good.write(path("m.gguf"));
  const auto before = read_all(path("m.gguf"));

  GgufWriter bad;
  bad.set_u32("k", 1);
  bad.add_tensor_generated("boom", DType::F32, {4}, [](uint8_t*, size_t) {
    throw Error(ErrorKind::Internal, "fill failed on purpose");
  });
  EXPECT_THROW(bad.write(path("m.gguf")), Error);
  EXPECT_EQ(read_all(path("m.gguf")), before);  // the old file is untouched
  EXPECT_EQ(files_in_dir(), 1u);                // and no temporary is left behind
  EXPECT_THROW(bad.write(path("new.gguf")), Error);
  EXPECT_FALSE(fs::exists(path("new.gguf")));
  EXPECT_EQ(files_in_dir(), 1u);
}

TEST_F(GgufWriterTest, ReplacesExistingFileAtomically) {
  GgufWriter w;
  w.set_u32("version", 1);
  w.write(path("m.gguf"));
  w.set_u32("version", 2);
  w.write(path("m.gguf"));
  EXPECT_EQ(GgufFile::open(path("m.gguf")).get_int("version", 0), 2);
  EXPECT_EQ(files_in_dir(), 1u);
}

TEST_F(GgufWriterTest, UnwritableDirectoryNamesPath) {
  GgufWriter w;
  const std::string target = path("no/such/dir/m.gguf");
  try {
    w.write(target);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Io);
    EXPECT_EQ(std::string(e.what()).rfind(target + ": ", 0), 0u) << e.what();
  }
}

TEST_F(GgufWriterTest, RejectsInvalidTensorsAndAlignment) {
  const float d[512] = {};
  GgufWriter w;
  w.add_tensor("a", DType::F32, {4}, d);
  auto expect_error = [](auto&& fn, const std::string& substring) {
    try {
      fn();
      ADD_FAILURE() << "no error for " << substring;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
      EXPECT_NE(std::string(e.what()).find(substring), std::string::npos) << e.what();
    }
  };
  expect_error([&] { w.add_tensor("a", DType::F32, {4}, d); }, "tensor 'a': added twice");
  expect_error([&] { w.add_tensor(std::string(64, 'x'), DType::F32, {4}, d); }, "name longer than 63 bytes");
  expect_error([&] { w.add_tensor("five", DType::F32, {1, 1, 1, 1, 1}, d); }, "5 dims; the limit is 4");
  expect_error([&] { w.add_tensor("neg", DType::F32, {-1}, d); }, "negative dimension -1");
  expect_error([&] { w.add_tensor("q", DType::Q8_0, {48}, d); },
               "ne[0] = 48 is not a multiple of the q8_0 block size 32");
  expect_error([&] { w.add_tensor("null", DType::F32, {4}, nullptr); }, "tensor 'null': no data");
  expect_error([&] { w.add_tensor("bad", static_cast<DType>(4), {4}, d); }, "unknown type id 4");
  expect_error([&] { w.set_alignment(48); }, "alignment 48 is not a power of two");
  expect_error([&] { w.set_alignment(0); }, "alignment 0 is not a power of two");
  expect_error([&] { w.set("general.alignment", Value::u64(64)); }, "must be a u32 power of two, got u64");
  expect_error([&] { w.set("general.alignment", Value::u32(24)); }, "must be a u32 power of two, got u32 24");
  EXPECT_EQ(w.alignment(), 32u);
  w.set("general.alignment", Value::u32(128));  // the key drives the layout too
  EXPECT_EQ(w.alignment(), 128u);
}

// Copies every key and tensor of a real file into a new one, in the same order.
void rewrite(const GgufFile& src, const std::string& out) {
  GgufWriter w;
  for (const auto& [k, v] : src.metadata()) w.set(k, v);
  for (const auto& t : src.tensors()) w.add_tensor(t.name, t.type, t.ne, t.data);
  w.write(out);
}

TEST_F(GgufWriterTest, RewriteOfRealModelsIsIdentical) {
  for (const char* rel :
       {"llm/tiny-qwen3-mixed.gguf", "llm/tiny-llama-spm-q4_k_m.gguf", "vocab/ggml-vocab-gpt-2.gguf"}) {
    SCOPED_TRACE(rel);
    XNAI_SKIP_IF_MISSING(src_path, rel);
    const auto src = GgufFile::open(src_path.string());
    rewrite(src, path("copy.gguf"));
    const auto copy = GgufFile::open(path("copy.gguf"));
    EXPECT_EQ(copy.metadata(), src.metadata());
    ASSERT_EQ(copy.tensors().size(), src.tensors().size());
    for (size_t i = 0; i < src.tensors().size(); ++i) {
      const auto& a = src.tensors()[i];
      const auto& b = copy.tensors()[i];
      EXPECT_EQ(b.name, a.name);
      EXPECT_EQ(b.type, a.type);
      EXPECT_EQ(b.ne, a.ne);
      EXPECT_EQ(b.offset, a.offset);
      ASSERT_EQ(b.nbytes, a.nbytes);
      EXPECT_EQ(std::memcmp(a.data, b.data, a.nbytes), 0) << a.name;
    }
    // Same keys, tensors and layout as gguf-py / llama-quantize wrote: the same bytes.
    EXPECT_TRUE(read_all(src_path) == read_all(path("copy.gguf"))) << "files differ";
  }
}

}  // namespace
}  // namespace xnai::gguf
