// Activations rounded to Q8_0 or Q8_K blocks, the first step of every int8 product, four
// values at a time (GCC vector extensions: SSE2 on any x86-64). A decode step rounds each
// product's input on one thread while the others wait, so quant::quantize's scalar loops
// were a serial part of every step (the 0.5B: 24 x 18 us on this project's dev VM).
// The bytes are exactly quant::quantize's (llama.cpp's reference rounding).
#pragma once
#include <cstdint>

#include "ir/dtype.h"

namespace brickc::cpu::simd {

// n values of x (a multiple of the block) as Q8_0 or Q8_K blocks at y.
void quantize_q8(DType type, const float* x, uint8_t* y, int64_t n);

// The sum of 32 quants (a Q8_0 block's, or a Q8_K block's 32-value group): kernels that
// take one operand unsigned correct their sums with it.
inline int32_t sum32(const int8_t* q) {
  int32_t s = 0;
  for (int i = 0; i < 32; ++i) s += q[i];
  return s;
}

}  // namespace brickc::cpu::simd
