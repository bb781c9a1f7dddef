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

}  // namespace brickc::cpu::simd
