// Integer dot products of one quantized weight row with activations quantized to 8 bits per
// block (Q8_0 or Q8_K, llama.cpp's vec_dot types): the inner loop of the CPU's int8 engine.
// One kernel per weight format and instruction set, chosen at run time from cpuid; the
// portable set is plain C++ and is what the SIMD sets are tested against.
#pragma once
#include <cstdint>
#include <string_view>

#include "ir/dtype.h"

namespace brickc::cpu::simd {

// kAvx512: AVX-512 BW, VL and VNNI (with AVX2, whose kernels it keeps for the formats with
// 32-element blocks). kAmx: kAvx512's kernels, and prompt steps on AMX tiles (simd/tiles.h).
enum class Isa { kPortable, kAvx2, kAvx512, kAmx };

std::string_view name(Isa isa);
// The set the int8 engine runs: choose_isa(getenv("BRICKC_SIMD")), once per process.
Isa best_isa();
// `name` (portable, avx2, avx512vnni, amx), which this processor must support, so that one
// machine can measure each set; without one, the widest set this processor and OS support
// (cpuid + XGETBV, through the compiler's __builtin_cpu_supports), kPortable elsewhere.
Isa choose_isa(const char* name);
bool supported(Isa isa);

// A group of tokens' activations quantized to activation_type(weight), interleaved by
// block so that a kernel finds every token of a block at a fixed offset (llama.cpp repacks
// its GEMM operands for the same reason): token t's block b is at q + (b·pitch + t)·size,
// size being the block's bytes. For Q8_0, d[b·pitch + t] is that block's scale as f32 (the
// value of its f16), which the SIMD kernels broadcast straight from memory, and
// sum[b·pitch + t] the sum of its 32 quants, with which a kernel that takes the weights'
// codes unsigned (biased) removes the bias once per block.
struct QActivations {
  const uint8_t* q = nullptr;
  const float* d = nullptr;
  int64_t pitch = 1;
  const int32_t* sum = nullptr;
};

// out[t] = Σ w[i]·x_t[i] over n elements for t < nt (1 <= nt <= kMaxTokens): w a row of
// weight type `weight`, x_t token t's n activations. Each weight block is unpacked once for
// all nt tokens, which is what makes prefill cheaper per token than decode. The integer
// part of each block is exact; the block scales are combined in f32.
constexpr int kMaxTokens = 8;
using DotFn = void (*)(const uint8_t* w, const QActivations& x, int nt, int64_t n, float* out);

// Q8_0 for Q4_0/Q4_1/Q5_0/Q5_1/Q8_0, Q8_K for Q4_K/Q5_K/Q6_K (gguf-qwen2.md §3); F32 for
// formats without an int8 kernel (f16, bf16, f32), which the engine multiplies in f32.
DType activation_type(DType weight);

// The kernel for `weight` on `isa`; nullptr when activation_type(weight) is F32.
DotFn dot_kernel(DType weight, Isa isa);

// The per-isa tables (qdot_portable.cpp, qdot_avx2.cpp, qdot_avx512.cpp).
DotFn portable_kernel(DType weight);
DotFn avx2_kernel(DType weight);
DotFn avx512_kernel(DType weight);

}  // namespace brickc::cpu::simd
