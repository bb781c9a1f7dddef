// Block → f32 for every dequantizable type. The CPU reference calls this per weight row in
// its decode loop, so each format is one tight loop over whole blocks with no per-element
// branching, which the compiler vectorizes. Every value is computed with the same float
// operations, in the same order, as gguf-py's numpy dequantizers (and ggml's
// dequantize_row_*), so results are bit-identical; the file is built with -ffp-contract=off
// so that no multiply-add is ever fused.
#include <array>
#include <cstring>

#include "frontend/quant/blocks.h"
#include "frontend/quant/half.h"
#include "frontend/quant/quant.h"

namespace brickc::quant {
namespace {

using detail::half_to_float;
using detail::load_f32;
using detail::load_u16;
using detail::load_u32;

// Plain 16-bit types go in fixed chunks of 32 so that -O2's cheap vectorizer, which will not
// add a remainder loop itself, still vectorizes the body.
template <float (*Convert)(uint16_t)>
void dequant_16bit(const uint8_t* __restrict x, float* __restrict y, int64_t n) {
  int64_t i = 0;
  for (; i + 32 <= n; i += 32)
    for (int j = 0; j < 32; ++j) y[i + j] = Convert(load_u16(x + 2 * (i + j)));
  for (; i < n; ++i) y[i] = Convert(load_u16(x + 2 * i));
}

// Q4_0, 18 bytes: d, qs[16]. Element j < 16 is the low nibble of qs[j], j >= 16 the high
// nibble of qs[j-16]; y = d·(q − 8).
void dequant_q4_0(const uint8_t* __restrict x, float* __restrict y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, x += 18, y += 32) {
    const float d = half_to_float(load_u16(x));
    const uint8_t* qs = x + 2;
    for (int j = 0; j < 16; ++j) {
      y[j] = d * static_cast<float>((qs[j] & 0x0f) - 8);
      y[j + 16] = d * static_cast<float>((qs[j] >> 4) - 8);
    }
  }
}

// Q4_1, 20 bytes: d, m, qs[16]; y = d·q + m.
void dequant_q4_1(const uint8_t* __restrict x, float* __restrict y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, x += 20, y += 32) {
    const float d = half_to_float(load_u16(x));
    const float m = half_to_float(load_u16(x + 2));
    const uint8_t* qs = x + 4;
    for (int j = 0; j < 16; ++j) {
      y[j] = d * static_cast<float>(qs[j] & 0x0f) + m;
      y[j + 16] = d * static_cast<float>(qs[j] >> 4) + m;
    }
  }
}

// Bit j of qh, as 16 or 0, for the 32 elements of a Q5_0/Q5_1 block. Masks from a table
// rather than qh >> j: baseline x86-64 has no per-lane variable shift, so that would not
// vectorize.
constexpr auto kBitMask = [] {
  std::array<uint32_t, 32> m{};
  for (int j = 0; j < 32; ++j) m[j] = 1u << j;
  return m;
}();

inline void fifth_bits(uint32_t qh, uint8_t* high) {
  for (int j = 0; j < 32; ++j) high[j] = (qh & kBitMask[j]) != 0 ? 16 : 0;
}

// Q5_0, 22 bytes: d, qh (u32, bit j = 5th bit of element j), qs[16]; y = d·(q − 16).
void dequant_q5_0(const uint8_t* __restrict x, float* __restrict y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, x += 22, y += 32) {
    const float d = half_to_float(load_u16(x));
    uint8_t high[32];
    fifth_bits(load_u32(x + 2), high);
    const uint8_t* qs = x + 6;
    for (int j = 0; j < 16; ++j) {
      const int lo = (qs[j] & 0x0f) | high[j];
      const int hi = (qs[j] >> 4) | high[j + 16];
      y[j] = d * static_cast<float>(lo - 16);
      y[j + 16] = d * static_cast<float>(hi - 16);
    }
  }
}

// Q5_1, 24 bytes: d, m, qh, qs[16]; y = d·q + m.
void dequant_q5_1(const uint8_t* __restrict x, float* __restrict y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, x += 24, y += 32) {
    const float d = half_to_float(load_u16(x));
    const float m = half_to_float(load_u16(x + 2));
    uint8_t high[32];
    fifth_bits(load_u32(x + 4), high);
    const uint8_t* qs = x + 8;
    for (int j = 0; j < 16; ++j) {
      const int lo = (qs[j] & 0x0f) | high[j];
      const int hi = (qs[j] >> 4) | high[j + 16];
      y[j] = d * static_cast<float>(lo) + m;
      y[j + 16] = d * static_cast<float>(hi) + m;
    }
  }
}

// Q8_0, 34 bytes: d, int8 qs[32]; y = q·d.
void dequant_q8_0(const uint8_t* __restrict x, float* __restrict y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, x += 34, y += 32) {
    const float d = half_to_float(load_u16(x));
    const int8_t* qs = reinterpret_cast<const int8_t*>(x + 2);
    for (int j = 0; j < 32; ++j) y[j] = static_cast<float>(qs[j]) * d;
  }
}

// The block's scales and mins times d and dmin.
void scaled_k_scales(const uint8_t* s, float d, float dmin, float* dsc, float* msc) {
  uint8_t sc[8], m[8];
  quant::unpack_k_scales(s, sc, m);
  for (int j = 0; j < 8; ++j) {
    dsc[j] = d * static_cast<float>(sc[j]);
    msc[j] = dmin * static_cast<float>(m[j]);
  }
}

// Q4_K, 144 bytes: d, dmin, scales[12], qs[128]. Each 64-element chunk c uses qs[32c..32c+31]:
// low nibbles for its first 32 elements (sub-block 2c), high nibbles for the next 32.
// y = (d·sc)·q − dmin·m.
void dequant_q4_k(const uint8_t* __restrict x, float* __restrict y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, x += 144, y += 256) {
    float dsc[8], msc[8];
    scaled_k_scales(x + 4, half_to_float(load_u16(x)), half_to_float(load_u16(x + 2)), dsc, msc);
    const uint8_t* qs = x + 16;
    for (int c = 0; c < 4; ++c) {
      const uint8_t* q = qs + 32 * c;
      float* yc = y + 64 * c;
      const float d1 = dsc[2 * c], m1 = msc[2 * c], d2 = dsc[2 * c + 1], m2 = msc[2 * c + 1];
      for (int l = 0; l < 32; ++l) {
        yc[l] = d1 * static_cast<float>(q[l] & 0x0f) - m1;
        yc[l + 32] = d2 * static_cast<float>(q[l] >> 4) - m2;
      }
    }
  }
}

// Q5_K, 176 bytes: d, dmin, scales[12], qh[32], qs[128]. As Q4_K, plus 16 where bit s of
// qh[l] is set (s = sub-block, l = position in it).
void dequant_q5_k(const uint8_t* __restrict x, float* __restrict y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, x += 176, y += 256) {
    float dsc[8], msc[8];
    scaled_k_scales(x + 4, half_to_float(load_u16(x)), half_to_float(load_u16(x + 2)), dsc, msc);
    const uint8_t* qh = x + 16;
    const uint8_t* qs = x + 48;
    for (int c = 0; c < 4; ++c) {
      const uint8_t* q = qs + 32 * c;
      float* yc = y + 64 * c;
      const float d1 = dsc[2 * c], m1 = msc[2 * c], d2 = dsc[2 * c + 1], m2 = msc[2 * c + 1];
      for (int l = 0; l < 32; ++l) {
        const int lo = (q[l] & 0x0f) | (((qh[l] >> (2 * c)) & 1) << 4);
        const int hi = (q[l] >> 4) | (((qh[l] >> (2 * c + 1)) & 1) << 4);
        yc[l] = d1 * static_cast<float>(lo) - m1;
        yc[l + 32] = d2 * static_cast<float>(hi) - m2;
      }
    }
  }
}

// Q6_K, 210 bytes: ql[128], qh[64], int8 scales[16], d. Two halves of 128; in half h,
// group g (32 elements) takes its low 4 bits from ql[64h + l + 32(g&1)] (low nibble for
// g < 2, high for g >= 2) and its high 2 bits from qh[32h + l] >> 2g. y = (d·sc)·(q − 32).
void dequant_q6_k(const uint8_t* __restrict x, float* __restrict y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, x += 210, y += 256) {
    const float d = half_to_float(load_u16(x + 208));
    const int8_t* sc = reinterpret_cast<const int8_t*>(x + 192);
    float dsc[16];
    for (int i = 0; i < 16; ++i) dsc[i] = d * static_cast<float>(sc[i]);
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = x + 64 * h;
      const uint8_t* qh = x + 128 + 32 * h;
      float* yh = y + 128 * h;
      const float* ds = dsc + 8 * h;
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        yh[l] = ds[is] * static_cast<float>(q1);
        yh[l + 32] = ds[is + 2] * static_cast<float>(q2);
        yh[l + 64] = ds[is + 4] * static_cast<float>(q3);
        yh[l + 96] = ds[is + 6] * static_cast<float>(q4);
      }
    }
  }
}

// Q8_K, 292 bytes: f32 d, int8 qs[256], int16 bsums[16] (unused here); y = d·q.
void dequant_q8_k(const uint8_t* __restrict x, float* __restrict y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, x += 292, y += 256) {
    const float d = load_f32(x);
    const int8_t* qs = reinterpret_cast<const int8_t*>(x + 4);
    for (int j = 0; j < 256; ++j) y[j] = d * static_cast<float>(qs[j]);
  }
}

using Dequantizer = void (*)(const uint8_t* x, float* y, int64_t blocks);

void dequant_f32(const uint8_t* __restrict x, float* __restrict y, int64_t n) {
  std::memcpy(y, x, static_cast<size_t>(n) * sizeof(float));
}

Dequantizer dequantizer(DType t) {
  switch (t) {
    case DType::F32: return dequant_f32;
    case DType::F16: return dequant_16bit<half_to_float>;
    case DType::BF16: return dequant_16bit<detail::bf16_to_float>;
    case DType::Q4_0: return dequant_q4_0;
    case DType::Q4_1: return dequant_q4_1;
    case DType::Q5_0: return dequant_q5_0;
    case DType::Q5_1: return dequant_q5_1;
    case DType::Q8_0: return dequant_q8_0;
    case DType::Q4_K: return dequant_q4_k;
    case DType::Q5_K: return dequant_q5_k;
    case DType::Q6_K: return dequant_q6_k;
    case DType::Q8_K: return dequant_q8_k;
    default: return nullptr;
  }
}

}  // namespace

void unpack_k_scales(const uint8_t* s, uint8_t* scales, uint8_t* mins) {
  for (int j = 0; j < 4; ++j) {
    scales[j] = s[j] & 63;
    mins[j] = s[j + 4] & 63;
    scales[j + 4] = static_cast<uint8_t>((s[j + 8] & 0x0f) | ((s[j] >> 6) << 4));
    mins[j + 4] = static_cast<uint8_t>((s[j + 8] >> 4) | ((s[j + 4] >> 6) << 4));
  }
}

void dequantize(DType t, const void* src, float* dst, int64_t n) {
  const Dequantizer fn = dequantizer(t);
  if (!fn) fail("unsupported tensor type {}", name(t));
  fn(static_cast<const uint8_t*>(src), dst, detail::block_count(t, n, "dequantize"));
}

}  // namespace brickc::quant
