// Our FAISS reader against files written by libfaiss 1.7.3 itself (tests/rag/data/faiss,
// made by make_faiss_fixtures.cpp there): the vectors and ids must equal the raw dumps the
// same program wrote, and an exact search over what we read must return the ids libfaiss's
// own search returned. Also: damaged files and unsupported types fail with clear errors.
#include "rag/store/faiss_index_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"

namespace xnai::rag {
namespace {

namespace fs = std::filesystem;

fs::path fixture(const std::string& name) {
  return fs::path(__FILE__).parent_path() / "data" / "faiss" / name;
}

template <class T>
std::vector<T> load_raw(const std::string& name) {
  std::ifstream f(fixture(name), std::ios::binary);
  std::vector<T> v(fs::file_size(fixture(name)) / sizeof(T));
  f.read(reinterpret_cast<char*>(v.data()), std::streamsize(v.size() * sizeof(T)));
  return v;
}

// Top-5 by the index's metric (inner product: largest; L2: smallest distance), ties by id.
std::vector<int64_t> top5(const FaissIndexData& ix, const float* q) {
  std::vector<std::pair<double, int64_t>> s;
  for (size_t i = 0; i < ix.ids.size(); ++i) {
    double ip = 0, l2 = 0;
    for (int d = 0; d < ix.dim; ++d) {
      const double x = ix.vectors[i * size_t(ix.dim) + size_t(d)];
      ip += x * q[d];
      l2 += (x - q[d]) * (x - q[d]);
    }
    s.emplace_back(ix.metric == FaissMetric::InnerProduct ? -ip : l2, ix.ids[i]);
  }
  std::sort(s.begin(), s.end());
  std::vector<int64_t> out;
  for (int i = 0; i < 5; ++i) out.push_back(s[size_t(i)].second);
  return out;
}

struct Case {
  const char* name;
  const char* type;
  FaissMetric metric;
  bool id_map;
};

TEST(FaissIndexFile, ReadsFilesWrittenByLibfaiss) {
  const auto xb = load_raw<float>("vectors.f32");
  const auto ids = load_raw<int64_t>("ids.i64");
  const auto xq = load_raw<float>("queries.f32");
  ASSERT_EQ(xb.size(), 60u * 16);
  const Case cases[] = {
      {"flat_ip", "IxFI", FaissMetric::InnerProduct, false},
      {"flat_l2", "IxF2", FaissMetric::L2, false},
      {"idmap_flat_ip", "IxMp/IxFI", FaissMetric::InnerProduct, true},
      {"idmap2_flat_l2", "IxM2/IxF2", FaissMetric::L2, true},
      {"hnsw_flat_ip", "IHNf/IxFI", FaissMetric::InnerProduct, false},
      {"idmap2_hnsw_flat_l2", "IxM2/IHNf/IxF2", FaissMetric::L2, true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const FaissIndexData ix = read_faiss_index(fixture(std::string(c.name) + ".faiss").string());
    EXPECT_EQ(ix.type, c.type);
    EXPECT_EQ(ix.dim, 16);
    EXPECT_EQ(ix.metric, c.metric);
    ASSERT_EQ(ix.ids.size(), 60u);
    EXPECT_EQ(ix.vectors, xb);  // bit-exact
    for (size_t i = 0; i < 60; ++i) EXPECT_EQ(ix.ids[i], c.id_map ? ids[i] : int64_t(i));
    // libfaiss's own answers (HNSW with efSearch 64 over 60 vectors is exact here).
    const auto want = load_raw<int64_t>(std::string(c.name) + ".top5.i64");
    for (int q = 0; q < 5; ++q) {
      const std::vector<int64_t> w(want.begin() + q * 5, want.begin() + q * 5 + 5);
      EXPECT_EQ(top5(ix, xq.data() + q * 16), w) << "query " << q;
    }
  }
}

TEST(FaissIndexFile, RefusesOtherTypesAndDamagedFiles) {
  try {
    read_faiss_index(fixture("ivf_flat.faiss").string());
    FAIL() << "IVF is not supported";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Unsupported);
    EXPECT_NE(std::string(e.what()).find("IwFl"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("ivf_flat.faiss"), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_faiss_index(fixture("no_such.faiss").string()), Error);

  // Every truncation of a valid file is a clean InvalidFormat error, never a crash.
  std::ifstream f(fixture("idmap2_hnsw_flat_l2.faiss"), std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const fs::path tmp = fs::path(::testing::TempDir()) / ("xnai_faiss_cut_" + std::to_string(::getpid()));
  for (size_t cut = 0; cut < bytes.size(); cut += cut < 200 ? 1 : 97) {
    std::ofstream(tmp, std::ios::binary).write(bytes.data(), std::streamsize(cut));
    try {
      read_faiss_index(tmp.string());
      ADD_FAILURE() << "cut at " << cut << " was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::InvalidFormat) << "cut at " << cut << ": " << e.what();
    }
  }
  // Trailing garbage and an absurd vector count are refused too.
  std::ofstream(tmp, std::ios::binary).write((bytes + "junk").data(), std::streamsize(bytes.size() + 4));
  EXPECT_THROW(read_faiss_index(tmp.string()), Error);
  std::ifstream g(fixture("flat_ip.faiss"), std::ios::binary);
  std::string huge((std::istreambuf_iterator<char>(g)), std::istreambuf_iterator<char>());
  const uint64_t n = uint64_t(1) << 40;
  std::memcpy(huge.data() + 4 + 33, &n, 8);  // the float count after fourcc + 33-byte header
  std::ofstream(tmp, std::ios::binary).write(huge.data(), std::streamsize(huge.size()));
  try {
    read_faiss_index(tmp.string());
    ADD_FAILURE() << "a count larger than the file was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidFormat);
  }
  fs::remove(tmp);
}

}  // namespace
}  // namespace xnai::rag
