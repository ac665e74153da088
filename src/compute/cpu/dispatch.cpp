// Run-time choice of the SIMD level and the per-level kernel tables behind kernels().
#include <atomic>
#include <cstdlib>
#include <string>

#include "compute/cpu/kernel_table.h"
#include "compute/cpu/quant.h"
#include "core/cpu_features.h"
#include "core/error.h"

namespace xnai::cpu {
namespace {

SimdLevel detect() {
  const CpuFeatures& f = cpu_features();  // CPUID + XCR0 (the OS saves the wide registers)
  if (f.has_avx512_set()) return SimdLevel::Avx512;
  if (f.has_avx2_set()) return SimdLevel::Avx2;
  return SimdLevel::Portable;
}

SimdLevel clamp_level(SimdLevel level) {
  const SimdLevel best = detected_simd_level();
  return static_cast<int>(level) > static_cast<int>(best) ? best : level;
}

// The starting level: the best the CPU has, or lower when env XNAI_SIMD (portable, avx2,
// avx512) asks for it, e.g. to measure an AVX2 laptop's code path on an AVX-512 machine.
// An unknown value is ignored (a warning would go to a log we do not have here).
SimdLevel initial_level() {
  const char* env = std::getenv("XNAI_SIMD");
  if (!env || !*env) return detected_simd_level();
  const std::string v = env;
  if (v == "portable") return clamp_level(SimdLevel::Portable);
  if (v == "avx2") return clamp_level(SimdLevel::Avx2);
  if (v == "avx512") return clamp_level(SimdLevel::Avx512);
  return detected_simd_level();
}

std::atomic<SimdLevel>& current_level() {
  static std::atomic<SimdLevel> level{initial_level()};
  return level;
}

struct Tables {
  detail::KernelTable level[3];

  Tables() {
    detail::KernelTable& portable = level[0];
    detail::add_float_portable(portable);
    detail::add_legacy_portable(portable);
    detail::add_kquants_portable(portable);
    level[1] = portable;
    level[2] = portable;
    const SimdLevel best = detected_simd_level();
    if (best >= SimdLevel::Avx2) {
      detail::add_avx2(level[1]);
      detail::add_avx2(level[2]);
    }
    if (best >= SimdLevel::Avx512) detail::add_avx512(level[2]);
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

std::string type_label(DType t) {
  if (auto i = dtype_info(static_cast<uint32_t>(t))) return i->name;
  return "type id " + std::to_string(static_cast<uint32_t>(t));
}

}  // namespace

SimdLevel detected_simd_level() {
  static const SimdLevel level = detect();
  return level;
}

void set_simd_level(SimdLevel level) { current_level().store(clamp_level(level), std::memory_order_relaxed); }

SimdLevel simd_level() { return current_level().load(std::memory_order_relaxed); }

const char* simd_level_name(SimdLevel level) {
  switch (level) {
    case SimdLevel::Portable:
      return "portable";
    case SimdLevel::Avx2:
      return "avx2";
    case SimdLevel::Avx512:
      return "avx512";
  }
  return "unknown";
}

const TypeKernels& kernels(DType t, SimdLevel level) {
  const int id = static_cast<int>(t);
  const detail::KernelTable& table = tables().level[static_cast<int>(clamp_level(level))];
  if (id < 0 || id >= detail::kTypeSlots || !table.present[id])
    throw Error(ErrorKind::Unsupported, "no CPU kernels for tensor type " + type_label(t));
  return table.types[id];
}

const TypeKernels& kernels(DType t) { return kernels(t, simd_level()); }

namespace detail {

QuantizeRowFn reference_quantizer(DType t) {
  switch (t) {
    case DType::Q4_0:
      return quantize_row_q4_0_ref;
    case DType::Q4_1:
      return quantize_row_q4_1_ref;
    case DType::Q5_0:
      return quantize_row_q5_0_ref;
    case DType::Q5_1:
      return quantize_row_q5_1_ref;
    case DType::Q8_0:
      return quantize_row_q8_0_ref;
    case DType::Q2_K:
      return quantize_row_q2_K_ref;
    case DType::Q3_K:
      return quantize_row_q3_K_ref;
    case DType::Q4_K:
      return quantize_row_q4_K_ref;
    case DType::Q5_K:
      return quantize_row_q5_K_ref;
    case DType::Q6_K:
      return quantize_row_q6_K_ref;
    case DType::F32:
    case DType::F16:
    case DType::BF16:
      return kernels(t, SimdLevel::Portable).from_float;
    default:
      return nullptr;
  }
}

}  // namespace detail

void quantize_weights(DType t, const float* src, void* dst, int64_t n_rows, int64_t n_per_row) {
  const detail::QuantizeRowFn fn = detail::reference_quantizer(t);
  if (fn == nullptr)
    throw Error(ErrorKind::Unsupported, "no weight quantizer for tensor type " + type_label(t));
  const size_t row_bytes = row_size(t, n_per_row);  // throws InvalidArgument on a partial block
  auto* out = static_cast<uint8_t*>(dst);
  for (int64_t r = 0; r < n_rows; ++r) fn(src + r * n_per_row, out + r * row_bytes, n_per_row);
}

}  // namespace xnai::cpu
