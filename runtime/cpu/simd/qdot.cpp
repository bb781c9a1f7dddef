#include "runtime/cpu/simd/qdot.h"

#include <algorithm>
#include <cstdlib>

#include "ir/error.h"
#include "runtime/cpu/simd/tiles.h"

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
    case Isa::kAvx512: return "avx512vnni";
    case Isa::kAmx: return "amx";
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
    case Isa::kAvx512:
#if defined(__x86_64__)
      // libgcc's checks include the OS saving the 512-bit state (XGETBV).
      return supported(Isa::kAvx2) && __builtin_cpu_supports("avx512f") &&
             __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
             __builtin_cpu_supports("avx512vnni");
#else
      return false;
#endif
    case Isa::kAmx: return supported(Isa::kAvx512) && amx_usable();
  }
  return false;
}

Isa choose_isa(const char* wanted) {
  const Isa all[] = {Isa::kAmx, Isa::kAvx512, Isa::kAvx2, Isa::kPortable};  // widest first
  if (!wanted || !*wanted) return *std::ranges::find_if(all, supported);
  for (Isa isa : all) {
    if (name(isa) != wanted) continue;
    if (!supported(isa)) fail("BRICKC_SIMD={}: this processor does not support {}", wanted, wanted);
    return isa;
  }
  fail("BRICKC_SIMD={}: expected portable, avx2, avx512vnni or amx", wanted);
}

Isa best_isa() {
  static const Isa isa = choose_isa(std::getenv("BRICKC_SIMD"));
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
  switch (isa) {
    case Isa::kAvx2: return avx2_kernel(weight);
    case Isa::kAvx512:
    case Isa::kAmx: return avx512_kernel(weight);
    case Isa::kPortable: break;
  }
  return portable_kernel(weight);
}

}  // namespace brickc::cpu::simd
