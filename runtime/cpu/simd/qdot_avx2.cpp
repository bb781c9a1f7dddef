// The AVX2 kernels (this file alone is built with -mavx2 -mfma -mf16c; qdot.cpp calls it
// only where cpuid says so). 32 weights per 256-bit register: 4- to 6-bit quants are
// unpacked to bytes with shifts and masks, multiplied with the int8 activations by
// vpmaddubsw (unsigned × signed → int16 pairs; |q| ≤ 63 so no pair saturates) and summed
// to int32 by vpmaddwd, whose second operand carries the sub-block scale for free. The
// loops over tokens and sub-blocks are unrolled so that the accumulators stay in registers
// (-O2 does not unroll; in memory, each block's FMA waited on a store).
#include "runtime/cpu/simd/qdot.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include "runtime/cpu/simd/qdot_x86.h"
#include "runtime/cpu/simd/rows8.h"

namespace brickc::cpu::simd {
namespace {

float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Unsigned bytes u (≤ 63) times signed bytes s, in 8 int32 sums of 4 products, each sum
// times the int16 in the matching lane of `scale`.
__m256i dot_u8(__m256i u, __m256i s, __m256i scale) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), scale);
}

// The 32 nibbles of qs[16] as bytes: low nibbles are elements 0-15, high ones 16-31.
__m256i nibbles(const uint8_t* qs) {
  const __m128i t = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(t, 4), t), _mm256_set1_epi8(0x0f));
}

// Byte j = 0xff where bit j of qh is set.
__m256i bit_mask(uint32_t qh) {
  const __m256i spread = _mm256_shuffle_epi8(
      _mm256_set1_epi32(static_cast<int>(qh)),
      _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0));
  const __m256i bit = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201));
  return _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
}

// Formats with 32-element blocks against Q8_0 (layouts in qdot_portable.cpp); the
// activation scales come as f32 (QActivations::d).
template <DType T, int NT>
void dot_small(const uint8_t* w, const QActivations& x, int64_t n, float* out) {
  constexpr bool has_min = T == DType::Q4_1 || T == DType::Q5_1;
  constexpr bool five = T == DType::Q5_0 || T == DType::Q5_1;
  constexpr int block = T == DType::Q8_0 ? 34 : 2 + (has_min ? 2 : 0) + (five ? 4 : 0) + 16;
  const __m256i ones16 = _mm256_set1_epi16(1);
  __m256 acc[NT];
  #pragma GCC unroll 8
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / 32; ++b, w += block) {
    const float dw = f16(w);  // times each token's scale as scalars: one broadcast per token
    // The block's quants as bytes: signed (q − offset) for the _0 types, whose sign then
    // moves onto the activations; unsigned for the _1 types, whose minimum m·Σx is apart.
    __m256i q = T == DType::Q8_0 ? load(w + 2) : nibbles(w + (has_min ? 4 : 2) + (five ? 4 : 0));
    uint32_t qh = 0;  // the fifth bits
    if constexpr (five) std::memcpy(&qh, w + (has_min ? 4 : 2), 4);
    if constexpr (T == DType::Q4_0) {
      q = _mm256_sub_epi8(q, _mm256_set1_epi8(8));
    } else if constexpr (T == DType::Q5_0) {  // q − 16 in one step: 0xF0 (−16 in the high
                                             // nibble) where the fifth bit is clear
      const __m256i minus16 = _mm256_set1_epi8(static_cast<char>(0xF0));
      q = _mm256_or_si256(q, _mm256_andnot_si256(bit_mask(qh), minus16));
    } else if constexpr (T == DType::Q5_1) {
      q = _mm256_or_si256(q, _mm256_and_si256(bit_mask(qh), _mm256_set1_epi8(16)));
    }
    const __m256i qa = has_min ? q : _mm256_sign_epi8(q, q);
    const uint8_t* xb = x.q + 34 * x.pitch * b;
    const float* db = x.d + x.pitch * b;
    #pragma GCC unroll 8
    for (int t = 0; t < NT; ++t) {
      const __m256i xq = load(xb + 34 * t + 2);
      const __m256i p = dot_u8(qa, has_min ? xq : _mm256_sign_epi8(xq, q), ones16);
      acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(dw * db[t]), _mm256_cvtepi32_ps(p), acc[t]);
      if constexpr (has_min) {
        const __m256i sx = dot_u8(_mm256_set1_epi8(1), xq, ones16);
        acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(f16(w + 2) * db[t]),
                                 _mm256_cvtepi32_ps(sx), acc[t]);
      }
    }
  }
  #pragma GCC unroll 8
  for (int t = 0; t < NT; ++t) out[t] = hsum(acc[t]);
}

// Q4_K / Q5_K against Q8_K, two sub-blocks at a time: their 64 quants unpacked to two
// registers and their scales broadcast to two more, then dotted with every token's
// activations, so that with the tokens' integer sums the kernel stays in the 16 ymm
// registers (holding all 8 sub-blocks at once spilled to the stack).
template <bool Five, int NT>
void dot_q45_k(const uint8_t* w, const QActivations& xa, int64_t n, float* out) {
  const uint8_t* x = xa.q;
  const int64_t step = 292 * xa.pitch;
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  __m256 acc[NT];
  #pragma GCC unroll 8
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / 256; ++b, w += Five ? 176 : 144, x += step) {
    alignas(16) int16_t sc[8];
    const __m128i m = k_scales(w + 4, sc);
    const uint8_t* qs = w + (Five ? 48 : 16);
    __m256i isum[NT];
    #pragma GCC unroll 8
    for (int t = 0; t < NT; ++t) isum[t] = _mm256_setzero_si256();
    // Not unrolled: unrolled, the compiler hoists every sub-block's unpacking ahead of the
    // dots and spills it.
    #pragma GCC unroll 1
    for (int c = 0; c < 4; ++c) {  // sub-blocks 2c and 2c+1: low and high nibbles of 32 bytes
      const __m256i v = load(qs + 32 * c);
      __m256i q0 = _mm256_and_si256(v, low4), q1 = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
      if constexpr (Five) {  // the fifth bit of sub-block j is bit j of each byte of qh
        const __m256i qh = _mm256_srli_epi16(load(w + 16), 2 * c), bit = _mm256_set1_epi8(1);
        q0 = _mm256_or_si256(q0, _mm256_slli_epi16(_mm256_and_si256(qh, bit), 4));
        q1 = _mm256_or_si256(q1, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 1), bit), 4));
      }
      const __m256i s0 = _mm256_set1_epi16(sc[2 * c]), s1 = _mm256_set1_epi16(sc[2 * c + 1]);
      #pragma GCC unroll 8
      for (int t = 0; t < NT; ++t) {
        const uint8_t* xt = x + 292 * t + 4 + 64 * c;
        isum[t] = _mm256_add_epi32(isum[t], _mm256_add_epi32(dot_u8(q0, load(xt), s0),
                                                             dot_u8(q1, load(xt + 32), s1)));
      }
    }
    const float d = f16(w), dmin = f16(w + 2);
    #pragma GCC unroll 8
    for (int t = 0; t < NT; ++t) {
      const uint8_t* xt = x + 292 * t;
      const float dx = f32(xt);
      acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(d * dx), _mm256_cvtepi32_ps(isum[t]), acc[t]);
      acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(-dmin * dx), mins_dot(xt, m), acc[t]);
    }
  }
  #pragma GCC unroll 8
  for (int t = 0; t < NT; ++t) out[t] = hsum(acc[t]);
}

// Q6_K against Q8_K: q in 0..63 through vpmaddubsw; the −32 offset is taken off each
// lane's sum as 32·Σ sc_k·bsum_k, which the lanes of a vpmaddwd of the block sums with the
// scales hold.
template <int NT>
void dot_q6_k(const uint8_t* w, const QActivations& xa, int64_t n, float* out) {
  const uint8_t* x = xa.q;
  const int64_t step = 292 * xa.pitch;
  const __m256i low4 = _mm256_set1_epi8(0x0f), three = _mm256_set1_epi8(3);
  __m256 acc[NT];
  #pragma GCC unroll 8
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / 256; ++b, w += 210, x += step) {
    const int8_t* sc = reinterpret_cast<const int8_t*>(w + 192);
    __m256i q[8];  // register 4h + g: elements 128h + 32g .. +31, sub-blocks 8h+2g, 8h+2g+1
    #pragma GCC unroll 8
    for (int h = 0; h < 2; ++h) {
      const __m256i a = load(w + 64 * h), c = load(w + 64 * h + 32), qh = load(w + 128 + 32 * h);
      auto high = [&](int shift) {
        return _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, shift), three), 4);
      };
      q[4 * h] = _mm256_or_si256(_mm256_and_si256(a, low4), high(0));
      q[4 * h + 1] = _mm256_or_si256(_mm256_and_si256(c, low4), high(2));
      q[4 * h + 2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(a, 4), low4), high(4));
      q[4 * h + 3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(c, 4), low4), high(6));
    }
    // Register r's scales: sub-block 2r in the low 8 int16 lanes, 2r+1 in the high ones,
    // picked by vpshufb from the 8 int16 scales of its half of the block in both lanes.
    const __m128i sc8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(sc));
    const __m256i sc16 = _mm256_cvtepi8_epi16(sc8);
    const __m256i halves[2] = {_mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(sc8)),
                               _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(_mm_srli_si128(sc8, 8)))};
    __m256i scale[8];
    #pragma GCC unroll 8
    for (int r = 0; r < 8; ++r) {
      const int lo = 4 * (r % 4), hi = lo + 2;  // byte offsets of int16 2r and 2r+1 in a half
      const __m256i pick = _mm256_setr_epi8(
          lo, lo + 1, lo, lo + 1, lo, lo + 1, lo, lo + 1, lo, lo + 1, lo, lo + 1, lo, lo + 1, lo, lo + 1,
          hi, hi + 1, hi, hi + 1, hi, hi + 1, hi, hi + 1, hi, hi + 1, hi, hi + 1, hi, hi + 1, hi, hi + 1);
      scale[r] = _mm256_shuffle_epi8(halves[r / 4], pick);
    }
    const float d = f16(w + 208);
    #pragma GCC unroll 8
    for (int t = 0; t < NT; ++t) {
      const uint8_t* xt = x + 292 * t;
      __m256i isum = _mm256_slli_epi32(_mm256_madd_epi16(load(xt + 260), sc16), 5);
      isum = _mm256_sub_epi32(_mm256_setzero_si256(), isum);
      #pragma GCC unroll 8
      for (int r = 0; r < 8; ++r)
        isum = _mm256_add_epi32(isum, dot_u8(q[r], load(xt + 4 + 32 * r), scale[r]));
      acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(d * f32(xt)), _mm256_cvtepi32_ps(isum), acc[t]);
    }
  }
  #pragma GCC unroll 8
  for (int t = 0; t < NT; ++t) out[t] = hsum(acc[t]);
}

// Q4_K repacked eight rows at a time (rows8.h) against Q8_K, NT tokens: a register holds
// four columns of each of the 8 rows, multiplied by one token's four activations broadcast
// (vpmaddubsw), so every lane is a row. The int16 products of a 32-column sub-block are
// summed before its scale is applied: each is at most 2·15·127, and eight of them fit in
// int16, which halves the vpmaddwd count of the GGUF-row kernel.
template <int NT>
void rows8_q4_k(const uint8_t* w, const QActivations& xa, int64_t n, float* out) {
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  // Sub-block j's scale of row r in int16 lanes 2r and 2r+1, from byte r of 8.
  const __m256i pick_scale = _mm256_setr_epi8(0, -1, 0, -1, 1, -1, 1, -1, 2, -1, 2, -1, 3, -1, 3, -1,
                                              4, -1, 4, -1, 5, -1, 5, -1, 6, -1, 6, -1, 7, -1, 7, -1);
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
      __m256i p16[NT];
      #pragma GCC unroll 8
      for (int t = 0; t < NT; ++t) p16[t] = _mm256_setzero_si256();
      // Not unrolled: unrolled, gcc computes the 32 products first and spills them.
      #pragma GCC unroll 1
      for (int p = 0; p < 4; ++p) {
        const __m256i v = load(qs + 32 * p);
        const __m256i q0 = _mm256_and_si256(v, low4), q1 = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
        #pragma GCC unroll 8
        for (int t = 0; t < NT; ++t) {
          const uint8_t* xt = x + 292 * t + 4 + 32 * j + 8 * p;
          int32_t a0, a1;
          std::memcpy(&a0, xt, 4);
          std::memcpy(&a1, xt + 4, 4);
          p16[t] = _mm256_add_epi16(p16[t], _mm256_maddubs_epi16(q0, _mm256_set1_epi32(a0)));
          p16[t] = _mm256_add_epi16(p16[t], _mm256_maddubs_epi16(q1, _mm256_set1_epi32(a1)));
        }
      }
      int64_t sc8;
      std::memcpy(&sc8, w + 32 + 8 * j, 8);
      const __m256i sc = _mm256_shuffle_epi8(_mm256_set1_epi64x(sc8), pick_scale);
      #pragma GCC unroll 8
      for (int t = 0; t < NT; ++t)
        isum[t] = _mm256_add_epi32(isum[t], _mm256_madd_epi16(p16[t], sc));
    }
    rows8_q4_k_add<NT>(w, x, isum, out);
  }
}

// Column quads 2p and 2p + 1 of a repacked Q5_0 or Q8_0 block (rows8.h) as signed bytes,
// q[h] holding quad 2p + h of the 8 rows.
template <DType T>
void rows8_small_quads(const uint8_t* w, int p, __m256i* q) {
  if constexpr (T == DType::Q5_0) {
    const __m256i v = load(w + 48 + 32 * p), low4 = _mm256_set1_epi8(0x0f);
    // Fifth bits of quads 2p and 2p + 1 moved to bits 0 and 1, then to bit 4.
    const __m256i h = _mm256_srl_epi16(load(w + 16), _mm_cvtsi32_si128(2 * p));
    const __m256i bit4 = _mm256_set1_epi8(0x10), sixteen = _mm256_set1_epi8(16);
    q[0] = _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(v, low4),
                                           _mm256_and_si256(_mm256_slli_epi16(h, 4), bit4)), sixteen);
    q[1] = _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v, 4), low4),
                                           _mm256_and_si256(_mm256_slli_epi16(h, 3), bit4)), sixteen);
  } else {
    static_assert(T == DType::Q8_0);
    q[0] = load(w + 16 + 64 * p);
    q[1] = load(w + 48 + 64 * p);
  }
}

// Q5_0 / Q8_0 repacked eight rows at a time (rows8.h) against Q8_0, NT tokens, as
// rows8_q4_k: a register is a column quad of 8 rows times one token's quad broadcast. The
// weights are signed, so their magnitudes go to vpmaddubsw and their signs onto the
// activations (vpsignb). Q5_0's eight products of a block fit int16 (2·16·127 each) and are
// summed before one vpmaddwd; Q8_0's (2·127·127) each take their own.
template <DType T, int NT>
void rows8_small(const uint8_t* w, const QActivations& x, int64_t n, float* out) {
  constexpr bool five = T == DType::Q5_0;
  const __m256i ones16 = _mm256_set1_epi16(1);
  __m256 acc[NT];
  #pragma GCC unroll 8
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / 32; ++b, w += five ? 176 : 272) {
    const uint8_t* xb = x.q + 34 * x.pitch * b + 2;  // token t's quants at xb + 34t
    const float* db = x.d + x.pitch * b;
    __m256i sum[NT];  // int16 lanes for Q5_0, int32 for Q8_0
    #pragma GCC unroll 8
    for (int t = 0; t < NT; ++t) sum[t] = _mm256_setzero_si256();
    #pragma GCC unroll 1
    for (int p = 0; p < 4; ++p) {  // column quads 2p and 2p + 1
      __m256i q[2];
      rows8_small_quads<T>(w, p, q);
      #pragma GCC unroll 2
      for (int h = 0; h < 2; ++h) {
        const __m256i aq = _mm256_abs_epi8(q[h]);
        #pragma GCC unroll 8
        for (int t = 0; t < NT; ++t) {
          int32_t a;
          std::memcpy(&a, xb + 34 * t + 8 * p + 4 * h, 4);
          const __m256i prod = _mm256_maddubs_epi16(aq, _mm256_sign_epi8(_mm256_set1_epi32(a), q[h]));
          sum[t] = five ? _mm256_add_epi16(sum[t], prod)
                        : _mm256_add_epi32(sum[t], _mm256_madd_epi16(prod, ones16));
        }
      }
    }
    const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w)));
    #pragma GCC unroll 8
    for (int t = 0; t < NT; ++t) {
      const __m256i i32 = five ? _mm256_madd_epi16(sum[t], ones16) : sum[t];
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i32), _mm256_mul_ps(dw, _mm256_set1_ps(db[t])), acc[t]);
    }
  }
  #pragma GCC unroll 8
  for (int t = 0; t < NT; ++t) _mm256_storeu_ps(out + 8 * t, acc[t]);
}

// The kernels as by_tokens takes them: run<NT> is the instantiation for NT tokens.
template <DType T>
struct Small {
  template <int NT>
  static constexpr auto run = &dot_small<T, NT>;
};
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
template <DType T>
struct Rows8Small {
  template <int NT>
  static constexpr auto run = &rows8_small<T, NT>;
};

}  // namespace

DotFn avx2_kernel(DType weight) {
  switch (weight) {
    case DType::Q4_0: return by_tokens<Small<DType::Q4_0>, 8, 34>;
    case DType::Q4_1: return by_tokens<Small<DType::Q4_1>, 8, 34>;
    case DType::Q5_0: return by_tokens<Small<DType::Q5_0>, 8, 34>;
    case DType::Q5_1: return by_tokens<Small<DType::Q5_1>, 8, 34>;
    case DType::Q8_0: return by_tokens<Small<DType::Q8_0>, 8, 34>;
    case DType::Q4_K: return by_tokens<Q45K<false>, 4, 292>;
    case DType::Q5_K: return by_tokens<Q45K<true>, 4, 292>;
    case DType::Q6_K: return by_tokens<Q6K, 4, 292>;
    default: return nullptr;
  }
}

Rows8Fn avx2_rows8_kernel(DType weight) {
  switch (weight) {
    case DType::Q4_K: return by_tokens<Rows8Q4K, 4, 292, kRows8>;
    case DType::Q5_0: return by_tokens<Rows8Small<DType::Q5_0>, 4, 34, kRows8>;
    case DType::Q8_0: return by_tokens<Rows8Small<DType::Q8_0>, 4, 34, kRows8>;
    default: return nullptr;
  }
}

}  // namespace brickc::cpu::simd

#else

namespace brickc::cpu::simd {
DotFn avx2_kernel(DType) { return nullptr; }
Rows8Fn avx2_rows8_kernel(DType) { return nullptr; }
}  // namespace brickc::cpu::simd

#endif
