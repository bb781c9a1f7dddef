// The AVX2 kernels (this file alone is built with -mavx2 -mfma -mf16c; qdot.cpp calls it
// only where cpuid says so). 32 weights per 256-bit register: 4- to 6-bit quants are
// unpacked to bytes with shifts and masks, multiplied with the int8 activations by
// vpmaddubsw (unsigned × signed → int16 pairs; |q| ≤ 63 so no pair saturates) and summed
// to int32 by vpmaddwd, whose second operand carries the sub-block scale for free.
// Only qdot.h is included besides the intrinsics: an inline function of a shared header
// compiled here with AVX2 could be the copy the linker keeps for the whole program.
#include "runtime/cpu/simd/qdot.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include <cstring>

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

float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

int hsum(__m128i s) {
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(s);
}

int hsum(__m256i v) {
  return hsum(_mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1)));
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

// Formats with 32-element blocks against Q8_0 (layouts in qdot_portable.cpp).
template <DType T, int NT>
void dot_small(const uint8_t* w, const uint8_t* x, uint64_t xs, int64_t n, float* out) {
  constexpr bool has_min = T == DType::Q4_1 || T == DType::Q5_1;
  constexpr bool five = T == DType::Q5_0 || T == DType::Q5_1;
  constexpr int block = T == DType::Q8_0 ? 34 : 2 + (has_min ? 2 : 0) + (five ? 4 : 0) + 16;
  const __m256i ones16 = _mm256_set1_epi16(1);
  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / 32; ++b, w += block, x += 34) {
    const float dw = f16(w);
    // The block's quants as bytes: signed (q − offset) for the _0 types, whose sign then
    // moves onto the activations; unsigned for the _1 types, whose minimum m·Σx is apart.
    __m256i q;
    if constexpr (T == DType::Q8_0) {
      q = load(w + 2);
    } else {
      q = nibbles(w + (has_min ? 4 : 2) + (five ? 4 : 0));
      if constexpr (five) {
        uint32_t qh;
        std::memcpy(&qh, w + (has_min ? 4 : 2), 4);
        q = _mm256_or_si256(q, _mm256_and_si256(bit_mask(qh), _mm256_set1_epi8(16)));
      }
      if constexpr (!has_min) q = _mm256_sub_epi8(q, _mm256_set1_epi8(five ? 16 : 8));
    }
    const __m256i qa = has_min ? q : _mm256_sign_epi8(q, q);
    for (int t = 0; t < NT; ++t) {
      const uint8_t* xt = x + xs * static_cast<uint64_t>(t);
      const __m256i xq = load(xt + 2);
      const float dx = f16(xt);
      const __m256i p = dot_u8(qa, has_min ? xq : _mm256_sign_epi8(xq, q), ones16);
      acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(dw * dx), _mm256_cvtepi32_ps(p), acc[t]);
      if constexpr (has_min) {
        const __m256i sx = dot_u8(_mm256_set1_epi8(1), xq, ones16);
        acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(f16(w + 2) * dx), _mm256_cvtepi32_ps(sx), acc[t]);
      }
    }
  }
  for (int t = 0; t < NT; ++t) out[t] = hsum(acc[t]);
}

// Σ_j m_j · (sum of sub-block j's 32 activations), from a Q8_K block's 16 sums of 16.
int mins_dot(const uint8_t* x, const int16_t* m) {
  const __m128i bs = _mm_hadd_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + 260)),
                                    _mm_loadu_si128(reinterpret_cast<const __m128i*>(x + 276)));
  return hsum(_mm_madd_epi16(bs, _mm_loadu_si128(reinterpret_cast<const __m128i*>(m))));
}

// Q4_K / Q5_K against Q8_K: the 8 sub-blocks unpacked to 8 registers of bytes.
template <bool Five, int NT>
void dot_q45_k(const uint8_t* w, const uint8_t* x, uint64_t xs, int64_t n, float* out) {
  const __m256i low4 = _mm256_set1_epi8(0x0f), one = _mm256_set1_epi8(1);
  float sum[NT] = {};
  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / 256; ++b, w += Five ? 176 : 144, x += 292) {
    const uint8_t* s = w + 4;
    int16_t sc[8], m[8];
    for (int j = 0; j < 4; ++j) {
      sc[j] = static_cast<int16_t>(s[j] & 63);
      m[j] = static_cast<int16_t>(s[j + 4] & 63);
      sc[j + 4] = static_cast<int16_t>((s[j + 8] & 0x0f) | ((s[j] >> 6) << 4));
      m[j + 4] = static_cast<int16_t>((s[j + 8] >> 4) | ((s[j + 4] >> 6) << 4));
    }
    const uint8_t* qs = w + (Five ? 48 : 16);
    __m256i q[8];  // sub-block j: elements 32j .. 32j+31
    for (int c = 0; c < 4; ++c) {
      const __m256i v = load(qs + 32 * c);
      q[2 * c] = _mm256_and_si256(v, low4);
      q[2 * c + 1] = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
      if constexpr (Five) {
        const __m256i qh = load(w + 16);
        q[2 * c] = _mm256_or_si256(
            q[2 * c], _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c), one), 4));
        q[2 * c + 1] = _mm256_or_si256(
            q[2 * c + 1],
            _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c + 1), one), 4));
      }
    }
    const float d = f16(w), dmin = f16(w + 2);
    for (int t = 0; t < NT; ++t) {
      const uint8_t* xt = x + xs * static_cast<uint64_t>(t);
      __m256i isum = _mm256_setzero_si256();
      for (int j = 0; j < 8; ++j)
        isum = _mm256_add_epi32(isum, dot_u8(q[j], load(xt + 4 + 32 * j), _mm256_set1_epi16(sc[j])));
      const float dx = f32(xt);
      acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(d * dx), _mm256_cvtepi32_ps(isum), acc[t]);
      sum[t] -= dmin * dx * static_cast<float>(mins_dot(xt, m));
    }
  }
  for (int t = 0; t < NT; ++t) out[t] = hsum(acc[t]) + sum[t];
}

// Q6_K against Q8_K: q in 0..63 through vpmaddubsw, the −32 offset applied once per block
// from the Q8_K block sums.
template <int NT>
void dot_q6_k(const uint8_t* w, const uint8_t* x, uint64_t xs, int64_t n, float* out) {
  const __m256i low4 = _mm256_set1_epi8(0x0f), three = _mm256_set1_epi8(3);
  float sum[NT] = {};
  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / 256; ++b, w += 210, x += 292) {
    const int8_t* sc = reinterpret_cast<const int8_t*>(w + 192);
    __m256i q[8];  // register 4h + g: elements 128h + 32g .. +31, sub-blocks 8h+2g, 8h+2g+1
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
    const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sc)));
    const float d = f16(w + 208);
    for (int t = 0; t < NT; ++t) {
      const uint8_t* xt = x + xs * static_cast<uint64_t>(t);
      __m256i isum = _mm256_setzero_si256();
      for (int r = 0; r < 8; ++r) {
        const __m256i scale = _mm256_set_m128i(_mm_set1_epi16(sc[2 * r + 1]), _mm_set1_epi16(sc[2 * r]));
        isum = _mm256_add_epi32(isum, dot_u8(q[r], load(xt + 4 + 32 * r), scale));
      }
      const float dx = d * f32(xt);
      acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(dx), _mm256_cvtepi32_ps(isum), acc[t]);
      sum[t] -= dx * static_cast<float>(32 * hsum(_mm256_madd_epi16(load(xt + 260), sc16)));
    }
  }
  for (int t = 0; t < NT; ++t) out[t] = hsum(acc[t]) + sum[t];
}

// One DotFn per format: nt picks the instantiation.
template <template <int> class K>
void by_tokens(const uint8_t* w, const uint8_t* x, uint64_t xs, int nt, int64_t n, float* out) {
  switch (nt) {
    case 1: return K<1>::run(w, x, xs, n, out);
    case 2: return K<2>::run(w, x, xs, n, out);
    case 3: return K<3>::run(w, x, xs, n, out);
    default: return K<4>::run(w, x, xs, n, out);
  }
}

template <DType T>
struct Small {
  template <int NT>
  struct K {
    static void run(const uint8_t* w, const uint8_t* x, uint64_t xs, int64_t n, float* o) {
      dot_small<T, NT>(w, x, xs, n, o);
    }
  };
};
template <bool Five>
struct Q45K {
  template <int NT>
  struct K {
    static void run(const uint8_t* w, const uint8_t* x, uint64_t xs, int64_t n, float* o) {
      dot_q45_k<Five, NT>(w, x, xs, n, o);
    }
  };
};
template <int NT>
struct Q6K {
  static void run(const uint8_t* w, const uint8_t* x, uint64_t xs, int64_t n, float* o) {
    dot_q6_k<NT>(w, x, xs, n, o);
  }
};

}  // namespace

DotFn avx2_kernel(DType weight) {
  switch (weight) {
    case DType::Q4_0: return by_tokens<Small<DType::Q4_0>::K>;
    case DType::Q4_1: return by_tokens<Small<DType::Q4_1>::K>;
    case DType::Q5_0: return by_tokens<Small<DType::Q5_0>::K>;
    case DType::Q5_1: return by_tokens<Small<DType::Q5_1>::K>;
    case DType::Q8_0: return by_tokens<Small<DType::Q8_0>::K>;
    case DType::Q4_K: return by_tokens<Q45K<false>::K>;
    case DType::Q5_K: return by_tokens<Q45K<true>::K>;
    case DType::Q6_K: return by_tokens<Q6K>;
    default: return nullptr;
  }
}

}  // namespace brickc::cpu::simd

#else

namespace brickc::cpu::simd {
DotFn avx2_kernel(DType) { return nullptr; }
}  // namespace brickc::cpu::simd

#endif
