#include "runtime/cpu/simd/qdot.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace brickc::cpu::simd {
namespace {

#if defined(__x86_64__)
// F16C is CPUID leaf 1, ECX bit 29; clang's __builtin_cpu_supports has no name for it.
bool has_f16c() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C);
}
#endif

}  // namespace

std::string_view name(Isa isa) {
  switch (isa) {
    case Isa::kPortable: return "portable";
    case Isa::kAvx2: return "avx2";
  }
  return "?";
}

bool supported(Isa isa) {
  switch (isa) {
    case Isa::kPortable: return true;
    case Isa::kAvx2:
#if defined(__x86_64__)
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && has_f16c();
#else
      return false;
#endif
  }
  return false;
}

Isa best_isa() {
  static const Isa isa = supported(Isa::kAvx2) ? Isa::kAvx2 : Isa::kPortable;
  return isa;
}

DType activation_type(DType weight) {
  switch (weight) {
    case DType::Q4_0:
    case DType::Q4_1:
    case DType::Q5_0:
    case DType::Q5_1:
    case DType::Q8_0: return DType::Q8_0;
    case DType::Q4_K:
    case DType::Q5_K:
    case DType::Q6_K: return DType::Q8_K;
    default: return DType::F32;
  }
}

DotFn dot_kernel(DType weight, Isa isa) {
  return isa == Isa::kAvx2 ? avx2_kernel(weight) : portable_kernel(weight);
}

}  // namespace brickc::cpu::simd
