// The attention kernels of simd/attention.h as one template over a vector set S (AVX2's
// 8 floats, AVX-512's 16), included by attention_avx2.cpp and attention_avx512.cpp, each
// built for its instruction set. Internal linkage, as qdot_x86.h explains.
//
// The loops over a block's queries, keys and vectors are unrolled so that its accumulators
// stay in registers (-O2 does not unroll them; in memory, every FMA waited on a store).
//
// Scores: a register block of QB queries × KB keys, each score one accumulator of
// head_dim / W lane-wise FMAs then one horizontal sum, so every query and key is loaded
// once per block rather than once per pair. A whole block's sums are reduced together
// (S::store_sums: the shuffles of one sum serve several), adding the same lanes in the
// same pairs as S::sum does for one, so that a score's value does not depend on its block. Weighted sums: QB queries × DB vectors of the
// output in registers, each value vector loaded once for the QB queries and each
// probability broadcast once for the DB vectors.
#pragma once
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "runtime/cpu/simd/attention.h"

namespace brickc::cpu::simd {
namespace {

template <class S>
struct Attention {
  using V = typename S::V;
  static constexpr int W = S::kWidth;

  template <int QB, int KB>
  static void score_block(const AttentionChunk& c, int64_t i, int64_t j, float* p, int64_t ps) {
    V acc[QB][KB];
    #pragma GCC unroll 4
    for (auto& row : acc)
      #pragma GCC unroll 4
      for (V& a : row) a = S::zero();
    for (int64_t d = 0; d < c.head_dim; d += W) {
      V k[KB];
      #pragma GCC unroll 4
      for (int b = 0; b < KB; ++b) k[b] = S::load(c.kv + (j + b) * c.kv_stride + d);
      #pragma GCC unroll 4
      for (int a = 0; a < QB; ++a) {
        const V q = S::load(c.q + (i + a) * c.q_stride + d);
        #pragma GCC unroll 4
        for (int b = 0; b < KB; ++b) acc[a][b] = S::fma(q, k[b], acc[a][b]);
      }
    }
    if constexpr (QB == S::kQueries && KB == S::kKeys) {
      S::store_sums(acc, p + i * ps + j, ps);
    } else {
      #pragma GCC unroll 4
      for (int a = 0; a < QB; ++a)
        #pragma GCC unroll 4
        for (int b = 0; b < KB; ++b) p[(i + a) * ps + j + b] = S::sum(acc[a][b]);
    }
  }

  // One query's keys from j on, KB at a time then one at a time.
  static void score_row(const AttentionChunk& c, int64_t i, int64_t j, float* p, int64_t ps) {
    for (; j + S::kKeys <= c.end(i); j += S::kKeys) score_block<1, S::kKeys>(c, i, j, p, ps);
    for (; j < c.end(i); ++j) score_block<1, 1>(c, i, j, p, ps);
  }

  // Queries i .. i + QB - 1: the keys all of them read (the first ends first) in blocks,
  // then each one's own.
  template <int QB>
  static void score_queries(const AttentionChunk& c, int64_t i, float* p, int64_t ps) {
    constexpr int KB = S::kKeys;
    int64_t j = 0;
    for (; j + KB <= c.end(i); j += KB) score_block<QB, KB>(c, i, j, p, ps);
    for (int a = 0; a < QB; ++a) score_row(c, i + a, j, p, ps);
  }

  // Blocks of kQueries, then one of 2 (a decode step's 6 or 7 heads of a kv head read each
  // key once for 4 and once for 2, not once for each of the last ones), then single ones.
  static void scores(const AttentionChunk& c, float* p, int64_t ps) {
    constexpr int QB = S::kQueries;
    int64_t i = 0;
    for (; i + QB <= c.n_queries; i += QB) score_queries<QB>(c, i, p, ps);
    if (i + 2 <= c.n_queries) {
      score_queries<2>(c, i, p, ps);
      i += 2;
    }
    for (; i < c.n_queries; ++i) score_row(c, i, 0, p, ps);
  }

  // Queries i .. i + QB - 1, output vectors d .. d + DB·W: the keys all of them read, then
  // each one's own last keys, every element's terms added in key order.
  template <int QB>
  static void weigh_block(const AttentionChunk& c, int64_t i, int64_t d, const float* p,
                          int64_t ps, float* out) {
    constexpr int DB = S::kDims;
    V acc[QB][DB];
    #pragma GCC unroll 4
    for (int a = 0; a < QB; ++a)
      #pragma GCC unroll 4
      for (int v = 0; v < DB; ++v) acc[a][v] = S::load(out + (i + a) * c.q_stride + d + v * W);
    int64_t j = 0;
    for (; j < c.end(i); ++j) {
      V val[DB];
      #pragma GCC unroll 4
      for (int v = 0; v < DB; ++v) val[v] = S::load(c.kv + j * c.kv_stride + d + v * W);
      #pragma GCC unroll 4
      for (int a = 0; a < QB; ++a) {
        const V w = S::set1(p[(i + a) * ps + j]);
        #pragma GCC unroll 4
        for (int v = 0; v < DB; ++v) acc[a][v] = S::fma(w, val[v], acc[a][v]);
      }
    }
    #pragma GCC unroll 4
    for (int a = 1; a < QB; ++a)
      for (int64_t jj = j; jj < c.end(i + a); ++jj) {
        const V w = S::set1(p[(i + a) * ps + jj]);
        #pragma GCC unroll 4
        for (int v = 0; v < DB; ++v)
          acc[a][v] = S::fma(w, S::load(c.kv + jj * c.kv_stride + d + v * W), acc[a][v]);
      }
    #pragma GCC unroll 4
    for (int a = 0; a < QB; ++a)
      #pragma GCC unroll 4
      for (int v = 0; v < DB; ++v) S::store(out + (i + a) * c.q_stride + d + v * W, acc[a][v]);
  }

  static void weigh(const AttentionChunk& c, const float* p, int64_t ps, float* out) {
    constexpr int QB = S::kQueries, DB = S::kDims;
    for (int64_t d = 0; d < c.head_dim; d += DB * W) {
      int64_t i = 0;
      for (; i + QB <= c.n_queries; i += QB) weigh_block<QB>(c, i, d, p, ps, out);
      if (i + 2 <= c.n_queries) {
        weigh_block<2>(c, i, d, p, ps, out);
        i += 2;
      }
      for (; i < c.n_queries; ++i) weigh_block<1>(c, i, d, p, ps, out);
    }
  }

  // e^x = 2^n · e^r with n = round(x·log2 e) and r = x − n·ln 2 (ln 2 in two parts, the
  // first exact in f32 with n's bits, so r is exact), |r| <= ln 2 / 2, and e^r by its
  // Taylor series to r^6 (truncation below 1e-7 relative). x is clamped to [−86, 88] so
  // that 2^n · e^r stays a normal float.
  static V exp(V x) {
    x = S::min(S::max(x, S::set1(-86.0f)), S::set1(88.0f));
    const V n = S::round(S::mul(x, S::set1(1.44269504088896f)));
    V r = S::fma(n, S::set1(-0.693145751953125f), x);
    r = S::fma(n, S::set1(-1.428606765330187e-06f), r);
    V e = S::set1(1.0f / 720);
    for (float c : {1.0f / 120, 1.0f / 24, 1.0f / 6, 0.5f, 1.0f, 1.0f}) e = S::fma(e, r, S::set1(c));
    return S::scale2(e, n);
  }

  // f(v) on p[0 .. n) in W-wide pieces, the last one through a buffer padded with `pad`.
  template <class F>
  static void each(float* p, int64_t n, float pad, F f) {
    int64_t j = 0;
    for (; j + W <= n; j += W) S::store(p + j, f(S::load(p + j), W));
    if (j == n) return;
    float tail[W];
    std::fill(tail, tail + W, pad);
    std::copy(p + j, p + n, tail);
    S::store(tail, f(S::load(tail), static_cast<int>(n - j)));
    std::copy(tail, tail + (n - j), p + j);
  }

  static void softmax(float* p, int64_t n, float scale, bool f16) {
    const float inf = std::numeric_limits<float>::infinity();
    V top = S::set1(-inf);
    each(p, n, -inf, [&](V v, int) {
      v = S::mul(v, S::set1(scale));
      top = S::max(top, v);
      return v;
    });
    const V m = S::set1(S::max_lane(top));
    double sum = 0.0;
    typename S::Sums sums{};
    each(p, n, -inf, [&](V v, int lanes) {
      const V e = exp(S::sub(v, m));
      if (lanes == W) {
        S::add_sums(sums, e);
      } else {
        float t[W];
        S::store(t, e);
        for (int k = 0; k < lanes; ++k) sum += t[k];
      }
      return e;
    });
    const V inv = S::set1(static_cast<float>(1.0 / (S::total(sums) + sum)));
    each(p, n, 0.0f, [&](V v, int) {
      v = S::mul(v, inv);
      return f16 ? S::round_f16(v) : v;
    });
  }

  static void to_f16(const float* x, uint16_t* y, int64_t n) {
    int64_t i = 0;
    for (; i + W <= n; i += W) S::store_f16(y + i, S::load(x + i));
    for (; i < n; ++i) y[i] = _cvtss_sh(x[i], _MM_FROUND_TO_NEAREST_INT);
  }

  static void from_f16(const uint16_t* x, float* y, int64_t n) {
    int64_t i = 0;
    for (; i + W <= n; i += W) S::store(y + i, S::load_f16(x + i));
    for (; i < n; ++i) y[i] = _cvtsh_ss(x[i]);
  }

  static void from_q8_0(const uint8_t* x, float* y, int64_t n) {
    for (int64_t b = 0; b < n / 32; ++b, x += 34, y += 32) {
      const V d = S::set1(_cvtsh_ss(static_cast<uint16_t>(x[0] | x[1] << 8)));
      for (int i = 0; i < 32; i += W) S::store(y + i, S::mul(d, S::load_i8(x + 2 + i)));
    }
  }

  static void swiglu(const float* g, const float* u, float* y, int64_t n) {
    int64_t i = 0;
    for (; i + W <= n; i += W) {
      const V x = S::load(g + i);
      const V e = exp(S::sub(S::zero(), x));
      S::store(y + i, S::mul(S::div(x, S::add(S::set1(1.0f), e)), S::load(u + i)));
    }
    for (; i < n; ++i) y[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
  }

  // The head sizes these blocks cover: whole output blocks of DB vectors.
  static AttentionKernels for_head(int64_t head_dim) {
    if (head_dim <= 0 || head_dim % (S::kDims * W) != 0) return {};
    return {&scores, &weigh, &softmax, &to_f16, &from_f16, &from_q8_0, &swiglu};
  }
};

}  // namespace
}  // namespace brickc::cpu::simd
