#include "runtime/cpu/simd/rows8.h"

#include <cstring>

#include "frontend/quant/quant.h"
#include "ir/error.h"

namespace brickc::cpu::simd {
namespace {

// One group of 8 Q4_K blocks (src[r]: row r's block) into the layout of rows8.h.
void repack_q4_k(const uint8_t* const* src, uint8_t* dst) {
  for (int r = 0; r < kRows8; ++r) {
    std::memcpy(dst + 2 * r, src[r], 2);
    std::memcpy(dst + 16 + 2 * r, src[r] + 2, 2);
    uint8_t sc[8], m[8];
    quant::unpack_k_scales(src[r] + 4, sc, m);
    for (int j = 0; j < 8; ++j) {
      dst[32 + 8 * j + r] = sc[j];
      dst[96 + 8 * j + r] = m[j];
    }
  }
  // GGUF: byte 32c + l of qs holds column 64c + l in its low nibble and 64c + 32 + l in
  // its high one, so sub-block j is nibble j % 2 of bytes 32·(j / 2) ...
  uint8_t* qs = dst + 160;
  for (int j = 0; j < 8; ++j)
    for (int p = 0; p < 4; ++p, qs += 32)
      for (int r = 0; r < kRows8; ++r) {
        const uint8_t* in = src[r] + 16 + 32 * (j / 2) + 8 * p;
        const int shift = 4 * (j % 2);
        for (int i = 0; i < 4; ++i)
          qs[4 * r + i] = static_cast<uint8_t>(((in[i] >> shift) & 0x0f) | ((in[i + 4] >> shift) & 0x0f) << 4);
      }
}

}  // namespace

Rows8Fn rows8_kernel(DType weight, Isa isa) {
  // AVX-512 keeps its own GGUF-row kernels until a repacked one is measured against them.
  return isa == Isa::kAvx2 ? avx2_rows8_kernel(weight) : nullptr;
}

uint64_t rows8_bytes(DType weight, int64_t rows, int64_t cols) {
  if (weight != DType::Q4_K || rows % kRows8 != 0 || cols % 256 != 0) return 0;
  return static_cast<uint64_t>(rows / kRows8) * static_cast<uint64_t>(cols / 256) * kQ4KRows8Bytes;
}

void repack_rows8(DType weight, const uint8_t* src, int64_t rows, int64_t cols, uint8_t* dst) {
  if (rows8_bytes(weight, rows, cols) == 0)
    fail("internal: no repacked layout for {} rows of {} x {}", name(weight), rows, cols);
  const int64_t blocks = cols / 256;
  const uint64_t row_bytes = static_cast<uint64_t>(blocks) * 144;
  for (int64_t g = 0; g < rows / kRows8; ++g)
    for (int64_t b = 0; b < blocks; ++b, dst += kQ4KRows8Bytes) {
      const uint8_t* block[kRows8];
      for (int r = 0; r < kRows8; ++r)
        block[r] = src + static_cast<uint64_t>(g * kRows8 + r) * row_bytes + 144 * static_cast<uint64_t>(b);
      repack_q4_k(block, dst);
    }
}

}  // namespace brickc::cpu::simd
