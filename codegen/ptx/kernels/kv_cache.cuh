// A KV cache position on the GPU (codegen/ptx/lower.h: gpu_cache_position_bytes), and the
// stores and loads that every cache kernel shares. A position is its NKV x HD values in
// [head][dim] order: f16; or q8_0, int8 values, then one f16 scale per 32 of them, padded to
// 16 bytes. The q8_0 scales after the values (not llama.cpp's 34-byte blocks) keep the
// values of a head's row 16-byte aligned, so that the tensor-core paths copy them with
// cp.async: decode attention feeds them to its MMAs as int8 (attention.cuh: attention_mma),
// prefill's flash attention widens them to f16 tiles (kv_q8_widen).
#pragma once
#include "activations.cuh"
#include "tensor_core.cuh"

template <int HD, int NKV, bool Q8>
struct KvCache {
  static constexpr int kValues = NKV * HD;
  static constexpr int kBytes = Q8 ? (kValues + kValues / 16 + 15) / 16 * 16 : kValues * 2;
  static constexpr int kRowBytes = Q8 ? HD : HD * 2;  // a head's values at one position
  static constexpr int kScaleBytes = HD / 16;         // a head's q8_0 scales at one position

  // Bytes from the cache's start to head h of position p.
  __device__ static long long row(long long p, int h) { return p * kBytes + h * kRowBytes; }
  // ... to the first q8_0 scale of head h of position p.
  __device__ static long long scales(long long p, int h) { return p * kBytes + kValues + h * kScaleBytes; }

  // Stores value x at dimension d of head h in position `at` (the position's first byte).
  // For q8_0, the 32 lanes of the warp store the 32 values of one block together (lane l
  // dimension d0 + l), rounded as round32 rounds them.
  __device__ static void store(u8* at, int h, int d, float x) {
    if constexpr (Q8) {
      float scale;
      at[h * HD + d] = static_cast<u8>(static_cast<i8>(round32(x, scale)));
      if (d % 32 == 0) reinterpret_cast<u16*>(at + kValues)[(h * HD + d) / 32] = f2h(scale);
    } else {
      reinterpret_cast<u16*>(at)[h * HD + d] = f2h(x);
    }
  }

  // Dimensions 8c .. 8c + 7 of head h at position p, read through L2 (the cache is written
  // in the same step by another kernel or task): f16, one 16-byte load; q8_0, 8 bytes and
  // their scale, in x, y and z.
  __device__ static uint4 load8(const u8* cache, long long p, int h, int c) {
    if constexpr (Q8) {
      const uint2 q = __ldcg(reinterpret_cast<const uint2*>(cache + row(p, h) + 8 * c));
      const u16 s = __ldcg(reinterpret_cast<const unsigned short*>(cache + scales(p, h)) + c / 4);
      return make_uint4(q.x, q.y, s, 0u);
    } else {
      return __ldcg(reinterpret_cast<const uint4*>(cache + row(p, h)) + c);
    }
  }

  // load8's eight values as floats.
  __device__ static void unpack8(const uint4 v, float (&f)[8]) {
    if constexpr (Q8) {
      const float s = h2f(static_cast<u16>(v.z));
#pragma unroll
      for (int k = 0; k < 8; ++k)
        f[k] = static_cast<float>(static_cast<i8>((k < 4 ? v.x : v.y) >> (8 * (k % 4)))) * s;
    } else {
      const u32 w[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
      for (int k = 0; k < 4; ++k) {
        f[2 * k] = h2f(static_cast<u16>(w[k] & 0xFFFFu));
        f[2 * k + 1] = h2f(static_cast<u16>(w[k] >> 16));
      }
    }
  }
};

// The q8_0 tensor-core paths stage a tile of R rows of one head in shared memory as its R
// x HD int8 values, then R x HD / 16 bytes of scales.
__host__ __device__ constexpr int kv_q8_tile_bytes(int hd, int rows) { return rows * (hd + hd / 16); }

// Copies (cp.async) 16-byte chunk ch of the values of head h at position p to `values`,
// and with ch == 0 the row's scales to `scales`. `valid` false zero-fills.
template <int HD, int NKV>
__device__ __forceinline__ void kv_q8_copy(u32 values, u32 scales, const u8* cache, long long p, int h, int ch,
                                           bool valid) {
  using Kv = KvCache<HD, NKV, true>;
  cp_async16(values, cache + Kv::row(p, h) + 16 * ch, valid);
  if (ch == 0)
    asm volatile("cp.async.ca.shared.global [%0], [%1], %2, %3;" ::"r"(scales), "l"(cache + Kv::scales(p, h)),
                 "n"(Kv::kScaleBytes), "r"(valid ? Kv::kScaleBytes : 0)
                 : "memory");
}

// Two int8 values of w ^ 0x80808080 (bytes Sel & 3 and (Sel >> 8) & 3, as a prmt selector
// 0x4y4x) as exact f16 integers: each biased byte u = x + 128 becomes the f16 1024 + u,
// from which 1152 is subtracted.
template <u32 Sel>
__device__ __forceinline__ u32 i8x2_to_f16x2(u32 w) {
  u32 h;
  asm("prmt.b32 %0, %1, %2, %3;" : "=r"(h) : "r"(w), "r"(0x64646464u), "n"(Sel));
  asm("sub.f16x2 %0, %0, %1;" : "+r"(h) : "r"(0x64806480u));
  return h;
}

// Widens a staged q8_0 tile of R rows (at `src`: rows of HD values, then their scales) into
// the f16 tile at `dst`, whose 16-byte chunk c of row r sits at swz(r, c); N threads, t this
// one. Each value is an exact f16 integer times its f16 scale, rounded once (as the f32
// product rounded to f16 would be).
template <int HD, int R, int N, class Swz>
__device__ __forceinline__ void kv_q8_widen(const u8* src, u8* dst, Swz swz, unsigned t) {
  constexpr int C = HD / 8;  // f16 chunks of a row: 8 values each
  static_assert(R * C % N == 0, "whole chunks per thread");
#pragma unroll 2
  for (int i = 0; i < R * C / N; ++i) {
    const int x = t + i * N, r = x / C, c = x % C;
    const uint2 q = *reinterpret_cast<const uint2*>(src + r * HD + 8 * c);
    const u32 s = reinterpret_cast<const u16*>(src + R * HD)[r * (HD / 32) + c / 4] * 0x10001u;
    const u32 lo = q.x ^ 0x80808080u, hi = q.y ^ 0x80808080u;
    const u32 h[4] = {i8x2_to_f16x2<0x4140>(lo), i8x2_to_f16x2<0x4342>(lo), i8x2_to_f16x2<0x4140>(hi),
                      i8x2_to_f16x2<0x4342>(hi)};
    u32 o[4];
#pragma unroll
    for (int k = 0; k < 4; ++k) asm("mul.rn.f16x2 %0, %1, %2;" : "=r"(o[k]) : "r"(h[k]), "r"(s));
    *reinterpret_cast<uint4*>(dst + swz(r, c)) = make_uint4(o[0], o[1], o[2], o[3]);
  }
}
