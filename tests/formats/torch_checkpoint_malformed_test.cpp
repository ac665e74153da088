// Bad checkpoints must be rejected with an Error that names the file and the problem,
// never crash: truncations of the real test file, garbage, and hand-made bad pickles.
#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "core/error.h"
#include "formats/torch_bytes.h"
#include "formats/torch_checkpoint.h"
#include "test_support.h"

namespace xnai::torch {
namespace {

std::string error_of(const std::string& bytes, const std::string& name = "bad.pth") {
  try {
    Checkpoint::parse(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), name);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string one_tensor_zip(const std::string& pickle, size_t storage_floats = 4) {
  return test::build_zip({{"archive/data.pkl", pickle},
                          {"archive/data/0", test::f32_bytes(std::vector<float>(storage_floats, 1.f))}},
                         false);
}

TEST(TorchCheckpointMalformed, NotAZipNamesTheFile) {
  const std::string e = error_of("this is not a zip file at all, just text", "notes.txt");
  EXPECT_NE(e.find("notes.txt"), std::string::npos) << e;
  EXPECT_NE(e.find("not a zip"), std::string::npos) << e;
}

TEST(TorchCheckpointMalformed, MissingDataPkl) {
  const std::string e = error_of(test::build_zip({{"archive/version", "3\n"}}, false));
  EXPECT_NE(e.find("missing archive/data.pkl"), std::string::npos) << e;
}

TEST(TorchCheckpointMalformed, UnsupportedOpcode) {
  const std::string e = error_of(one_tensor_zip(std::string("\x80\x02\xff.", 4)));
  EXPECT_NE(e.find("unsupported pickle opcode 255"), std::string::npos) << e;
}

TEST(TorchCheckpointMalformed, UnknownGlobalIsRefusedBeforeUse) {
  test::Pickler p;
  p.global("os", "system").str("echo hi").op('\x85').op('R');
  const std::string e = error_of(one_tensor_zip(p.done()));
  EXPECT_NE(e.find("unknown global os.system"), std::string::npos) << e;
}

TEST(TorchCheckpointMalformed, StorageOutOfRange) {
  {  // the record claims more elements than the member holds
    test::Pickler p;
    p.tensor("FloatStorage", "0", 100, 0, {100}, {1});
    const std::string e = error_of(one_tensor_zip(p.done()));
    EXPECT_NE(e.find("storage 0 out of range"), std::string::npos) << e;
  }
  {  // the view reaches past the storage
    test::Pickler p;
    p.tensor("FloatStorage", "0", 4, 2, {2, 2}, {2, 1});
    const std::string e = error_of(one_tensor_zip(p.done()));
    EXPECT_NE(e.find("storage out of range"), std::string::npos) << e;
  }
  {  // the storage member is absent
    test::Pickler p;
    p.tensor("FloatStorage", "7", 4, 0, {4}, {1});
    const std::string e = error_of(one_tensor_zip(p.done()));
    EXPECT_NE(e.find("data/7"), std::string::npos) << e;
  }
}

TEST(TorchCheckpointMalformed, TruncatedPickle) {
  test::Pickler p;
  p.tensor("FloatStorage", "0", 4, 0, {4}, {1});
  const std::string full = p.done();
  for (size_t cut = 0; cut < full.size(); ++cut) {
    const std::string e = error_of(one_tensor_zip(full.substr(0, cut)));
    EXPECT_NE(e.find("bad.pth"), std::string::npos) << "cut " << cut << ": " << e;
  }
}

TEST(TorchCheckpointMalformed, TruncatedRealFileAtManyCutPoints) {
  XNAI_SKIP_IF_MISSING(pt, "kokoro/voice-testdata.pt");
  std::ifstream f(pt, std::ios::binary);
  const std::string full((std::istreambuf_iterator<char>(f)), {});
  ASSERT_TRUE(error_of(full).empty());
  for (size_t cut = 0; cut < full.size(); cut += 997) {
    const std::string e = error_of(full.substr(0, cut), "voice.pt");
    EXPECT_NE(e.find("voice.pt"), std::string::npos) << "cut " << cut << ": " << e;
  }
  for (size_t keep = 1; keep < 400; keep += 7) {  // cuts inside the central directory and EOCD
    const std::string e = error_of(full.substr(0, full.size() - keep), "voice.pt");
    EXPECT_NE(e.find("voice.pt"), std::string::npos) << "keep " << keep << ": " << e;
  }
}

TEST(TorchCheckpointMalformed, GarbageAndFlippedBytesNeverCrash) {
  XNAI_SKIP_IF_MISSING(pt, "kokoro/voice-testdata.pt");
  std::ifstream f(pt, std::ios::binary);
  const std::string full((std::istreambuf_iterator<char>(f)), {});
  std::mt19937 rng(5);
  for (int i = 0; i < 200; ++i) {
    std::string g(rng() % 600, '\0');
    for (auto& c : g) c = static_cast<char>(rng());
    error_of(g);  // must return (with or without an error), never crash
  }
  // Flip bytes in the pickle and directory regions (the storage bytes are just floats).
  const size_t pkl_at = full.find("data.pkl");
  for (int i = 0; i < 300; ++i) {
    std::string m = full;
    const size_t at = i % 2 ? pkl_at + rng() % 400 : m.size() - 1 - rng() % 300;
    if (at >= m.size()) continue;
    m[at] = static_cast<char>(rng());
    error_of(m);
  }
}

}  // namespace
}  // namespace xnai::torch

namespace xnai::torch {
namespace {

// A dict that contains itself, and a chain of dicts each holding the previous one twice:
// both would make a naive walk run forever (or 2^64 steps).
TEST(TorchCheckpointMalformed, SelfReferentialAndExponentialDictsAreRefused) {
  {
    test::Pickler p;
    p.op('}').op('q').raw(std::string(1, '\0')).str("a").op('h').raw(std::string(1, '\0')).op('s');
    const std::string e = error_of(one_tensor_zip(p.done()));
    EXPECT_NE(e.find("bad.pth"), std::string::npos) << e;
  }
  {
    test::Pickler p;
    p.op('}')
        .str("w")
        .tensor("FloatStorage", "0", 4, 0, {4}, {1})
        .op('s')
        .op('q')
        .raw(std::string(1, '\0'))
        .op('0');
    for (int i = 1; i < 60; ++i) {
      p.op('}')
          .op('(')
          .str("a")
          .op('h')
          .raw(std::string(1, char(i - 1)))
          .str("b")
          .op('h')
          .raw(std::string(1, char(i - 1)));
      p.op('u').op('q').raw(std::string(1, char(i)));
      if (i < 59) p.op('0');  // keep only the outermost dict on the stack
    }
    const std::string e = error_of(one_tensor_zip(p.done()));
    EXPECT_NE(e.find("reuses dicts"), std::string::npos) << e;
  }
}

}  // namespace
}  // namespace xnai::torch
