// The embedded store's vector index on its own: SIMD kernels against the scalar reference,
// the label map against std::unordered_map, HNSW recall against exact search (serial and
// parallel builds, filtered searches, after deletions and consolidation), and the index file
// round trip.
#include "rag/store/vector_index.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <map>
#include <set>
#include <unordered_map>

#include "rag/store/label_map.h"
#include "rag/store/vector_index_file.h"
#include "rag/store/vector_kernels.h"

namespace xnai::rag::store {
namespace {

TEST(VectorKernels, AgreeWithScalarOnAwkwardSizes) {
  const auto& fast = vector_kernels();
  const auto& ref = scalar_vector_kernels();
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  for (size_t n : {1u, 2u, 7u, 15u, 16u, 17u, 31u, 33u, 63u, 64u, 65u, 100u, 383u, 384u, 385u, 1000u}) {
    std::vector<float> q(n), rows(7 * (n + 3));
    for (auto& x : q) x = u(rng);
    for (auto& x : rows) x = u(rng);
    // Exact reference in double.
    for (size_t r = 0; r < 7; ++r) {
      double want = 0;
      for (size_t i = 0; i < n; ++i) want += double(q[i]) * rows[r * (n + 3) + i];
      EXPECT_NEAR(fast.dot(q.data(), rows.data() + r * (n + 3), n), want, 1e-4 * std::sqrt(double(n))) << n;
      EXPECT_NEAR(ref.dot(q.data(), rows.data() + r * (n + 3), n), want, 1e-4 * std::sqrt(double(n))) << n;
    }
    std::vector<float> out(7);
    fast.dot_rows(q.data(), rows.data(), 7, n, n + 3, out.data());
    for (size_t r = 0; r < 7; ++r)
      EXPECT_NEAR(out[r], ref.dot(q.data(), rows.data() + r * (n + 3), n), 1e-4 * std::sqrt(double(n)));
  }
}

TEST(LabelMap, MatchesUnorderedMapUnderChurn) {
  LabelMap m;
  std::unordered_map<int64_t, uint32_t> ref;
  std::mt19937_64 rng(2);
  for (int step = 0; step < 200000; ++step) {
    const int64_t key = int64_t(rng() % 5000) - 100;  // negative keys too
    const int action = int(rng() % 3);
    if (action < 2) {
      const uint32_t v = uint32_t(rng() % 1000000);
      m.put(key, v);
      ref[key] = v;
    } else {
      EXPECT_EQ(m.erase(key), ref.erase(key) == 1);
    }
    if (step % 1000 == 0) {
      ASSERT_EQ(m.size(), ref.size());
      for (int64_t k = -100; k < 4900; ++k) {
        auto it = ref.find(k);
        auto got = m.find(k);
        ASSERT_EQ(got.has_value(), it != ref.end()) << k;
        if (got) {
          ASSERT_EQ(*got, it->second);
        }
      }
    }
  }
}

// Clustered data, like real embeddings (which occupy a small part of the sphere); queries
// come from the same clusters (seed picks the points, the centers are fixed).
std::vector<float> clustered(size_t n, int dim, uint32_t seed) {
  std::mt19937 center_rng(12345);
  std::mt19937 rng(seed);
  std::normal_distribution<float> g;
  const size_t n_centers = 50;
  std::vector<float> centers(n_centers * size_t(dim));
  for (auto& x : centers) x = g(center_rng);
  std::vector<float> out(n * size_t(dim));
  for (size_t i = 0; i < n; ++i) {
    const size_t c = rng() % n_centers;
    double ss = 0;
    for (int d = 0; d < dim; ++d) {
      float& x = out[i * size_t(dim) + size_t(d)];
      x = centers[c * size_t(dim) + size_t(d)] + 0.6f * g(rng);
      ss += double(x) * x;
    }
    for (int d = 0; d < dim; ++d) out[i * size_t(dim) + size_t(d)] /= float(std::sqrt(ss));
  }
  return out;
}

double recall_at_10(const VectorIndex& ix, const std::vector<float>& queries, int dim, int ef,
                    const SlotFilter* filter = nullptr) {
  const size_t nq = queries.size() / size_t(dim);
  double sum = 0;
  for (size_t i = 0; i < nq; ++i) {
    const float* q = queries.data() + i * size_t(dim);
    auto exact = ix.search_exact(q, 10, filter);
    auto approx = ix.search_graph(q, 10, ef, filter);
    std::set<uint32_t> want;
    for (auto& s : exact) want.insert(s.slot);
    int found = 0;
    for (auto& s : approx) {
      found += int(want.count(s.slot));
      if (filter) {
        EXPECT_TRUE(filter->accept(s.slot));
      }
      EXPECT_TRUE(ix.is_live(s.slot));
    }
    sum += double(found) / double(std::max<size_t>(1, want.size()));
  }
  return sum / double(nq);
}

class EveryThird : public SlotFilter {
 public:
  explicit EveryThird(const VectorIndex& ix) : ix_(ix) {}
  bool accept(uint32_t slot) const override { return ix_.label(slot) % 3 == 0; }

 private:
  const VectorIndex& ix_;
};

std::unique_ptr<VectorIndex> build(const std::vector<float>& data, int dim, int threads) {
  IndexParams p;
  p.dim = dim;
  p.m = 16;
  p.ef_construction = 100;
  auto ix = std::make_unique<VectorIndex>(p);
  const size_t n = data.size() / size_t(dim);
  std::vector<int64_t> labels(n);
  std::vector<SlotAttrs> attrs(n);
  for (size_t i = 0; i < n; ++i) {
    labels[i] = int64_t(i) + 1;
    attrs[i] = {int64_t(i / 10), int32_t(i % 5), int32_t(i % 5)};
  }
  if (threads == 0) {
    for (size_t i = 0; i < n; ++i) ix->add(labels[i], data.data() + i * size_t(dim), attrs[i]);
  } else {
    ix->add_batch(labels.data(), data.data(), attrs.data(), n, threads);
  }
  return ix;
}

TEST(VectorIndex, GraphRecallSerialAndParallel) {
  const int dim = 64;
  const auto data = clustered(6000, dim, 3);
  const auto queries = clustered(100, dim, 4);
  for (int threads : {0, 4}) {
    SCOPED_TRACE(threads ? "parallel build" : "serial build");
    auto ix = build(data, dim, threads);
    EXPECT_EQ(ix->check_graph(), "");
    EXPECT_EQ(ix->size(), 6000u);
    EXPECT_GE(recall_at_10(*ix, queries, dim, 64), 0.95);
    EveryThird f(*ix);
    EXPECT_GE(recall_at_10(*ix, queries, dim, 64, &f), 0.9);
    // Exact search is exact: the best hit of a stored vector is itself.
    for (uint32_t s = 0; s < 50; ++s) EXPECT_EQ(ix->search_exact(ix->vector(s), 1, nullptr)[0].slot, s);
  }
}

// Uniform high-dimensional vectors (the hardest case for HNSW) built by several threads:
// concurrent reverse-link pruning used to leave ~0.1 % of the nodes unreachable, so the
// graph failed check_graph() and the store rebuilt the index at every open. Every node must
// be reachable, and a stored vector must find itself.
TEST(VectorIndex, ParallelBuildLeavesNoUnreachableNode) {
  const int dim = 48;
  const size_t n = 20000;
  std::mt19937 rng(11);
  std::normal_distribution<float> g(0.f, 1.f);
  std::vector<float> data(n * size_t(dim));
  for (auto& x : data) x = g(rng);
  for (size_t i = 0; i < n; ++i) {  // unit length, as embeddings are
    float ss = 0;
    for (int d = 0; d < dim; ++d) ss += data[i * dim + d] * data[i * dim + d];
    for (int d = 0; d < dim; ++d) data[i * dim + d] /= std::sqrt(ss);
  }
  auto ix = build(data, dim, 2);
  EXPECT_EQ(ix->check_graph(), "");
  int found = 0;
  for (uint32_t s = 0; s < 300; ++s) {
    const auto hits = ix->search_graph(ix->vector(s), 10, 64, nullptr);
    found += !hits.empty() && hits[0].slot == s;
  }
  EXPECT_GE(found, 297);
}

TEST(VectorIndex, DeletionsThenConsolidation) {
  const int dim = 32;
  const auto data = clustered(4000, dim, 5);
  const auto queries = clustered(80, dim, 6);
  auto ix = build(data, dim, 2);
  std::mt19937 rng(7);
  std::set<int64_t> removed;
  while (removed.size() < 2400) {
    const int64_t l = int64_t(rng() % 4000) + 1;
    if (removed.insert(l).second) {
      ASSERT_TRUE(ix->remove(l));
    }
  }
  EXPECT_FALSE(ix->remove(*removed.begin()));
  EXPECT_EQ(ix->size(), 1600u);
  EXPECT_EQ(ix->n_deleted(), 2400u);
  // Tombstones are never returned, before or after consolidation.
  for (int pass = 0; pass < 2; ++pass) {
    SCOPED_TRACE(pass ? "after consolidate" : "tombstones");
    EXPECT_GE(recall_at_10(*ix, queries, dim, 64), 0.93);
    for (size_t i = 0; i < 80; ++i)
      for (auto& s : ix->search_graph(queries.data() + i * dim, 10, 64, nullptr))
        EXPECT_EQ(removed.count(ix->label(s.slot)), 0u);
    EXPECT_EQ(ix->check_graph(), "");
    ix->consolidate();
  }
  EXPECT_EQ(ix->n_deleted(), 0u);
  // Re-adding reuses freed slots instead of growing.
  const uint32_t slots = ix->n_slots();
  for (int64_t l : removed) ix->add(l + 100000, data.data() + size_t(l - 1) * dim, {});
  EXPECT_EQ(ix->n_slots(), slots);
  EXPECT_EQ(ix->check_graph(), "");
  EXPECT_GE(recall_at_10(*ix, queries, dim, 64), 0.95);
}

// Churn as the store sees it (small m, many replace/delete rounds, consolidations): every
// live vector stays reachable from the entry point, so a search for it finds it. Without the
// repairs, nodes whose in-links were pruned or came from deleted nodes got lost.
TEST(VectorIndex, ChurnKeepsEveryLiveNodeFindable) {
  IndexParams p;
  p.dim = 16;
  p.m = 8;  // as the crash test's store
  p.ef_construction = 40;
  VectorIndex ix(p);
  std::mt19937 rng(11);
  std::normal_distribution<float> g;
  std::vector<float> v(16);
  std::map<int64_t, std::vector<float>> live;
  for (int round = 0; round < 30; ++round) {
    for (int i = 0; i < 200; ++i) {
      const int64_t l = int64_t(rng() % 600);
      if (rng() % 10 < 3) {
        if (ix.remove(l)) live.erase(l);
        continue;
      }
      float n2 = 0;
      for (auto& x : v) {
        x = g(rng);
        n2 += x * x;
      }
      for (auto& x : v) x /= std::sqrt(n2);
      ix.add(l, v.data(), {});
      live[l] = v;
    }
    if (round % 3 == 2) ix.consolidate();
  }
  ix.consolidate();
  EXPECT_EQ(ix.count_unreachable(), 0u);
  EXPECT_EQ(ix.check_graph(), "");
  int missed = 0;
  for (const auto& [l, vec] : live) {
    const auto hits = ix.search_graph(vec.data(), 1, 64, nullptr);
    missed += hits.empty() || ix.label(hits[0].slot) != l;
  }
  EXPECT_EQ(missed, 0) << "of " << live.size() << " live vectors";
}

TEST(VectorIndex, ReplacingALabelKeepsOneEntry) {
  IndexParams p;
  p.dim = 4;
  VectorIndex ix(p);
  const float a[4] = {1, 0, 0, 0}, b[4] = {0, 1, 0, 0};
  ix.add(7, a, {});
  ix.add(7, b, {});
  EXPECT_EQ(ix.size(), 1u);
  auto r = ix.search_exact(b, 5, nullptr);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(ix.label(r[0].slot), 7);
  EXPECT_FLOAT_EQ(r[0].score, 1.0f);
}

TEST(VectorIndexFile, RoundTripAndChecks) {
  const int dim = 24;
  const auto data = clustered(1500, dim, 9);
  auto ix = build(data, dim, 2);
  for (int64_t l = 1; l < 300; l += 2) ix->remove(l);  // tombstones are saved too
  const auto path =
      (std::filesystem::path(::testing::TempDir()) / ("xnai_vix_" + std::to_string(::getpid()))).string();
  VectorIndexFile::save(*ix, {"0123456789abcdef0123456789abcdef", 42}, path);
  auto peek = VectorIndexFile::peek(path);
  EXPECT_EQ(peek.problem, "");
  EXPECT_EQ(peek.tag.generation, 42);
  EXPECT_EQ(peek.tag.store_uuid, "0123456789abcdef0123456789abcdef");
  auto loaded = VectorIndexFile::load(path, ix->params());
  ASSERT_TRUE(loaded.index) << loaded.problem;
  EXPECT_EQ(loaded.index->size(), ix->size());
  EXPECT_EQ(loaded.index->n_deleted(), ix->n_deleted());
  EXPECT_EQ(loaded.index->check_graph(), "");
  for (size_t i = 0; i < 30; ++i) {
    const float* q = data.data() + i * 7 * dim;
    auto x = ix->search_graph(q, 10, 40, nullptr), y = loaded.index->search_graph(q, 10, 40, nullptr);
    ASSERT_EQ(x.size(), y.size());
    for (size_t j = 0; j < x.size(); ++j) {
      EXPECT_EQ(x[j].slot, y[j].slot);
      EXPECT_EQ(x[j].score, y[j].score);
    }
  }
  IndexParams other = ix->params();
  other.dim = 32;
  EXPECT_FALSE(VectorIndexFile::load(path, other).index);
  other = ix->params();
  other.m = 8;
  EXPECT_FALSE(VectorIndexFile::load(path, other).index);
  EXPECT_EQ(VectorIndexFile::load(path + ".none", ix->params()).problem, "missing");
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace xnai::rag::store
