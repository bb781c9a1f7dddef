// Inline fp16/bf16 <-> f32 bit conversions and unaligned little-endian loads/stores,
// shared by the (de)quantizers so their inner loops inline them. Private to frontend/quant.
#pragma once
#include <bit>
#include <cstdint>
#include <cstring>

namespace brickc::quant::detail {

static_assert(std::endian::native == std::endian::little,
              "GGUF blocks are little-endian and are read in place");

inline uint16_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline float load_f32(const uint8_t* p) {
  float v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store_u16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, sizeof v); }
inline void store_u32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, sizeof v); }
inline void store_f32(uint8_t* p, float v) { std::memcpy(p, &v, sizeof v); }

// Exact widening. Branch-free (masks, not ?:) so that loops over f16 rows vectorize at -O2.
// NaN payloads are kept bit for bit (no quieting), as numpy's float16 cast does.
inline float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t em = h & 0x7fffu;  // exponent and mantissa
  // Normal: rebias the exponent from 15 to 127; inf/NaN: rebias once more to reach 0xff.
  const uint32_t special = static_cast<uint32_t>(em >= 0x7c00u);
  const uint32_t normal = (em << 13) + (1u + special) * (112u << 23);
  // Subnormal (and zero): m·2^-24 is exact in f32.
  const uint32_t subnormal = std::bit_cast<uint32_t>(static_cast<float>(em) * 0x1p-24f);
  const uint32_t is_sub = 0u - static_cast<uint32_t>(em < 0x0400u);
  return std::bit_cast<float>(sign | (subnormal & is_sub) | (normal & ~is_sub));
}

// Round to nearest even. Overflow gives inf; NaN gives the canonical quiet NaN 0x7e00 with
// the sign kept (ggml_compute_fp32_to_fp16 does the same).
inline uint16_t float_to_half(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t ax = x & 0x7fffffffu;
  if (ax > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u);
  // 65520 = 65504 + half an ulp: the tie goes to the even neighbour, which is inf.
  if (ax >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);
  if (ax >= 0x38800000u) {  // >= 2^-14: a normal half
    uint32_t v = ax - (112u << 23);
    v += 0x0fffu + ((v >> 13) & 1u);  // round the 13 dropped bits to nearest even
    return static_cast<uint16_t>(sign | (v >> 13));
  }
  // Subnormal half: the result is round(|f|·2^24) (which may carry into 0x0400, the smallest
  // normal). |f|·2^24 is exact; adding 2^23 rounds it to an integer in the FPU's default
  // round-to-nearest-even mode and leaves that integer in the low mantissa bits.
  const float scaled = std::bit_cast<float>(ax) * 0x1p24f + 0x1p23f;
  return static_cast<uint16_t>(sign | (std::bit_cast<uint32_t>(scaled) - 0x4b000000u));
}

inline float bf16_to_float(uint16_t h) {
  return std::bit_cast<float>(static_cast<uint32_t>(h) << 16);
}

// Round to nearest even; NaN keeps its top bits and is forced quiet (ggml's rule).
// Subnormals are rounded like everything else, not flushed.
inline uint16_t float_to_bf16(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);
  return static_cast<uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

}  // namespace brickc::quant::detail
