// Micro-benchmarks of the CPU quant kernels, per type and SIMD level:
//   vec_dot/<type>/<level>          one dot of 4096 values (weights hot in L1/L2); bytes = weight bytes
//   gemv/<type>/<level>/<N>x<K>     decode matmul (M = 1) on the thread pool, cycling through
//                                   enough weight copies (> 96 MB) that they stream from DRAM;
//                                   bytes/s = weight bytes streamed
//   gemv_hot/...                    the same on one copy (stays in L3): the kernel's own speed
//   gemm/<type>/<level>/<N>x<K>/M   prefill matmul; items/s = multiply-adds·2 (GOP/s)
//   decode_tinyllama/<type>/<level> all matmuls of one TinyLlama-1.1B decode step; items/s = tok/s
// Shapes are TinyLlama-1.1B's: 2048x2048 (attn q/o) and 5632x2048 (ffn gate/up).
// Threads: env N_THREADS (default: physical cores).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "compute/cpu/matmul.h"
#include "compute/cpu/quant.h"
#include "core/dtype.h"
#include "core/thread_pool.h"

namespace {

using xnai::DType;
using xnai::cpu::SimdLevel;

xnai::ThreadPool& pool() {
  static xnai::ThreadPool p(xnai::default_thread_count());
  return p;
}

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

std::vector<uint8_t> quantized(DType t, int64_t rows, int64_t k, uint32_t seed) {
  const auto f = random_floats(static_cast<size_t>(rows * k), seed);
  std::vector<uint8_t> q(xnai::row_size(t, k) * static_cast<size_t>(rows));
  xnai::cpu::quantize_weights(t, f.data(), q.data(), rows, k);
  return q;
}

void bm_vec_dot(benchmark::State& state, DType t, SimdLevel level) {
  const int64_t n = 4096;
  const auto& k = xnai::cpu::kernels(t, level);
  const auto w = quantized(t, 1, n, 1);
  const auto af = random_floats(n, 2);
  std::vector<uint8_t> a(xnai::row_size(k.vec_dot_type, n));
  k.vec_dot_type == DType::F32
      ? (void)std::copy_n(reinterpret_cast<const uint8_t*>(af.data()), a.size(), a.data())
      : xnai::cpu::kernels(k.vec_dot_type, level).from_float(af.data(), a.data(), n);
  float r = 0;
  for (auto _ : state) {
    k.vec_dot(n, &r, w.data(), a.data());
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(w.size()));
}

void bm_matmul(benchmark::State& state, DType t, SimdLevel level, int64_t N, int64_t K, int64_t M, bool hot) {
  xnai::cpu::set_simd_level(level);
  const size_t w_bytes = xnai::row_size(t, K) * static_cast<size_t>(N);
  // Decode streams weights from memory: cycle through copies totalling > 96 MB (> L3);
  // "hot" keeps one copy, which stays in L3, to show the kernel's own speed.
  const size_t copies = M == 1 && !hot ? std::max<size_t>(2, (96u << 20) / w_bytes + 1) : 1;
  const auto one = quantized(t, N, K, 3);
  std::vector<std::vector<uint8_t>> w(copies, one);
  const auto x = random_floats(static_cast<size_t>(K * M), 4);
  std::vector<float> y(static_cast<size_t>(N * M));
  std::vector<uint8_t> scratch;
  size_t i = 0;
  for (auto _ : state) {
    xnai::cpu::matmul(pool(), t, w[i].data(), K, N, x.data(), M, y.data(), scratch);
    benchmark::DoNotOptimize(y.data());
    i = (i + 1) % copies;
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(w_bytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 2 * N * K * M);
  state.counters["threads"] = pool().size();
  xnai::cpu::set_simd_level(xnai::cpu::detected_simd_level());
}

// Decode of TinyLlama-1.1B, matmuls only: per token 22 layers of q, k, v, o (2048→2048,
// 2048→256 ×2, 2048→2048), gate, up (2048→5632), down (5632→2048), then the LM head
// (2048→32000, Q6_K as in llama.cpp's Q4_0 / Q8_0 files). Every layer has its own weights
// (~600 MB for Q4_0), so they stream from memory as in the real model. items/s = tokens/s.
void bm_decode_tinyllama(benchmark::State& state, DType t, SimdLevel level) {
  xnai::cpu::set_simd_level(level);
  struct Mat {
    DType type;
    int64_t N, K;
  };
  std::vector<Mat> mats;
  for (int l = 0; l < 22; ++l)
    for (Mat m : {Mat{t, 2048, 2048}, Mat{t, 256, 2048}, Mat{t, 256, 2048}, Mat{t, 2048, 2048},
                  Mat{t, 5632, 2048}, Mat{t, 5632, 2048}, Mat{t, 2048, 5632}})
      mats.push_back(m);
  mats.push_back({DType::Q6_K, 32000, 2048});
  std::vector<std::vector<uint8_t>> w;
  size_t total = 0;
  for (const Mat& m : mats) {
    static std::vector<std::pair<std::pair<int, std::pair<int64_t, int64_t>>, std::vector<uint8_t>>> proto;
    const auto key = std::make_pair(static_cast<int>(m.type), std::make_pair(m.N, m.K));
    auto it = std::find_if(proto.begin(), proto.end(), [&](const auto& p) { return p.first == key; });
    if (it == proto.end()) {
      proto.emplace_back(key, quantized(m.type, m.N, m.K, 7));
      it = proto.end() - 1;
    }
    w.push_back(it->second);
    total += it->second.size();
  }
  const auto x = random_floats(5632, 8);
  std::vector<float> y(32000);
  std::vector<uint8_t> scratch;
  for (auto _ : state) {
    for (size_t i = 0; i < mats.size(); ++i)
      xnai::cpu::matmul(pool(), mats[i].type, w[i].data(), mats[i].K, mats[i].N, x.data(), 1, y.data(),
                        scratch);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(total));
  xnai::cpu::set_simd_level(xnai::cpu::detected_simd_level());
}

const DType kTypes[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q4_0, DType::Q4_1,
                        DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::Q2_K, DType::Q3_K,
                        DType::Q4_K, DType::Q5_K, DType::Q6_K};

int register_all() {
  std::vector<SimdLevel> levels{SimdLevel::Portable};
  if (xnai::cpu::detected_simd_level() >= SimdLevel::Avx2) levels.push_back(SimdLevel::Avx2);
  if (xnai::cpu::detected_simd_level() >= SimdLevel::Avx512) levels.push_back(SimdLevel::Avx512);
  for (DType t : kTypes)
    for (SimdLevel l : levels)
      benchmark::RegisterBenchmark(
          (std::string("vec_dot/") + xnai::dtype_name(t) + "/" + xnai::cpu::simd_level_name(l)).c_str(),
          [t, l](benchmark::State& s) { bm_vec_dot(s, t, l); });
  const std::pair<int64_t, int64_t> shapes[] = {{2048, 2048}, {5632, 2048}};
  for (DType t : kTypes)
    for (SimdLevel l : levels)
      for (auto [N, K] : shapes) {
        const std::string shape = std::to_string(N) + "x" + std::to_string(K);
        const std::string tl = std::string(xnai::dtype_name(t)) + "/" + xnai::cpu::simd_level_name(l) + "/";
        benchmark::RegisterBenchmark(("gemv/" + tl + shape).c_str(), [t, l, N, K](benchmark::State& s) {
          bm_matmul(s, t, l, N, K, 1, false);
        })->UseRealTime();
        benchmark::RegisterBenchmark(("gemv_hot/" + tl + shape).c_str(), [t, l, N, K](benchmark::State& s) {
          bm_matmul(s, t, l, N, K, 1, true);
        })->UseRealTime();
        if (l == SimdLevel::Portable) continue;  // too slow to be interesting
        for (int64_t M : {128, 512})
          benchmark::RegisterBenchmark(
              ("gemm/" + tl + shape + "/" + std::to_string(M)).c_str(),
              [t, l, N, K, M](benchmark::State& s) { bm_matmul(s, t, l, N, K, M, false); })
              ->UseRealTime()
              ->Unit(benchmark::kMillisecond);
      }
  for (DType t : {DType::Q4_0, DType::Q8_0, DType::Q4_K})
    for (SimdLevel l : levels)
      if (l != SimdLevel::Portable)
        benchmark::RegisterBenchmark(
            (std::string("decode_tinyllama/") + xnai::dtype_name(t) + "/" + xnai::cpu::simd_level_name(l))
                .c_str(),
            [t, l](benchmark::State& s) { bm_decode_tinyllama(s, t, l); })
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
  return 0;
}

const int registered = register_all();

}  // namespace
