// Pieces shared by the dequantizer and the quantizers: the element-count check and the
// k-quant block quantizers (k_quants.cpp). Private to frontend/quant.
#pragma once
#include <bit>
#include <cstdint>
#include <string_view>

#include "ir/dtype.h"
#include "ir/error.h"

namespace brickc::quant::detail {

// n elements of t → number of blocks, or an Error naming the operation and the type.
inline int64_t block_count(DType t, int64_t n, std::string_view op) {
  const auto& ti = info(t);
  if (n < 0 || n % ti.block_elems != 0)
    fail("{} {}: {} elements is not a multiple of the block size {}", op, ti.name, n,
         ti.block_elems);
  return n / ti.block_elems;
}

// Round to nearest, ties to even, for |f| < 2^22: adding 1.5·2^23 leaves the rounded integer
// in the low mantissa bits. llama.cpp's k-quant reference quantizers round this way (not
// with roundf), so using the same trick gives the same bytes, also out of range.
inline int nearest_int(float f) {
  const float biased = f + 12582912.0f;
  return static_cast<int>(std::bit_cast<uint32_t>(biased) & 0x007fffffu) - 0x00400000;
}

// nb blocks of 256 values at x → nb blocks at y (k_quants.cpp).
void quantize_q4_k(const float* x, uint8_t* y, int64_t nb);
void quantize_q5_k(const float* x, uint8_t* y, int64_t nb);
void quantize_q6_k(const float* x, uint8_t* y, int64_t nb);
void quantize_q8_k(const float* x, uint8_t* y, int64_t nb);

}  // namespace brickc::quant::detail
