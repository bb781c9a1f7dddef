// f32 → GGUF types with llama.cpp's reference quantizers (quantize_row_*_ref in
// ggml-quants.c): the 32-element formats here, the k-quants in k_quants.cpp. The float
// operations and their order follow the reference, so the bytes are the same as llama.cpp's
// and gguf-py's; the file is built with -ffp-contract=off so no multiply-add is fused.
// Differences only for non-finite or absurdly scaled input, where the reference converts
// out-of-range floats to integers (undefined in C and C++); here those saturate.
#include <cmath>
#include <cstring>
#include <limits>

#include "frontend/quant/blocks.h"
#include "frontend/quant/half.h"
#include "frontend/quant/quant.h"

namespace brickc::quant {
namespace {

using detail::float_to_half;
using detail::store_u16;
using detail::store_u32;

// The reference's `MIN(hi, (int8_t)v)`: truncation toward zero, for v > -1 (always the case
// for finite input, where v >= 0.5 - rounding).
inline int trunc_clamped(float v, int hi) {
  if (!(v > 0.0f)) return 0;
  if (v >= static_cast<float>(hi)) return hi;
  return static_cast<int>(v);
}

// roundf, then int8. |v| <= 127 for finite input; saturating keeps NaN/inf input defined.
inline int8_t round_to_i8(float v) {
  const float r = std::round(v);
  if (std::isnan(r)) return 0;
  return static_cast<int8_t>(r < -128.0f ? -128.0f : r > 127.0f ? 127.0f : r);
}

// The signed value of largest magnitude (the first one on ties), as Q4_0/Q5_0 scale by it.
inline float signed_absmax(const float* x) {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < 32; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

inline void min_max(const float* x, float& min, float& max) {
  min = std::numeric_limits<float>::max();
  max = -std::numeric_limits<float>::max();
  for (int j = 0; j < 32; ++j) {
    if (x[j] < min) min = x[j];
    if (x[j] > max) max = x[j];
  }
}

// Q4_0: d = max/−8 so that the largest-magnitude value maps to level 0 exactly;
// q = trunc(x/d + 8.5) clamped to 15.
void quantize_q4_0(const float* x, uint8_t* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, x += 32, y += 18) {
    const float d = signed_absmax(x) / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    store_u16(y, float_to_half(d));
    for (int j = 0; j < 16; ++j) {
      const int lo = trunc_clamped(x[j] * id + 8.5f, 15);
      const int hi = trunc_clamped(x[j + 16] * id + 8.5f, 15);
      y[2 + j] = static_cast<uint8_t>(lo | (hi << 4));
    }
  }
}

// Q4_1: d = (max − min)/15, m = min; q = trunc((x − min)/d + 0.5).
void quantize_q4_1(const float* x, uint8_t* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, x += 32, y += 20) {
    float min, max;
    min_max(x, min, max);
    const float d = (max - min) / 15.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    store_u16(y, float_to_half(d));
    store_u16(y + 2, float_to_half(min));
    for (int j = 0; j < 16; ++j) {
      const int lo = trunc_clamped((x[j] - min) * id + 0.5f, 15);
      const int hi = trunc_clamped((x[j + 16] - min) * id + 0.5f, 15);
      y[4 + j] = static_cast<uint8_t>(lo | (hi << 4));
    }
  }
}

// Q5_0: as Q4_0 with d = max/−16 and 32 levels; the 5th bits go to qh.
void quantize_q5_0(const float* x, uint8_t* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, x += 32, y += 22) {
    const float d = signed_absmax(x) / -16.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    store_u16(y, float_to_half(d));
    uint32_t qh = 0;
    for (int j = 0; j < 16; ++j) {
      const int lo = trunc_clamped(x[j] * id + 16.5f, 31);
      const int hi = trunc_clamped(x[j + 16] * id + 16.5f, 31);
      y[6 + j] = static_cast<uint8_t>((lo & 0x0f) | ((hi & 0x0f) << 4));
      qh |= static_cast<uint32_t>(lo >> 4) << j;
      qh |= static_cast<uint32_t>(hi >> 4) << (j + 16);
    }
    store_u32(y + 2, qh);
  }
}

// Q5_1: as Q4_1 with d = (max − min)/31.
void quantize_q5_1(const float* x, uint8_t* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, x += 32, y += 24) {
    float min, max;
    min_max(x, min, max);
    const float d = (max - min) / 31.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    store_u16(y, float_to_half(d));
    store_u16(y + 2, float_to_half(min));
    uint32_t qh = 0;
    for (int j = 0; j < 16; ++j) {
      const int lo = trunc_clamped((x[j] - min) * id + 0.5f, 31);
      const int hi = trunc_clamped((x[j + 16] - min) * id + 0.5f, 31);
      y[8 + j] = static_cast<uint8_t>((lo & 0x0f) | ((hi & 0x0f) << 4));
      qh |= static_cast<uint32_t>(lo >> 4) << j;
      qh |= static_cast<uint32_t>(hi >> 4) << (j + 16);
    }
    store_u32(y + 4, qh);
  }
}

// Q8_0: d = amax/127; q = roundf(x/d) (half away from zero, unlike the k-quants).
void quantize_q8_0(const float* x, uint8_t* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, x += 32, y += 34) {
    float amax = 0.0f;
    for (int j = 0; j < 32; ++j) amax = amax > std::fabs(x[j]) ? amax : std::fabs(x[j]);
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    store_u16(y, float_to_half(d));
    for (int j = 0; j < 32; ++j)
      y[2 + j] = static_cast<uint8_t>(round_to_i8(x[j] * id));
  }
}

void quantize_f32(const float* x, uint8_t* y, int64_t n) {
  std::memcpy(y, x, static_cast<size_t>(n) * sizeof(float));
}

void quantize_f16(const float* x, uint8_t* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) store_u16(y + 2 * i, float_to_half(x[i]));
}

void quantize_bf16(const float* x, uint8_t* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) store_u16(y + 2 * i, detail::float_to_bf16(x[i]));
}

using Quantizer = void (*)(const float* x, uint8_t* y, int64_t blocks);

Quantizer quantizer(DType t) {
  switch (t) {
    case DType::F32: return quantize_f32;
    case DType::F16: return quantize_f16;
    case DType::BF16: return quantize_bf16;
    case DType::Q4_0: return quantize_q4_0;
    case DType::Q4_1: return quantize_q4_1;
    case DType::Q5_0: return quantize_q5_0;
    case DType::Q5_1: return quantize_q5_1;
    case DType::Q8_0: return quantize_q8_0;
    case DType::Q4_K: return detail::quantize_q4_k;
    case DType::Q5_K: return detail::quantize_q5_k;
    case DType::Q6_K: return detail::quantize_q6_k;
    case DType::Q8_K: return detail::quantize_q8_k;
    default: return nullptr;
  }
}

}  // namespace

bool can_quantize(DType t) { return quantizer(t) != nullptr; }

void quantize(DType t, const float* src, void* dst, int64_t n) {
  const Quantizer fn = quantizer(t);
  if (!fn) fail("unsupported tensor type {} (brickc cannot quantize to it)", name(t));
  fn(src, static_cast<uint8_t*>(dst), detail::block_count(t, n, "quantize"));
}

}  // namespace brickc::quant
