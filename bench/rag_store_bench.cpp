// Benchmarks of the embedded RAG store (src/rag/store): the inner-product kernel, an exact
// scan, our HNSW graph against Debian's hnswlib (given the same SIMD distance, so the graph
// code is what is compared), and the whole store benchmark of src/rag/store_bench.h.
//
//   rag_store_bench                                        # everything at 100k vectors/chunks
//   XNAI_BENCH_N=1000000 rag_store_bench --benchmark_filter=Store   # the store at 1M chunks
//   XNAI_BENCH_N=...  XNAI_BENCH_THREADS=2  XNAI_BENCH_DIR=/tmp/x (scratch dir)  XNAI_BENCH_KEEP=1
//   XNAI_BENCH_LATENT=0   index benchmarks on uniformly random unit vectors (the hard case);
//   XNAI_BENCH_LATENT=64 XNAI_BENCH_NOISE=0.6   a harder embedding-like model
//
// Build and search timings are single runs (Iterations(1)) reported as counters: seconds for
// builds, milliseconds per query (p50/p99 over the query set) and recall@10 against exact.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include <hnswlib/hnswlib.h>
#pragma GCC diagnostic pop

#include <unistd.h>

#include "rag/store/vector_index.h"
#include "rag/store/vector_kernels.h"
#include "rag/store_bench.h"

namespace {

using namespace xnai::rag;
using Clock = std::chrono::steady_clock;

int64_t env_int(const char* name, int64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoll(v) : fallback;
}

int bench_threads() { return int(env_int("XNAI_BENCH_THREADS", 2)); }

// The shared data set: N synthetic 384-d vectors (the store benchmark's model) and queries.
struct Data {
  StoreBenchOptions opts;
  int64_t n = 0;
  std::vector<float> base, queries;
  int nq = 500;
  std::vector<std::vector<uint32_t>> truth;  // exact top-10 rows per query

  static Data& get() {
    static Data d = [] {
      Data x;
      x.n = env_int("XNAI_BENCH_N", 100000);
      x.opts.latent_dim = int(env_int("XNAI_BENCH_LATENT", x.opts.latent_dim));  // 0: uniform random
      if (const char* noise = std::getenv("XNAI_BENCH_NOISE")) x.opts.noise = float(std::atof(noise));
      x.base = synthetic_chunk_vectors(x.opts, x.n);
      x.queries = synthetic_query_vectors(x.opts, x.nq);
      const auto& k = store::vector_kernels();
      std::vector<float> dots(size_t(x.n));
      for (int q = 0; q < x.nq; ++q) {
        k.dot_rows(x.queries.data() + size_t(q) * 384, x.base.data(), size_t(x.n), 384, 384, dots.data());
        std::vector<uint32_t> idx(size_t(x.n));
        for (uint32_t i = 0; i < idx.size(); ++i) idx[i] = i;
        std::partial_sort(idx.begin(), idx.begin() + 10, idx.end(),
                          [&](uint32_t a, uint32_t b) { return dots[a] > dots[b]; });
        x.truth.emplace_back(idx.begin(), idx.begin() + 10);
      }
      return x;
    }();
    return d;
  }
  double recall(int q, const std::vector<uint32_t>& got) const {
    const std::set<uint32_t> want(truth[size_t(q)].begin(), truth[size_t(q)].end());
    int f = 0;
    for (uint32_t r : got) f += int(want.count(r));
    return f / 10.0;
  }
};

void report_latency(benchmark::State& st, std::vector<double> ms, double recall) {
  std::sort(ms.begin(), ms.end());
  st.counters["p50_ms"] = ms[ms.size() / 2];
  st.counters["p99_ms"] = ms[std::min(ms.size() - 1, size_t(double(ms.size()) * 0.99))];
  st.counters["recall@10"] = recall;
}

void BM_Dot384(benchmark::State& st) {
  std::vector<float> a(384, 0.5f), b(384, 0.25f);
  const auto& k = store::vector_kernels();
  for (auto _ : st) benchmark::DoNotOptimize(k.dot(a.data(), b.data(), 384));
  st.SetLabel(k.name);
}
BENCHMARK(BM_Dot384);

void BM_ExactScan(benchmark::State& st) {
  const Data& d = Data::get();
  const auto& k = store::vector_kernels();
  std::vector<float> dots(size_t(d.n));
  int q = 0;
  for (auto _ : st) {
    k.dot_rows(d.queries.data() + size_t(q++ % d.nq) * 384, d.base.data(), size_t(d.n), 384, 384,
               dots.data());
    benchmark::DoNotOptimize(std::max_element(dots.begin(), dots.end()));
  }
  st.counters["vectors"] = double(d.n);
}
BENCHMARK(BM_ExactScan)->Unit(benchmark::kMillisecond);

// --- our HNSW ----------------------------------------------------------------------------

std::unique_ptr<store::VectorIndex>& ours() {
  static std::unique_ptr<store::VectorIndex> ix;
  return ix;
}

double build_ours() {
  const Data& d = Data::get();
  store::IndexParams p;
  p.dim = 384;
  p.m = 16;
  p.ef_construction = 100;
  auto ix = std::make_unique<store::VectorIndex>(p);
  std::vector<int64_t> labels(size_t(d.n));
  std::vector<store::SlotAttrs> attrs(size_t(d.n));
  for (int64_t i = 0; i < d.n; ++i) labels[size_t(i)] = i;
  const auto t0 = Clock::now();
  ix->add_batch(labels.data(), d.base.data(), attrs.data(), size_t(d.n), bench_threads());
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  ours() = std::move(ix);
  return s;
}

void BM_OursBuild(benchmark::State& st) {
  for (auto _ : st) st.counters["build_s"] = build_ours();
  st.counters["memory_MB"] = double(ours()->memory_bytes()) / 1e6;
  st.counters["threads"] = bench_threads();
}
BENCHMARK(BM_OursBuild)->Iterations(1)->Unit(benchmark::kSecond);

void BM_OursSearch(benchmark::State& st) {
  const Data& d = Data::get();
  if (!ours()) build_ours();
  const int ef = int(st.range(0));
  std::vector<double> ms;
  double rec = 0;
  for (auto _ : st) {
    ms.clear();
    rec = 0;
    for (int q = 0; q < d.nq; ++q) {
      const auto t0 = Clock::now();
      auto r = ours()->search_graph(d.queries.data() + size_t(q) * 384, 10, ef, nullptr);
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      std::vector<uint32_t> got;
      for (auto& s : r) got.push_back(uint32_t(ours()->label(s.slot)));
      rec += d.recall(q, got);
    }
  }
  report_latency(st, ms, rec / d.nq);
}
BENCHMARK(BM_OursSearch)->Arg(32)->Arg(64)->Arg(96)->Arg(128)->Iterations(1)->Unit(benchmark::kMillisecond);

// --- hnswlib with the same distance kernel ---------------------------------------------------

class KernelIpSpace : public hnswlib::SpaceInterface<float> {
 public:
  size_t get_data_size() override { return 384 * sizeof(float); }
  hnswlib::DISTFUNC<float> get_dist_func() override { return &dist; }
  void* get_dist_func_param() override { return &dim_; }

 private:
  static float dist(const void* a, const void* b, const void* param) {
    return 1.0f - store::vector_kernels().dot(static_cast<const float*>(a), static_cast<const float*>(b),
                                              *static_cast<const size_t*>(param));
  }
  size_t dim_ = 384;
};

KernelIpSpace& space() {
  static KernelIpSpace s;
  return s;
}
std::unique_ptr<hnswlib::HierarchicalNSW<float>>& theirs() {
  static std::unique_ptr<hnswlib::HierarchicalNSW<float>> ix;
  return ix;
}

double build_theirs() {
  const Data& d = Data::get();
  auto ix = std::make_unique<hnswlib::HierarchicalNSW<float>>(&space(), size_t(d.n), 16, 100);
  const auto t0 = Clock::now();
  ix->addPoint(d.base.data(), 0);
  std::atomic<int64_t> next{1};
  std::vector<std::thread> th;
  for (int t = 0; t < bench_threads(); ++t)
    th.emplace_back([&] {
      for (int64_t i; (i = next++) < d.n;) ix->addPoint(d.base.data() + size_t(i) * 384, size_t(i));
    });
  for (auto& t : th) t.join();
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  theirs() = std::move(ix);
  return s;
}

void BM_HnswlibBuild(benchmark::State& st) {
  for (auto _ : st) st.counters["build_s"] = build_theirs();
  st.counters["threads"] = bench_threads();
}
BENCHMARK(BM_HnswlibBuild)->Iterations(1)->Unit(benchmark::kSecond);

void BM_HnswlibSearch(benchmark::State& st) {
  const Data& d = Data::get();
  if (!theirs()) build_theirs();
  theirs()->setEf(size_t(st.range(0)));
  std::vector<double> ms;
  double rec = 0;
  for (auto _ : st) {
    ms.clear();
    rec = 0;
    for (int q = 0; q < d.nq; ++q) {
      const auto t0 = Clock::now();
      auto r = theirs()->searchKnn(d.queries.data() + size_t(q) * 384, 10);
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      std::vector<uint32_t> got;
      for (; !r.empty(); r.pop()) got.push_back(uint32_t(r.top().second));
      rec += d.recall(q, got);
    }
  }
  report_latency(st, ms, rec / d.nq);
}
BENCHMARK(BM_HnswlibSearch)
    ->Arg(32)
    ->Arg(64)
    ->Arg(96)
    ->Arg(128)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

// --- IVF-Flat (the third candidate): spherical k-means lists, scan the nprobe nearest -----

struct Ivf {
  int nlist = 0;
  std::vector<float> centroids;  // nlist × 384
  std::vector<std::vector<uint32_t>> lists;
  std::vector<std::vector<float>> list_vecs;
};

std::unique_ptr<Ivf>& ivf() {
  static std::unique_ptr<Ivf> ix;
  return ix;
}

// Index of the best of `n` centroids for v.
int nearest_centroid(const Ivf& ix, const float* v, std::vector<float>& dots) {
  store::vector_kernels().dot_rows(v, ix.centroids.data(), size_t(ix.nlist), 384, 384, dots.data());
  return int(std::max_element(dots.begin(), dots.begin() + ix.nlist) - dots.begin());
}

double build_ivf() {
  const Data& d = Data::get();
  const auto t0 = Clock::now();
  auto ix = std::make_unique<Ivf>();
  ix->nlist = std::max(16, int(4 * std::sqrt(double(d.n))));  // FAISS's 4·sqrt(N) guideline
  const int64_t sample = std::min<int64_t>(d.n, int64_t(ix->nlist) * 40);
  ix->centroids.assign(d.base.begin(), d.base.begin() + ptrdiff_t(ix->nlist) * 384);
  std::vector<float> dots(size_t(ix->nlist));
  for (int iter = 0; iter < 8; ++iter) {
    std::vector<double> sum(size_t(ix->nlist) * 384, 0.0);
    for (int64_t i = 0; i < sample; ++i) {
      const float* v = d.base.data() + size_t(i * d.n / sample) * 384;
      const int c = nearest_centroid(*ix, v, dots);
      for (int k = 0; k < 384; ++k) sum[size_t(c) * 384 + size_t(k)] += v[k];
    }
    for (int c = 0; c < ix->nlist; ++c) {
      double ss = 0;
      for (int k = 0; k < 384; ++k) ss += sum[size_t(c) * 384 + size_t(k)] * sum[size_t(c) * 384 + size_t(k)];
      if (ss == 0) continue;  // empty cluster keeps its old centroid
      for (int k = 0; k < 384; ++k)
        ix->centroids[size_t(c) * 384 + size_t(k)] = float(sum[size_t(c) * 384 + size_t(k)] / std::sqrt(ss));
    }
  }
  ix->lists.resize(size_t(ix->nlist));
  ix->list_vecs.resize(size_t(ix->nlist));
  for (int64_t i = 0; i < d.n; ++i) {
    const float* v = d.base.data() + size_t(i) * 384;
    const int c = nearest_centroid(*ix, v, dots);
    ix->lists[size_t(c)].push_back(uint32_t(i));
    ix->list_vecs[size_t(c)].insert(ix->list_vecs[size_t(c)].end(), v, v + 384);
  }
  ivf() = std::move(ix);
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

void BM_IvfBuild(benchmark::State& st) {
  for (auto _ : st) st.counters["build_s"] = build_ivf();
  st.counters["nlist"] = ivf()->nlist;
  st.counters["threads"] = 1;
}
BENCHMARK(BM_IvfBuild)->Iterations(1)->Unit(benchmark::kSecond);

void BM_IvfSearch(benchmark::State& st) {
  const Data& d = Data::get();
  if (!ivf()) build_ivf();
  const Ivf& ix = *ivf();
  const int nprobe = int(st.range(0));
  const auto& k = store::vector_kernels();
  std::vector<double> ms;
  double rec = 0;
  std::vector<float> cd(size_t(ix.nlist)), ld;
  std::vector<int> order(size_t(ix.nlist));
  for (auto _ : st) {
    ms.clear();
    rec = 0;
    for (int q = 0; q < d.nq; ++q) {
      const float* qv = d.queries.data() + size_t(q) * 384;
      const auto t0 = Clock::now();
      k.dot_rows(qv, ix.centroids.data(), size_t(ix.nlist), 384, 384, cd.data());
      for (int i = 0; i < ix.nlist; ++i) order[size_t(i)] = i;
      std::partial_sort(order.begin(), order.begin() + nprobe, order.end(),
                        [&](int a, int b) { return cd[size_t(a)] > cd[size_t(b)]; });
      std::vector<std::pair<float, uint32_t>> best;
      for (int p = 0; p < nprobe; ++p) {
        const auto& ids = ix.lists[size_t(order[size_t(p)])];
        ld.resize(ids.size());
        k.dot_rows(qv, ix.list_vecs[size_t(order[size_t(p)])].data(), ids.size(), 384, 384, ld.data());
        for (size_t i = 0; i < ids.size(); ++i) best.emplace_back(ld[i], ids[i]);
      }
      const size_t top = std::min<size_t>(10, best.size());
      std::partial_sort(best.begin(), best.begin() + ptrdiff_t(top), best.end(), std::greater<>());
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      std::vector<uint32_t> got;
      for (size_t i = 0; i < top; ++i) got.push_back(best[i].second);
      rec += d.recall(q, got);
    }
  }
  report_latency(st, ms, rec / d.nq);
  st.counters["nprobe"] = nprobe;
}
BENCHMARK(BM_IvfSearch)->Arg(8)->Arg(16)->Arg(32)->Arg(64)->Iterations(1)->Unit(benchmark::kMillisecond);

// --- the whole store ------------------------------------------------------------------------

void BM_Store(benchmark::State& st) {
  StoreBenchOptions o;
  o.chunks = env_int("XNAI_BENCH_N", 100000);
  o.store.index_threads = bench_threads();
  const char* dir = std::getenv("XNAI_BENCH_DIR");
  const std::filesystem::path base =
      dir && *dir ? std::filesystem::path(dir) : std::filesystem::temp_directory_path();
  o.data_dir = (base / ("xnai_store_bench_" + std::to_string(::getpid()))).string();
  o.progress = [](const std::string& s) { std::cerr << "  " << s << "\n"; };
  StoreBenchResult r;
  for (auto _ : st) {
    std::filesystem::remove_all(o.data_dir);
    r = run_store_bench(o);
  }
  if (env_int("XNAI_BENCH_KEEP", 0) == 0)
    std::filesystem::remove_all(o.data_dir);
  else
    std::cerr << "  store kept in " << o.data_dir << "\n";
  std::cerr << format_store_bench(r);
  st.counters["chunks"] = double(r.chunks);
  st.counters["add_chunks_per_s"] = r.add_chunks_per_second();
  st.counters["index_build_s"] = r.index_build_seconds;
  st.counters["vector_p50_ms"] = r.vector.p50_ms;
  st.counters["vector_p99_ms"] = r.vector.p99_ms;
  st.counters["bm25_p50_ms"] = r.bm25.p50_ms;
  st.counters["bm25_p99_ms"] = r.bm25.p99_ms;
  st.counters["hybrid_p50_ms"] = r.hybrid.p50_ms;
  st.counters["hybrid_p99_ms"] = r.hybrid.p99_ms;
  st.counters["recall@10"] = r.recall;
  st.counters["index_MB"] = double(r.index_memory_bytes) / 1e6;
}
BENCHMARK(BM_Store)->Iterations(1)->Unit(benchmark::kSecond);

}  // namespace
