// The PyTorch checkpoint reader on the Kokoro conformance files (written by torch 1.13) and
// on hand-made archives covering dtypes, shared storages, offsets, strides and deflate.
#include "formats/torch_checkpoint.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/error.h"
#include "formats/torch_bytes.h"
#include "test_support.h"

namespace xnai::torch {
namespace {

std::vector<float> read_f32(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::vector<char> b((std::istreambuf_iterator<char>(f)), {});
  std::vector<float> v(b.size() / 4);
  std::memcpy(v.data(), b.data(), v.size() * 4);
  return v;
}

std::string shape_str(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

TEST(TorchCheckpoint, KokoroTestdataHasEveryExpectedKey) {
  XNAI_SKIP_IF_MISSING(pth, "kokoro/kokoro-testdata.pth");
  XNAI_SKIP_IF_MISSING(tsv, "kokoro/kokoro-82m-v1.0-expected-keys.tsv");
  auto ck = Checkpoint::open(pth.string());
  EXPECT_EQ(ck->tensors().size(), 549u);
  std::ifstream f(tsv);
  std::string line;
  size_t n = 0;
  while (std::getline(f, line)) {
    std::istringstream ls(line);
    std::string module, key, shape;
    std::getline(ls, module, '\t');
    std::getline(ls, key, '\t');
    std::getline(ls, shape, '\t');
    const TensorView* t = ck->find(module + "." + key);
    ASSERT_NE(t, nullptr) << module << "." << key;
    // Shrunk model: same rank as the real one; the style and vocab axes are unchanged.
    EXPECT_EQ(std::count(shape.begin(), shape.end(), ',') + 1, static_cast<long>(t->shape.size())) << key;
    ++n;
  }
  EXPECT_EQ(n, 549u);
  const TensorView* emb = ck->find("bert.module.embeddings.word_embeddings.weight");
  ASSERT_NE(emb, nullptr);
  EXPECT_EQ(shape_str(emb->shape), "[178, 128]");
  EXPECT_EQ(emb->dtype, ScalarType::F32);
  EXPECT_TRUE(emb->is_contiguous());
  const TensorView* g = ck->find("decoder.module.generator.ups.0.weight_g");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(shape_str(g->shape), "[32, 1, 1]");
  const TensorView* pos = ck->find("bert.module.embeddings.position_ids");
  ASSERT_NE(pos, nullptr);
  EXPECT_EQ(pos->dtype, ScalarType::I64);
  auto ids = pos->to_int64();
  ASSERT_EQ(ids.size(), 512u);
  for (int64_t i = 0; i < 512; ++i) ASSERT_EQ(ids[i], i);
  // No AdaIN affine norm parameters, like the real file.
  for (const auto& [k, t] : ck->tensors()) EXPECT_EQ(k.find(".norm.weight"), std::string::npos) << k;
}

TEST(TorchCheckpoint, VoicePackIsOneStridedTensorMatchingTheReferenceRow) {
  XNAI_SKIP_IF_MISSING(pt, "kokoro/voice-testdata.pt");
  XNAI_SKIP_IF_MISSING(ref, "kokoro/case1_ref_s.bin");
  auto ck = Checkpoint::open(pt.string());
  ASSERT_EQ(ck->tensors().size(), 1u);
  const TensorView* v = ck->find("");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(shape_str(v->shape), "[510, 1, 256]");
  EXPECT_EQ(shape_str(v->strides), "[256, 256, 1]");
  auto all = v->to_float();
  auto row = read_f32(ref);
  ASSERT_EQ(row.size(), 256u);
  const size_t r = 12;  // case1: 13 phoneme characters -> row 12
  for (size_t i = 0; i < 256; ++i) ASSERT_EQ(all[r * 256 + i], row[i]) << i;
}

TEST(TorchCheckpoint, DtypesSharedStorageOffsetsStridesAndDeflate) {
  std::vector<float> s0 = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  std::string half("\x00\x3c\x00\x40\x00\xc2", 6);        // 1, 2, -3 (fp16)
  std::string bf16 = std::string("\x80\x3f\x00\x40", 4);  // 1, 2 (bf16)
  std::string longs(16, '\0');
  longs[0] = 7;
  longs[8] = static_cast<char>(0xff);
  for (int i = 9; i < 16; ++i) longs[i] = static_cast<char>(0xff);  // 7, -1
  test::Pickler p;
  p.op('}').op('(');
  p.str("a").tensor("FloatStorage", "0", 12, 0, {3, 4}, {4, 1});
  p.str("t").tensor("FloatStorage", "0", 12, 1, {2, 3}, {1, 4});  // transposed view, offset 1
  p.str("n").global("collections", "OrderedDict").op(')').op('R').op('(');
  p.str("h").tensor("HalfStorage", "1", 3, 0, {3}, {1});
  p.str("b").tensor("BFloat16Storage", "2", 2, 0, {2}, {1});
  p.str("l").tensor("LongStorage", "3", 2, 0, {2}, {1});
  p.op('u').op('}').str("_metadata").global("collections", "OrderedDict").op(')').op('R').op('s').op('b');
  p.op('u');
  for (bool deflate : {false, true}) {
    std::string zip = test::build_zip({{"archive/data.pkl", p.done()},
                                       {"archive/data/0", test::f32_bytes(s0)},
                                       {"archive/data/1", half},
                                       {"archive/data/2", bf16},
                                       {"archive/data/3", longs},
                                       {"archive/version", "3\n"}},
                                      deflate);
    auto ck = Checkpoint::parse(reinterpret_cast<const uint8_t*>(zip.data()), zip.size(), "mem.pth");
    ASSERT_EQ(ck->tensors().size(), 5u);
    EXPECT_EQ(ck->find("a")->to_float(), s0);
    const TensorView* t = ck->find("t");
    EXPECT_FALSE(t->is_contiguous());
    EXPECT_EQ(t->storage_key, ck->find("a")->storage_key);
    EXPECT_EQ(t->to_float(), (std::vector<float>{1, 5, 9, 2, 6, 10}));
    EXPECT_EQ(ck->find("n.h")->to_float(), (std::vector<float>{1, 2, -3}));
    EXPECT_EQ(ck->find("n.b")->to_float(), (std::vector<float>{1, 2}));
    EXPECT_EQ(ck->find("n.l")->to_int64(), (std::vector<int64_t>{7, -1}));
    EXPECT_EQ(ck->find("n.l")->dtype, ScalarType::I64);
  }
}

// A loader hands back the file pages of what it copied out; the views must still read the
// same values afterwards (the pages come back from the file).
TEST(TorchCheckpoint, ReleasedPagesReadTheSameValues) {
  std::vector<float> big(3 * 4096 + 5);  // spans whole pages whatever the member's offset
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<float>(i) * 0.5f - 7.f;
  test::Pickler p;
  p.op('}').op('(');
  p.str("w").tensor("FloatStorage", "0", static_cast<uint32_t>(big.size()), 0,
                    {static_cast<uint32_t>(big.size())}, {1});
  p.op('u');
  const std::string zip = test::build_zip(
      {{"archive/data.pkl", p.done()}, {"archive/data/0", test::f32_bytes(big)}, {"archive/version", "3\n"}},
      false);
  const auto path =
      std::filesystem::temp_directory_path() / ("xnai_release_pages_" + std::to_string(::getpid()) + ".pth");
  std::ofstream(path, std::ios::binary).write(zip.data(), static_cast<std::streamsize>(zip.size()));
  {
    auto ck = Checkpoint::open(path.string());
    const TensorView* t = ck->find("w");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->to_float(), big);
    ck->release_pages(*t);
    EXPECT_EQ(t->to_float(), big);
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace xnai::torch
