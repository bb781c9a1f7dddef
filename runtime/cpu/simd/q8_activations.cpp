#include "runtime/cpu/simd/q8_activations.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "frontend/quant/quant.h"
#include "ir/error.h"

namespace brickc::cpu::simd {
namespace {

using f32x4 = float __attribute__((vector_size(16)));
using i32x4 = int32_t __attribute__((vector_size(16)));
using i8x4 = int8_t __attribute__((vector_size(4)));

f32x4 load4(const float* x) {
  f32x4 v;
  std::memcpy(&v, x, sizeof v);
  return v;
}

// The largest |x| over n values (n a multiple of 4).
float absmax(const float* x, int n) {
  f32x4 m = {};
  for (int j = 0; j < n; j += 4) {
    f32x4 v = load4(x + j);
    v = v < 0 ? -v : v;
    m = v > m ? v : m;
  }
  return std::max(std::max(m[0], m[1]), std::max(m[2], m[3]));
}

// Q8_0: d = amax / 127, q = roundf(x / d) (half away from zero), as quantize_q8_0.
void q8_0(const float* x, uint8_t* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, x += 32, y += 34) {
    const float d = absmax(x, 32) / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const uint16_t h = quant::f32_to_fp16(d);
    std::memcpy(y, &h, sizeof h);
    for (int k = 0; k < 8; ++k) {
      const f32x4 v = load4(x + 4 * k) * id;
      // roundf: the truncation, one away from zero where the dropped part is at least 1/2
      // (exact: both are floats of at most 8 integer bits); NaN -> 0, clamped to int8.
      const f32x4 c = v != v ? 0 : v < -128 ? -128 : v > 127 ? 127 : v;
      i32x4 r = __builtin_convertvector(c, i32x4);
      const f32x4 frac = c - __builtin_convertvector(r, f32x4);
      r += (frac >= 0.5f ? 1 : 0) - (frac <= -0.5f ? 1 : 0);
      r = r > 127 ? 127 : r;
      r = r < -128 ? -128 : r;
      const i8x4 q = __builtin_convertvector(r, i8x4);
      std::memcpy(y + 2 + 4 * k, &q, sizeof q);
    }
  }
}

// Q8_K: scaled by the first value of largest magnitude so that it maps to -127, each value
// min(127, nearest_int(iscale x)) by the float rounding trick, as quantize_q8_k.
void q8_k(const float* x, uint8_t* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, x += 256, y += 292) {
    const float amax = absmax(x, 256);
    if (amax == 0) {
      std::memset(y, 0, 292);
      continue;
    }
    int first = 0;
    while (first < 255 && std::fabs(x[first]) != amax) ++first;
    const float iscale = -127.0f / x[first];
    for (int g = 0; g < 16; ++g) {
      i32x4 sum = {};
      for (int k = 0; k < 4; ++k) {
        const f32x4 biased = load4(x + 16 * g + 4 * k) * iscale + 12582912.0f;
        i32x4 q;
        std::memcpy(&q, &biased, sizeof q);
        q = (q & 0x007fffff) - 0x00400000;
        q = q > 127 ? 127 : q;
        sum += q;
        const i8x4 q8 = __builtin_convertvector(q, i8x4);
        std::memcpy(y + 4 + 16 * g + 4 * k, &q8, sizeof q8);
      }
      const auto s16 = static_cast<int16_t>(sum[0] + sum[1] + sum[2] + sum[3]);
      std::memcpy(y + 260 + 2 * g, &s16, sizeof s16);
    }
    const float d = 1 / iscale;
    std::memcpy(y, &d, sizeof d);
  }
}

}  // namespace

void quantize_q8(DType type, const float* x, uint8_t* y, int64_t n) {
  switch (type) {
    case DType::Q8_0: return q8_0(x, y, n / 32);
    case DType::Q8_K: return q8_k(x, y, n / 256);
    default: fail("internal: activations are rounded to Q8_0 or Q8_K, not {}", name(type));
  }
}

}  // namespace brickc::cpu::simd
