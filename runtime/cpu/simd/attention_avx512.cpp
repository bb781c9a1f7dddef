// The attention kernels on AVX-512 (this file alone is built with AVX-512 F; attention.cpp
// calls it only where cpuid says so): 16 floats per register, 32 registers, so 4 queries ×
// 4 keys of scores and 4 queries × 4 output vectors (64 floats) per block.
#include "runtime/cpu/simd/attention.h"

#if defined(__x86_64__)
#include "runtime/cpu/simd/attention_x86.h"

// GCC 12's AVX-512 headers fill the undefined upper lanes of casts and extracts with a
// self-initialized variable, which -Wuninitialized reports wherever they are inlined.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace brickc::cpu::simd {
namespace {

struct Avx512 {
  using V = __m512;
  static constexpr int kWidth = 16, kQueries = 4, kKeys = 4, kDims = 4;
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V set1(float f) { return _mm512_set1_ps(f); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V sub(V a, V b) { return _mm512_sub_ps(a, b); }
  static V div(V a, V b) { return _mm512_div_ps(a, b); }
  static V max(V a, V b) { return _mm512_max_ps(a, b); }
  static V min(V a, V b) { return _mm512_min_ps(a, b); }
  static V round(V x) { return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static V scale2(V p, V n) { return _mm512_scalef_ps(p, n); }  // p · 2^n
  static V round_f16(V v) { return _mm512_cvtph_ps(_mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT)); }
  static V load_f16(const uint16_t* p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
  static V load_i8(const uint8_t* p) {
    return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
  }
  static void store_f16(uint16_t* p, V v) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
  }
  static float max_lane(V v) { return _mm512_reduce_max_ps(v); }
  // Sums in double: the low and the high eight lanes.
  using Sums = __m512d[2];
  static void add_sums(Sums& s, V v) {
    s[0] = _mm512_add_pd(s[0], _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
    s[1] = _mm512_add_pd(s[1], _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))));
  }
  static double total(const Sums& s) { return _mm512_reduce_add_pd(_mm512_add_pd(s[0], s[1])); }
  // Lane i + 8, then i + 4, i + 2, i + 1 added to lane i (GCC's _mm512_reduce_add_ps).
  static float sum(V v) { return _mm512_reduce_add_ps(v); }
  // p[a·ps + b] = sum(acc[a][b]) for the 4 × 4 block, in four rounds that each halve the
  // lanes of all sixteen sums at once. Round 1 takes the accumulators in the order
  // n = 4b + a, so that round 4 leaves query a's four scores in quarter a.
  static void store_sums(const V (&acc)[4][4], float* p, int64_t ps) {
    V c[8], d[4], e[2];
    for (int m = 0; m < 8; ++m) {  // lane i + 8: 256-bit halves of two sums
      const V x = acc[(2 * m) % 4][(2 * m) / 4], y = acc[(2 * m + 1) % 4][(2 * m + 1) / 4];
      c[m] = _mm512_add_ps(_mm512_shuffle_f32x4(x, y, 0x44), _mm512_shuffle_f32x4(x, y, 0xee));
    }
    for (int m = 0; m < 4; ++m)  // lane i + 4: quarter k of d[m] is sum 4m + k
      d[m] = _mm512_add_ps(_mm512_shuffle_f32x4(c[2 * m], c[2 * m + 1], 0x88),
                           _mm512_shuffle_f32x4(c[2 * m], c[2 * m + 1], 0xdd));
    for (int m = 0; m < 2; ++m)  // lane i + 2
      e[m] = _mm512_add_ps(_mm512_shuffle_ps(d[2 * m], d[2 * m + 1], 0x44),
                           _mm512_shuffle_ps(d[2 * m], d[2 * m + 1], 0xee));
    // Lane i + 1: quarter k lane m is sum 4m + k, i.e. acc[k][m].
    const V f = _mm512_add_ps(_mm512_shuffle_ps(e[0], e[1], 0x88), _mm512_shuffle_ps(e[0], e[1], 0xdd));
    _mm_storeu_ps(p, _mm512_extractf32x4_ps(f, 0));
    _mm_storeu_ps(p + ps, _mm512_extractf32x4_ps(f, 1));
    _mm_storeu_ps(p + 2 * ps, _mm512_extractf32x4_ps(f, 2));
    _mm_storeu_ps(p + 3 * ps, _mm512_extractf32x4_ps(f, 3));
  }
};

}  // namespace

AttentionKernels avx512_attention_kernels(int64_t head_dim) {
  return Attention<Avx512>::for_head(head_dim);
}

}  // namespace brickc::cpu::simd

#else

namespace brickc::cpu::simd {
AttentionKernels avx512_attention_kernels(int64_t) { return {}; }
}  // namespace brickc::cpu::simd

#endif
