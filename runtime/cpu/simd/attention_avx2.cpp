// The attention kernels on AVX2 + FMA (this file alone is built with them; attention.cpp
// calls it only where cpuid says so): 8 floats per register, 16 registers, so 2 queries ×
// 4 keys of scores and 2 queries × 4 output vectors (32 floats) per block.
#include "runtime/cpu/simd/attention.h"

#if defined(__x86_64__)
#include "runtime/cpu/simd/attention_x86.h"

namespace brickc::cpu::simd {
namespace {

struct Avx2 {
  using V = __m256;
  static constexpr int kWidth = 8, kQueries = 2, kKeys = 4, kDims = 4;
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V set1(float f) { return _mm256_set1_ps(f); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static V div(V a, V b) { return _mm256_div_ps(a, b); }
  static V max(V a, V b) { return _mm256_max_ps(a, b); }
  static V min(V a, V b) { return _mm256_min_ps(a, b); }
  static V round(V x) { return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  // p · 2^n for integral n whose result is a normal float: n added to p's exponent.
  static V scale2(V p, V n) {
    return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(p),
                                                _mm256_slli_epi32(_mm256_cvtps_epi32(n), 23)));
  }
  static V round_f16(V v) { return _mm256_cvtph_ps(_mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT)); }
  static V load_f16(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
  static V load_i8(const uint8_t* p) {
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
  }
  static void store_f16(uint16_t* p, V v) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
  }
  static float max_lane(V v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    return _mm_cvtss_f32(_mm_max_ss(m, _mm_movehdup_ps(m)));
  }
  // Sums in double: the low and the high four lanes.
  using Sums = __m256d[2];
  static void add_sums(Sums& s, V v) {
    s[0] = _mm256_add_pd(s[0], _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
    s[1] = _mm256_add_pd(s[1], _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
  }
  static double total(const Sums& s) {
    alignas(32) double d[4];
    _mm256_store_pd(d, _mm256_add_pd(s[0], s[1]));
    return (d[0] + d[1]) + (d[2] + d[3]);
  }
  // Lane i + 4, then i + 2, i + 1 added to lane i.
  static float sum(V v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  // p[a·ps + b] = sum(acc[a][b]) for the 2 × 4 block, in three rounds that each halve the
  // lanes of all eight sums at once. Round 1 takes the accumulators in the order
  // n = 2b + a, so that round 3 leaves query a's four scores in 128-bit half a.
  static void store_sums(const V (&acc)[2][4], float* p, int64_t ps) {
    V c[4], d[2];
    for (int m = 0; m < 4; ++m) {  // lane i + 4: 128-bit halves of two sums
      const V x = acc[0][m], y = acc[1][m];  // sums 2m and 2m + 1
      c[m] = _mm256_add_ps(_mm256_permute2f128_ps(x, y, 0x20), _mm256_permute2f128_ps(x, y, 0x31));
    }
    for (int m = 0; m < 2; ++m)  // lane i + 2
      d[m] = _mm256_add_ps(_mm256_shuffle_ps(c[2 * m], c[2 * m + 1], 0x44),
                           _mm256_shuffle_ps(c[2 * m], c[2 * m + 1], 0xee));
    // Lane i + 1: half h lane k is sum 2k + h, i.e. acc[h][k].
    const V f = _mm256_add_ps(_mm256_shuffle_ps(d[0], d[1], 0x88), _mm256_shuffle_ps(d[0], d[1], 0xdd));
    _mm_storeu_ps(p, _mm256_castps256_ps128(f));
    _mm_storeu_ps(p + ps, _mm256_extractf128_ps(f, 1));
  }
};

}  // namespace

AttentionKernels avx2_attention_kernels(int64_t head_dim) {
  return Attention<Avx2>::for_head(head_dim);
}

}  // namespace brickc::cpu::simd

#else

namespace brickc::cpu::simd {
AttentionKernels avx2_attention_kernels(int64_t) { return {}; }
}  // namespace brickc::cpu::simd

#endif
