// The AVX-512 kernels for the K-quants (this file alone is built with AVX-512 BW, VL and
// VNNI; qdot.cpp calls it only where cpuid says so). 64 weights per 512-bit register: two
// sub-blocks of Q4_K/Q5_K or four of Q6_K, multiplied with the int8 activations by
// vpmaddubsw and summed with their sub-block scales by VNNI's vpdpwssd (int16 pairs
// multiplied and added to int32 in one instruction): two instructions per 64 weights and
// token where the AVX2 kernels take five (two vpmaddubsw, two vpmaddwd, an add). The
// formats with 32-element blocks keep their AVX2 kernels for GGUF rows (their f16 scale per
// 32 weights and token leaves nothing to fuse); their rows repacked eight at a time
// (rows8.h: Q5_0, Q8_0), and Q4_K's and Q6_K's, have vpdpbusd kernels here.
#include "runtime/cpu/simd/qdot.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include "runtime/cpu/simd/qdot_x86.h"
#include "runtime/cpu/simd/rows8.h"

// GCC 12's AVX-512 headers fill the undefined upper lanes of casts and inserts with a
// self-initialized variable, which -Wuninitialized reports wherever they are inlined.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace brickc::cpu::simd {
namespace {

__m512i load512(const uint8_t* p) { return _mm512_loadu_si512(p); }

// a in the low 256 bits, b in the high ones.
__m512i join(__m256i a, __m256i b) { return _mm512_inserti64x4(_mm512_castsi256_si512(a), b, 1); }

// Q4_K / Q5_K against Q8_K. Register c holds sub-blocks 2c (low nibbles of 32 quant
// bytes) and 2c + 1 (their high nibbles), i.e. elements 64c .. 64c + 63, which are the
// activation's 64 bytes at 4 + 64c; its scale register has sc[2c] in the low 16 int16
// lanes and sc[2c + 1] in the high ones, matching vpmaddubsw's pair sums.
template <bool Five, int NT>
void dot_q45_k(const uint8_t* w, const QActivations& xa, int64_t n, float* out) {
  const uint8_t* x = xa.q;
  const int64_t step = 292 * xa.pitch;
  const __m256i low4 = _mm256_set1_epi8(0x0f), bit = _mm256_set1_epi8(1);
  __m512 acc[NT];
  #pragma GCC unroll 8
  for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < n / 256; ++b, w += Five ? 176 : 144, x += step) {
    alignas(16) int16_t sc[8];
    const __m128i m = k_scales(w + 4, sc);
    const uint8_t* qs = w + (Five ? 48 : 16);
    __m512i q[4], s[4];
    #pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) {
      const __m256i v = load(qs + 32 * c);
      __m256i q0 = _mm256_and_si256(v, low4), q1 = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
      if constexpr (Five) {  // the fifth bit of sub-block j is bit j of each byte of qh
        const __m256i qh = _mm256_srli_epi16(load(w + 16), 2 * c);
        q0 = _mm256_or_si256(q0, _mm256_slli_epi16(_mm256_and_si256(qh, bit), 4));
        q1 = _mm256_or_si256(q1, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 1), bit), 4));
      }
      q[c] = join(q0, q1);
      s[c] = join(_mm256_set1_epi16(sc[2 * c]), _mm256_set1_epi16(sc[2 * c + 1]));
    }
    const float d = f16(w), dmin = f16(w + 2);
    #pragma GCC unroll 8
    for (int t = 0; t < NT; ++t) {
      const uint8_t* xt = x + 292 * t;
      __m512i isum = _mm512_setzero_si512();
      #pragma GCC unroll 4
      for (int c = 0; c < 4; ++c)
        isum = _mm512_dpwssd_epi32(isum, _mm512_maddubs_epi16(q[c], load512(xt + 4 + 64 * c)), s[c]);
      const float dx = f32(xt);
      acc[t] = _mm512_fmadd_ps(_mm512_set1_ps(d * dx), _mm512_cvtepi32_ps(isum), acc[t]);
      acc[t] = _mm512_fmadd_ps(_mm512_set1_ps(-dmin * dx), _mm512_zextps256_ps512(mins_dot(xt, m)), acc[t]);
    }
  }
  #pragma GCC unroll 8
  for (int t = 0; t < NT; ++t) out[t] = _mm512_reduce_add_ps(acc[t]);
}

// Q6_K against Q8_K: q in 0..63 through vpmaddubsw, the −32 offset taken off each block's
// sum as 32·Σ_k sc_k·bsum_k (as the AVX2 kernel does). Register k holds elements
// 64k .. 64k + 63, sub-blocks (of 16) 4k .. 4k + 3; vpermw spreads their int16 scales over
// the 8 pair-sum lanes of each.
template <int NT>
void dot_q6_k(const uint8_t* w, const QActivations& xa, int64_t n, float* out) {
  const uint8_t* x = xa.q;
  const int64_t step = 292 * xa.pitch;
  const __m256i low4 = _mm256_set1_epi8(0x0f), three = _mm256_set1_epi8(3);
  __m512i pick[4];  // lane i of pick[k]: scale 4k + i / 8
  #pragma GCC unroll 4
  for (int k = 0; k < 4; ++k)
    pick[k] = _mm512_add_epi16(_mm512_set1_epi16(static_cast<int16_t>(4 * k)),
                               _mm512_set_epi16(3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2,
                                                1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0));
  __m512 acc[NT];
  #pragma GCC unroll 8
  for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < n / 256; ++b, w += 210, x += step) {
    __m512i q[4];
    #pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {  // elements 128h ..: ql[64h ..], ql[64h + 32 ..], qh[32h ..]
      const __m256i a = load(w + 64 * h), c = load(w + 64 * h + 32), qh = load(w + 128 + 32 * h);
      auto high = [&](int shift) {
        return _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, shift), three), 4);
      };
      q[2 * h] = join(_mm256_or_si256(_mm256_and_si256(a, low4), high(0)),
                      _mm256_or_si256(_mm256_and_si256(c, low4), high(2)));
      q[2 * h + 1] = join(_mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(a, 4), low4), high(4)),
                          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(c, 4), low4), high(6)));
    }
    const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 192)));
    const __m512i sc = _mm512_zextsi256_si512(sc16);
    __m512i s[4];
    #pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) s[k] = _mm512_permutexvar_epi16(pick[k], sc);
    const float d = f16(w + 208);
    #pragma GCC unroll 8
    for (int t = 0; t < NT; ++t) {
      const uint8_t* xt = x + 292 * t;
      const __m256i offset = _mm256_slli_epi32(_mm256_madd_epi16(load(xt + 260), sc16), 5);
      __m512i isum = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_zextsi256_si512(offset));
      #pragma GCC unroll 4
      for (int k = 0; k < 4; ++k)
        isum = _mm512_dpwssd_epi32(isum, _mm512_maddubs_epi16(q[k], load512(xt + 4 + 64 * k)), s[k]);
      acc[t] = _mm512_fmadd_ps(_mm512_set1_ps(d * f32(xt)), _mm512_cvtepi32_ps(isum), acc[t]);
    }
  }
  #pragma GCC unroll 8
  for (int t = 0; t < NT; ++t) out[t] = _mm512_reduce_add_ps(acc[t]);
}

// The products of two column quads of 8 rows (u0: columns c .. c + 3, u1: c + 4 .. c + 7)
// with NT tokens' activations, x + kStride·t pointing at token t's column c: added to two
// sums per token, so that a block's vpdpbusd chain is half as long.
template <int NT, int kStride>
[[gnu::always_inline]] inline void dpbusd_quads(__m256i u0, __m256i u1, const uint8_t* x,
                                                __m256i* s0, __m256i* s1) {
  #pragma GCC unroll 8
  for (int t = 0; t < NT; ++t) {
    int32_t a0, a1;
    std::memcpy(&a0, x + kStride * t, 4);
    std::memcpy(&a1, x + kStride * t + 4, 4);
    s0[t] = _mm256_dpbusd_epi32(s0[t], u0, _mm256_set1_epi32(a0));
    s1[t] = _mm256_dpbusd_epi32(s1[t], u1, _mm256_set1_epi32(a1));
  }
}

// Q4_K repacked eight rows at a time (rows8.h) against Q8_K, as the AVX2 kernel
// rows8_q4_k but on 256-bit registers with VNNI: vpdpbusd multiplies the unsigned nibbles
// by a token's broadcast activations and adds each lane's four products to its int32
// sum in one instruction (AVX2: vpmaddubsw, an int16 add, and a vpmaddwd per sub-block),
// and AVX-512's 32 registers hold two sums per token (low and high nibbles), which halves
// the dependency chains' length.
template <int NT>
void rows8_q4_k(const uint8_t* w, const QActivations& xa, int64_t n, float* out) {
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  #pragma GCC unroll 8
  for (int t = 0; t < NT; ++t) _mm256_storeu_ps(out + 8 * t, _mm256_setzero_ps());
  const int64_t step = 292 * xa.pitch;
  const uint8_t* x = xa.q;
  for (int64_t b = 0; b < n / 256; ++b, w += kQ4KRows8Bytes, x += step) {
    __m256i isum[NT];
    #pragma GCC unroll 8
    for (int t = 0; t < NT; ++t) isum[t] = _mm256_setzero_si256();
    #pragma GCC unroll 1
    for (int j = 0; j < 8; ++j) {
      const uint8_t* qs = w + 160 + 128 * j;
      __m256i s0[NT], s1[NT];
      #pragma GCC unroll 8
      for (int t = 0; t < NT; ++t) s0[t] = s1[t] = _mm256_setzero_si256();
      #pragma GCC unroll 4
      for (int p = 0; p < 4; ++p) {
        const __m256i v = load(qs + 32 * p);
        const __m256i q0 = _mm256_and_si256(v, low4), q1 = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
        dpbusd_quads<NT, 292>(q0, q1, x + 4 + 32 * j + 8 * p, s0, s1);
      }
      const __m256i sc = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(w + 32 + 8 * j)));
      #pragma GCC unroll 8
      for (int t = 0; t < NT; ++t)
        isum[t] = _mm256_add_epi32(isum[t], _mm256_mullo_epi32(_mm256_add_epi32(s0[t], s1[t]), sc));
    }
    rows8_q4_k_add<NT>(w, x, isum, out);
  }
}

// The top two bits of a Q6_K code, bits 2k and 2k + 1 of each qh byte (rows8.h), moved to
// bits 4 and 5 (the other bits are masked off by the caller). k is a constant once the
// kernel's loops are unrolled.
[[gnu::always_inline]] inline __m256i q6_top_bits(__m256i qh, int k) {
  return k < 2 ? _mm256_slli_epi16(qh, 4 - 2 * k) : k == 2 ? qh : _mm256_srli_epi16(qh, 2);
}

// Q6_K repacked eight rows at a time (rows8.h) against Q8_K, as rows8_q4_k: vpdpbusd on the
// unsigned codes (q + 32), each sub-block's sum less 32 x its activations' sum (Q8_K's
// bsums) times the row's scale. One dev VM core: 27 -> 48 GB/s with the weights in L2,
// 25 -> 30-36 GB/s from memory, against the GGUF-row kernel above.
template <int NT>
void rows8_q6_k(const uint8_t* w, const QActivations& xa, int64_t n, float* out) {
  const __m256i low4 = _mm256_set1_epi8(0x0f), top = _mm256_set1_epi8(0x30);
  const int64_t step = 292 * xa.pitch;
  const uint8_t* x = xa.q;
  __m256 acc[NT];
  #pragma GCC unroll 8
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / 256; ++b, w += kQ6KRows8Bytes, x += step) {
    __m256i isum[NT];
    #pragma GCC unroll 8
    for (int t = 0; t < NT; ++t) isum[t] = _mm256_setzero_si256();
    #pragma GCC unroll 1
    for (int u = 0; u < 8; ++u) {
      #pragma GCC unroll 2
      for (int h = 0; h < 2; ++h) {  // sub-block 2u + h: column quads 4h .. 4h + 3 of unit u
        const __m256i qh = load(w + 272 + 192 * u + 32 * h);
        __m256i s0[NT], s1[NT];
        #pragma GCC unroll 8
        for (int t = 0; t < NT; ++t) s0[t] = s1[t] = _mm256_setzero_si256();
        #pragma GCC unroll 2
        for (int k = 0; k < 2; ++k) {  // pair p = 2h + k: quads 2p and 2p + 1
          const int p = 2 * h + k;
          const __m256i v = load(w + 144 + 192 * u + 32 * p);
          // 0xf8: a | (b & c).
          const __m256i u0 =
              _mm256_ternarylogic_epi32(_mm256_and_si256(v, low4), q6_top_bits(qh, 2 * k), top, 0xf8);
          const __m256i u1 = _mm256_ternarylogic_epi32(_mm256_and_si256(_mm256_srli_epi16(v, 4), low4),
                                                       q6_top_bits(qh, 2 * k + 1), top, 0xf8);
          dpbusd_quads<NT, 292>(u0, u1, x + 4 + 32 * u + 8 * p, s0, s1);
        }
        const int j = 2 * u + h;
        const __m256i sc = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(w + 16 + 8 * j)));
        #pragma GCC unroll 8
        for (int t = 0; t < NT; ++t) {
          int16_t bsum;
          std::memcpy(&bsum, x + 292 * t + 260 + 2 * j, 2);
          const __m256i exact = _mm256_sub_epi32(_mm256_add_epi32(s0[t], s1[t]), _mm256_set1_epi32(32 * bsum));
          isum[t] = _mm256_add_epi32(isum[t], _mm256_mullo_epi32(exact, sc));
        }
      }
    }
    const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w)));
    #pragma GCC unroll 8
    for (int t = 0; t < NT; ++t)
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), _mm256_mul_ps(d, _mm256_set1_ps(f32(x + 292 * t))), acc[t]);
  }
  #pragma GCC unroll 8
  for (int t = 0; t < NT; ++t) _mm256_storeu_ps(out + 8 * t, acc[t]);
}

// Column quads 2p and 2p + 1 of a repacked Q5_0 or Q8_0 block (rows8.h) as unsigned codes,
// the value plus 16 (Q5_0's 5-bit codes as stored) or plus 128 (Q8_0's top bit flipped),
// u[h] holding quad 2p + h of the 8 rows. Q5_0's fifth bits become byte masks (vptestmb)
// that add 16 to the nibbles where set: 5 instructions per pair where shifting each bit into
// place took 8 (the kernel 37 -> 41 GB/s on one dev VM core, weights in L2).
template <DType T>
[[gnu::always_inline]] inline void rows8_codes(const uint8_t* w, int p, __m256i* u) {
  if constexpr (T == DType::Q5_0) {
    const __m256i v = load(w + 48 + 32 * p), h = load(w + 16), low4 = _mm256_set1_epi8(0x0f);
    const __m256i sixteen = _mm256_set1_epi8(16);
    const __mmask32 k0 = _mm256_test_epi8_mask(h, _mm256_set1_epi8(static_cast<char>(1 << (2 * p))));
    const __mmask32 k1 = _mm256_test_epi8_mask(h, _mm256_set1_epi8(static_cast<char>(2 << (2 * p))));
    const __m256i lo = _mm256_and_si256(v, low4), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
    u[0] = _mm256_mask_add_epi8(lo, k0, lo, sixteen);
    u[1] = _mm256_mask_add_epi8(hi, k1, hi, sixteen);
  } else {
    static_assert(T == DType::Q8_0);
    const __m256i top = _mm256_set1_epi8(static_cast<char>(0x80));
    u[0] = _mm256_xor_si256(load(w + 16 + 64 * p), top);
    u[1] = _mm256_xor_si256(load(w + 48 + 64 * p), top);
  }
}

// Q5_0 and Q8_0 repacked eight rows at a time against Q8_0, the weights' codes unsigned
// (rows8_codes) as vpdpbusd's unsigned operand and the activations as its signed one: each
// block's integer sum then carries the bias (16 or 128) x the activations' block sum
// (QActivations::sum), taken off once per block. The AVX2 rows8_small moves the weights'
// signs onto the activations instead, an instruction per register and token more: a decode
// step of the 0.5B (its layers mostly Q5_0, its LM head Q8_0) is bound by these
// instructions rather than by memory on a 16-core host. The integer sums are the same.
// Two sums per token (dpbusd_quads; one dev VM core: Q8_0 79 -> 84 GB/s, Q5_0 41 -> 46).
template <DType T, int NT>
void rows8_unsigned(const uint8_t* w, const QActivations& x, int64_t n, float* out) {
  constexpr bool five = T == DType::Q5_0;
  constexpr int32_t bias = five ? 16 : 128;
  __m256 acc[NT];
  #pragma GCC unroll 8
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / 32; ++b, w += five ? 176 : 272) {
    const uint8_t* xb = x.q + 34 * x.pitch * b + 2;  // token t's quants at xb + 34t
    const float* db = x.d + x.pitch * b;
    const int32_t* sb = x.sum + x.pitch * b;
    __m256i sum[NT], sum1[NT];
    #pragma GCC unroll 8
    for (int t = 0; t < NT; ++t) sum[t] = sum1[t] = _mm256_setzero_si256();
    #pragma GCC unroll 4
    for (int p = 0; p < 4; ++p) {  // column quads 2p and 2p + 1
      __m256i u[2];
      rows8_codes<T>(w, p, u);
      dpbusd_quads<NT, 34>(u[0], u[1], xb + 8 * p, sum, sum1);
    }
    #pragma GCC unroll 8
    for (int t = 0; t < NT; ++t) sum[t] = _mm256_add_epi32(sum[t], sum1[t]);
    const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w)));
    #pragma GCC unroll 8
    for (int t = 0; t < NT; ++t) {
      const __m256i exact = _mm256_sub_epi32(sum[t], _mm256_set1_epi32(bias * sb[t]));
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(exact), _mm256_mul_ps(dw, _mm256_set1_ps(db[t])), acc[t]);
    }
  }
  #pragma GCC unroll 8
  for (int t = 0; t < NT; ++t) _mm256_storeu_ps(out + 8 * t, acc[t]);
}

template <bool Five>
struct Q45K {
  template <int NT>
  static constexpr auto run = &dot_q45_k<Five, NT>;
};
struct Q6K {
  template <int NT>
  static constexpr auto run = &dot_q6_k<NT>;
};
struct Rows8Q4K {
  template <int NT>
  static constexpr auto run = &rows8_q4_k<NT>;
};
struct Rows8Q6K {
  template <int NT>
  static constexpr auto run = &rows8_q6_k<NT>;
};
template <DType T>
struct Rows8Unsigned {
  template <int NT>
  static constexpr auto run = &rows8_unsigned<T, NT>;
};

}  // namespace

DotFn avx512_kernel(DType weight) {
  switch (weight) {
    case DType::Q4_K: return by_tokens<Q45K<false>, 8, 292>;
    case DType::Q5_K: return by_tokens<Q45K<true>, 8, 292>;
    case DType::Q6_K: return by_tokens<Q6K, 8, 292>;
    default: return avx2_kernel(weight);
  }
}

Rows8Fn avx512_rows8_kernel(DType weight) {
  switch (weight) {
    case DType::Q4_K: return by_tokens<Rows8Q4K, 8, 292, kRows8>;
    case DType::Q6_K: return by_tokens<Rows8Q6K, 8, 292, kRows8>;
    case DType::Q5_0: return by_tokens<Rows8Unsigned<DType::Q5_0>, 8, 34, kRows8>;
    case DType::Q8_0: return by_tokens<Rows8Unsigned<DType::Q8_0>, 8, 34, kRows8>;
    default: return nullptr;
  }
}

}  // namespace brickc::cpu::simd

#else

namespace brickc::cpu::simd {
DotFn avx512_kernel(DType) { return nullptr; }
Rows8Fn avx512_rows8_kernel(DType) { return nullptr; }
}  // namespace brickc::cpu::simd

#endif
