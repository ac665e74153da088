// What the CPU (and the OS, via XCR0) lets us run, read once with CPUID. One place for
// run-time dispatch so every kernel family makes the same choice, with any compiler
// (clang 14's __builtin_cpu_supports knows neither "f16c" nor "bmi2").
#pragma once

namespace xnai {

struct CpuFeatures {
  bool avx2 = false, fma = false, f16c = false, bmi2 = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false, avx512vnni = false,
       avx512bf16 = false;
  bool avx_vnni = false;

  // The instruction sets our *_avx2.cpp / *_avx512.cpp files are compiled for.
  bool has_avx2_set() const { return avx2 && fma && f16c && bmi2; }
  bool has_avx512_set() const { return has_avx2_set() && avx512f && avx512bw && avx512vl && avx512dq && avx512vnni; }
};

const CpuFeatures& cpu_features();

}  // namespace xnai
