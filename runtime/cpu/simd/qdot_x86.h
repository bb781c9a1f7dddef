// Helpers of the x86 kernel files (qdot_avx2.cpp, qdot_avx512.cpp), each built for its own
// instruction set. Everything here has internal linkage, so that each file compiles its own
// copy: an inline function with external linkage compiled with AVX-512 in one file could be
// the copy the linker keeps for the AVX2 file too, and fault on a processor without it.
#pragma once
#include <immintrin.h>

#include <cstring>

#include "runtime/cpu/simd/qdot.h"

namespace brickc::cpu::simd {
namespace {

float f16(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, sizeof h);
  return _cvtsh_ss(h);
}

float f32(const uint8_t* p) {
  float f;
  std::memcpy(&f, p, sizeof f);
  return f;
}

__m256i load(const uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }

// The 6-bit scales and mins of a Q4_K/Q5_K block (12 bytes at s, as in qdot_portable.cpp;
// 16 are read, the last 4 being the block's quants) unpacked in 32-bit lanes: with a, b, c
// its three words, scales 0-3 are a & 0x3f.., mins 0-3 b & 0x3f.., scales 4-7 the low
// nibbles of c with the top bits of a, mins 4-7 the high nibbles of c with those of b.
// sc gets the 8 scales as int16; the result holds the 8 mins as int16.
__m128i k_scales(const uint8_t* s, int16_t* sc) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
  const __m128i ab = _mm_shuffle_epi32(v, _MM_SHUFFLE(1, 0, 1, 0));  // a b a b
  const __m128i cc = _mm_srlv_epi32(_mm_shuffle_epi32(v, _MM_SHUFFLE(2, 2, 2, 2)), _mm_set_epi32(4, 0, 4, 0));
  const __m128i low = _mm_and_si128(ab, _mm_set1_epi32(0x3f3f3f3f));
  const __m128i high = _mm_or_si128(_mm_and_si128(cc, _mm_set1_epi32(0x0f0f0f0f)),
                                    _mm_and_si128(_mm_srli_epi32(ab, 2), _mm_set1_epi32(0x30303030)));
  const __m128i bytes = _mm_unpacklo_epi32(low, high);  // sc 0-3, sc 4-7, m 0-3, m 4-7
  _mm_storeu_si128(reinterpret_cast<__m128i*>(sc), _mm_cvtepu8_epi16(bytes));
  return _mm_cvtepu8_epi16(_mm_srli_si128(bytes, 8));
}

// Σ_j m_j · (sum of sub-block j's 32 activations) in 4 int32 lanes, from a Q8_K block's
// 16 sums of 16, widened to 8 lanes (upper half zero) for the f32 accumulator.
__m256 mins_dot(const uint8_t* x, __m128i m) {
  const __m128i bs = _mm_hadd_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + 260)),
                                    _mm_loadu_si128(reinterpret_cast<const __m128i*>(x + 276)));
  return _mm256_cvtepi32_ps(_mm256_zextsi128_si256(_mm_madd_epi16(bs, m)));
}

// The end of a Q4_K super-block in a repacked kernel (rows8.h): adds d·dx·isum[t] minus
// dmin·dx·Σ_j m_j·B_j to out[8t ..] (the 8 rows of token t), isum[t] being the rows' sums
// of scaled sub-block products and B_j the token's sum of sub-block j's 32 activations.
// The accumulators stay in out between super-blocks so that a kernel's sums keep the
// registers.
template <int NT>
void rows8_q4_k_add(const uint8_t* w, const uint8_t* x, const __m256i* isum, float* out) {
  // Mins of sub-blocks 2i and 2i+1 of row r in int16 lanes 2r and 2r+1, from bytes r, 8+r.
  const __m256i pick_mins = _mm256_setr_epi8(0, -1, 8, -1, 1, -1, 9, -1, 2, -1, 10, -1, 3, -1, 11, -1,
                                             4, -1, 12, -1, 5, -1, 13, -1, 6, -1, 14, -1, 7, -1, 15, -1);
  const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w)));
  const __m256 dmin = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 16)));
  __m256i mins[4];  // sub-blocks 2i and 2i+1, shared by the tokens
  #pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    __m128i mp;
    std::memcpy(&mp, w + 96 + 16 * i, 16);
    mins[i] = _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(mp), pick_mins);
  }
  #pragma GCC unroll 8
  for (int t = 0; t < NT; ++t) {
    const uint8_t* xt = x + 292 * t;
    // The 8 sums of 32 activations (pairs of the block's sums of 16), B_j in int16 lane j
    // of dword j/2 within each 128-bit half: B0-B3 low, B4-B7 high.
    const __m256i bsums = load(xt + 260);
    const __m256i b32 = _mm256_hadd_epi16(bsums, bsums);
    __m256i msum = _mm256_setzero_si256();
    #pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) {
      const __m256i pair = _mm256_permutevar8x32_epi32(b32, _mm256_set1_epi32(i < 2 ? i : i + 2));
      msum = _mm256_add_epi32(msum, _mm256_madd_epi16(mins[i], pair));
    }
    const __m256 dx = _mm256_set1_ps(f32(xt));
    __m256 acc = _mm256_loadu_ps(out + 8 * t);
    acc = _mm256_fmadd_ps(_mm256_mul_ps(d, dx), _mm256_cvtepi32_ps(isum[t]), acc);
    acc = _mm256_fnmadd_ps(_mm256_mul_ps(dmin, dx), _mm256_cvtepi32_ps(msum), acc);
    _mm256_storeu_ps(out + 8 * t, acc);
  }
}

// One DotFn (or Rows8Fn) per format: nt picks K::run<nt>; a kernel whose registers hold at
// most Max tokens (the K-quants' 8 unpacked sub-blocks leave room for 4) takes more in
// groups. Bytes: the activation block's size; Rows: the outputs per token (8 for a repacked
// kernel, rows8.h).
template <class K, int Max, int Bytes, int Rows = 1>
void by_tokens(const uint8_t* w, const QActivations& xa, int nt, int64_t n, float* out) {
  QActivations x = xa;
  for (; nt > Max; nt -= Max, out += Max * Rows) {
    K::template run<Max>(w, x, n, out);
    x.q += Max * Bytes;  // the next tokens of each block
    if (x.d) x.d += Max;
    if (x.sum) x.sum += Max;
  }
  switch (nt) {
    case 1: return K::template run<1>(w, x, n, out);
    case 2: return K::template run<2>(w, x, n, out);
    case 3: return K::template run<3>(w, x, n, out);
    case 4: return K::template run<4>(w, x, n, out);
  }
  if constexpr (Max > 4) {
    switch (nt) {
      case 5: return K::template run<5>(w, x, n, out);
      case 6: return K::template run<6>(w, x, n, out);
      case 7: return K::template run<7>(w, x, n, out);
      default: return K::template run<8>(w, x, n, out);
    }
  }
}

}  // namespace
}  // namespace brickc::cpu::simd
