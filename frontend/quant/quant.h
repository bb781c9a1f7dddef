// Conversions between f32 and the GGUF tensor types: dequantization for every type that
// dtype info marks dequantizable, and llama.cpp's reference (round-to-nearest) quantizers.
// Layouts: ggml-common.h, summarized in shared/reference/gguf-qwen2.md §4.
#pragma once
#include <cstdint>

#include "ir/dtype.h"

namespace brickc::quant {

float fp16_to_f32(uint16_t h);  // exact; NaN payloads kept bit for bit (as numpy's cast)
float load_fp16(const uint8_t* p);  // fp16_to_f32 of the 2 bytes at p (a block's scale)
uint16_t f32_to_fp16(float f);  // round to nearest even, as ggml's GGML_FP32_TO_FP16
float bf16_to_f32(uint16_t h);
uint16_t f32_to_bf16(float f);  // round to nearest even; NaN stays NaN (ggml's rule)

// n elements of type t at src → f32. n must be a multiple of the block size; an
// undequantizable type or a bad n is an Error.
void dequantize(DType t, const void* src, float* dst, int64_t n);

// The 8 six-bit scales and 8 mins of a Q4_K/Q5_K block, packed in its 12 bytes at s: bytes
// 0-3 hold scales 0-3 (low 6 bits) and the top 2 bits of scales 4-7; bytes 4-7 the same for
// mins; bytes 8-11 the low nibbles of scales 4-7 (low half) and mins 4-7 (high half).
void unpack_k_scales(const uint8_t* s, uint8_t* scales, uint8_t* mins);

// Types quantize() can produce: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K,
// Q6_K, Q8_K.
bool can_quantize(DType t);
// n f32 values → row_bytes(t, n) bytes at dst, with llama.cpp's reference algorithm
// (quantize_row_*_ref). Deterministic and thread-safe.
void quantize(DType t, const float* src, void* dst, int64_t n);

}  // namespace brickc::quant
