#include "runtime/cpu/simd/qdot.h"

namespace brickc::cpu::simd {

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
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
             __builtin_cpu_supports("f16c");
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
