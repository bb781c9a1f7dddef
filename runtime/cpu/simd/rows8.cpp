#include "runtime/cpu/simd/rows8.h"

#include <cstring>
#include <optional>

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
  // its high one: sub-block j is nibble j % 2 of bytes 32·(j / 2) to 32·(j / 2) + 31.
  uint8_t* qs = dst + 160;
  for (int j = 0; j < 8; ++j)
    for (int p = 0; p < 4; ++p, qs += 32)
      for (int r = 0; r < kRows8; ++r) {
        const uint8_t* in = src[r] + 16 + 32 * (j / 2) + 8 * p;
        const int shift = 4 * (j % 2);
        for (int i = 0; i < 4; ++i)
          qs[4 * r + i] =
              static_cast<uint8_t>(((in[i] >> shift) & 0x0f) | ((in[i + 4] >> shift) & 0x0f) << 4);
      }
}

// Q5_0 (GGUF: d, qh[4] with bit c the fifth bit of column c, qs[16] with column c < 16 in
// the low nibble of byte c and column c + 16 in its high nibble).
void repack_q5_0(const uint8_t* const* src, uint8_t* dst) {
  std::memset(dst + 16, 0, 32);
  for (int r = 0; r < kRows8; ++r) {
    std::memcpy(dst + 2 * r, src[r], 2);
    uint32_t qh;
    std::memcpy(&qh, src[r] + 2, 4);
    auto low = [&](int c) { return c < 16 ? src[r][6 + c] & 0x0f : src[r][6 + c - 16] >> 4; };
    for (int c = 0; c < 32; ++c)
      dst[16 + 4 * r + c % 4] |= static_cast<uint8_t>(((qh >> c) & 1) << (c / 4));
    for (int p = 0; p < 4; ++p)
      for (int i = 0; i < 4; ++i)
        dst[48 + 32 * p + 4 * r + i] = static_cast<uint8_t>(low(8 * p + i) | low(8 * p + 4 + i) << 4);
  }
}

// Q8_0 (GGUF: d, qs[32]).
void repack_q8_0(const uint8_t* const* src, uint8_t* dst) {
  for (int r = 0; r < kRows8; ++r) {
    std::memcpy(dst + 2 * r, src[r], 2);
    for (int k = 0; k < 8; ++k) std::memcpy(dst + 16 + 32 * k + 4 * r, src[r] + 2 + 4 * k, 4);
  }
}

// Q6_K (GGUF: ql[128], qh[64], scales[16] i8, d; element 128h + 32m + l, m < 4, has its low
// bits in nibble m / 2 of ql[64h + 32(m % 2) + l] and its top two in bits 2m of qh[32h + l]).
void repack_q6_k(const uint8_t* const* src, uint8_t* dst) {
  for (int r = 0; r < kRows8; ++r) {
    const uint8_t* w = src[r];
    std::memcpy(dst + 2 * r, w + 208, 2);
    for (int j = 0; j < 16; ++j) dst[16 + 8 * j + r] = w[192 + j];
    uint8_t c[256];
    for (int e = 0; e < 256; ++e) {
      const int h = e / 128, m = e % 128 / 32, l = e % 32;
      const int low = w[64 * h + 32 * (m % 2) + l] >> (4 * (m / 2)) & 0x0f;
      c[e] = static_cast<uint8_t>(low | (w[128 + 32 * h + l] >> (2 * m) & 3) << 4);
    }
    for (int u = 0; u < 8; ++u)
      for (int i = 0; i < 4; ++i) {
        for (int p = 0; p < 4; ++p)
          dst[144 + 192 * u + 32 * p + 4 * r + i] =
              static_cast<uint8_t>((c[32 * u + 8 * p + i] & 0x0f) | (c[32 * u + 8 * p + 4 + i] & 0x0f) << 4);
        for (int h = 0; h < 2; ++h) {
          int top = 0;
          for (int k = 0; k < 4; ++k) top |= (c[32 * u + 16 * h + 4 * k + i] >> 4) << (2 * k);
          dst[272 + 192 * u + 32 * h + 4 * r + i] = static_cast<uint8_t>(top);
        }
      }
  }
}

struct Layout {
  int64_t block_cols;
  uint64_t gguf_bytes, bytes;  // of one row's block; of 8 rows' repacked block
  void (*repack)(const uint8_t* const* src, uint8_t* dst);
};

std::optional<Layout> layout(DType weight) {
  switch (weight) {
    case DType::Q4_K: return Layout{256, 144, kQ4KRows8Bytes, repack_q4_k};
    case DType::Q5_0: return Layout{32, 22, 176, repack_q5_0};
    case DType::Q8_0: return Layout{32, 34, 272, repack_q8_0};
    case DType::Q6_K: return Layout{256, 210, kQ6KRows8Bytes, repack_q6_k};
    default: return std::nullopt;
  }
}

}  // namespace

Rows8Fn rows8_kernel(DType weight, Isa isa) {
  switch (isa) {
    case Isa::kAvx2: return avx2_rows8_kernel(weight);
    case Isa::kAvx512:
    case Isa::kAmx: return avx512_rows8_kernel(weight);  // tiles read the layout too (tiles.h)
    default: return nullptr;
  }
}

uint64_t rows8_bytes(DType weight, int64_t rows, int64_t cols) {
  const auto l = layout(weight);
  if (!l || rows % kRows8 != 0 || cols % l->block_cols != 0) return 0;
  return static_cast<uint64_t>(rows / kRows8) * static_cast<uint64_t>(cols / l->block_cols) * l->bytes;
}

void repack_rows8(DType weight, const uint8_t* src, int64_t rows, int64_t cols, uint8_t* dst) {
  if (rows8_bytes(weight, rows, cols) == 0)
    fail("internal: no repacked layout for {} rows of {} x {}", name(weight), rows, cols);
  const Layout l = *layout(weight);
  const int64_t blocks = cols / l.block_cols;
  const uint64_t row_bytes = static_cast<uint64_t>(blocks) * l.gguf_bytes;
  for (int64_t g = 0; g < rows / kRows8; ++g)
    for (int64_t b = 0; b < blocks; ++b, dst += l.bytes) {
      const uint8_t* block[kRows8];
      for (int r = 0; r < kRows8; ++r)
        block[r] = src + static_cast<uint64_t>(g * kRows8 + r) * row_bytes +
                   l.gguf_bytes * static_cast<uint64_t>(b);
      l.repack(block, dst);
    }
}

}  // namespace brickc::cpu::simd
