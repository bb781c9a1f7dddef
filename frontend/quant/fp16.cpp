#include <cstring>

#include "frontend/quant/half.h"
#include "frontend/quant/quant.h"

namespace brickc::quant {

float fp16_to_f32(uint16_t h) { return detail::half_to_float(h); }
float load_fp16(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, sizeof h);
  return fp16_to_f32(h);
}
uint16_t f32_to_fp16(float f) { return detail::float_to_half(f); }
float bf16_to_f32(uint16_t h) { return detail::bf16_to_float(h); }
uint16_t f32_to_bf16(float f) { return detail::float_to_bf16(f); }

}  // namespace brickc::quant
