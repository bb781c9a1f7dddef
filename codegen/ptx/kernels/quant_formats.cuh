// The weight formats as the matvec and embed kernels see them: block geometry, the dot
// product of one unit of a block (kUnitSubs 32-weight sub-blocks) with the q8_1
// activation (dp4a), and the dequantization of one weight. Layouts are ggml's
// (gguf-qwen2.md §4). `dot` reads a block in a matvec segment (matvec.cuh), which starts 16-byte aligned: blocks of 144 and 176
// bytes stay 16-byte aligned, 20 and 24 4-byte aligned, and those of 18, 22, 34 or 210
// bytes only 2-byte aligned, so their words come through ld_words_a2.
#pragma once
#include "activations.cuh"

__device__ __forceinline__ u32 ld_u32_a4(const u8* p) { return *reinterpret_cast<const u32*>(p); }

// The q8_1 activation of one weight block, in shared memory (activations.cuh): the
// values of sub-block i in 16-byte chunks q8_chunk(2 (a + i)) and q8_chunk(2 (a + i) + 1)
// of qs, its scale d and s = d * sum(q) at ds[a + i]. Each dot returns the f32
// contribution of its unit's weights.
struct Q8Act {
  const int4* qs;
  const float2* ds_;
  int a;  // the block's first 32-value activation block
  __device__ void load(int i, int (&v)[8]) const {  // two 16-byte loads, not eight
    const int g = 2 * (a + i);
    const int4 x = qs[q8_chunk(g)], y = qs[q8_chunk(g + 1)];
    v[0] = x.x, v[1] = x.y, v[2] = x.z, v[3] = x.w, v[4] = y.x, v[5] = y.y, v[6] = y.z, v[7] = y.w;
  }
  __device__ float2 ds(int i) const { return ds_[a + i]; }
};

// Block a's activation in a q8_1 vector of length K laid out in shared memory at v.
template <int K>
__device__ __forceinline__ Q8Act q8_act(const u8* v, int a) {
  return {reinterpret_cast<const int4*>(v), reinterpret_cast<const float2*>(v + K), a};
}

struct FmtQ4_0 {
  static constexpr int QK = 32, BB = 18;
  static constexpr bool kInt8 = true;
  static constexpr int kUnitSubs = 1;
  __device__ static float dot(const u8* b, int, const Q8Act& act) {
    int a[8];
    act.load(0, a);
    const float2 ds = act.ds(0);
    const float d = h2f(*reinterpret_cast<const u16*>(b));
    u32 q[4];
    ld_words_a2(b + 2, q);
    int s = 0;
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      s = dp4a(static_cast<int>(q[i] & 0x0F0F0F0Fu), a[i], s);
      s = dp4a(static_cast<int>((q[i] >> 4) & 0x0F0F0F0Fu), a[i + 4], s);
    }
    return d * (ds.x * static_cast<float>(s) - 8.0f * ds.y);
  }
  __device__ static float get(const u8* b, int i) {
    const u8 q = b[2 + (i & 15)];
    return h2f(*reinterpret_cast<const u16*>(b)) *
           static_cast<float>(static_cast<int>(i < 16 ? q & 15 : q >> 4) - 8);
  }
};

struct FmtQ4_1 {
  static constexpr int QK = 32, BB = 20;
  static constexpr bool kInt8 = true;
  static constexpr int kUnitSubs = 1;
  __device__ static float dot(const u8* b, int, const Q8Act& act) {
    int a[8];
    act.load(0, a);
    const float2 ds = act.ds(0);
    const float d = h2f(*reinterpret_cast<const u16*>(b));
    const float m = h2f(*reinterpret_cast<const u16*>(b + 2));
    int s = 0;
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const u32 v = ld_u32_a4(b + 4 + 4 * i);
      s = dp4a(static_cast<int>(v & 0x0F0F0F0Fu), a[i], s);
      s = dp4a(static_cast<int>((v >> 4) & 0x0F0F0F0Fu), a[i + 4], s);
    }
    return d * ds.x * static_cast<float>(s) + m * ds.y;
  }
  __device__ static float get(const u8* b, int i) {
    const u8 q = b[4 + (i & 15)];
    return h2f(*reinterpret_cast<const u16*>(b)) * static_cast<float>(i < 16 ? q & 15 : q >> 4) +
           h2f(*reinterpret_cast<const u16*>(b + 2));
  }
};

// Bits 0..3 of h (h < 16) moved to bit 4 of bytes 0..3: the fifth bit of four 5-bit
// weights. One multiply places bit k at 4 + 8k (h * 2^(4 + 7k) for each k); the products'
// other bits land elsewhere (4 + j + 7k, j != k, all distinct: no carries) and are masked.
__device__ __forceinline__ u32 spread_bit4(u32 h) { return (h * 0x02040810u) & 0x10101010u; }

struct FmtQ5_0 {
  static constexpr int QK = 32, BB = 22;
  static constexpr bool kInt8 = true;
  static constexpr int kUnitSubs = 1;
  __device__ static float dot(const u8* b, int, const Q8Act& act) {
    int a[8];
    act.load(0, a);
    const float2 ds = act.ds(0);
    const float d = h2f(*reinterpret_cast<const u16*>(b));
    u32 w[5];  // qh, then the 16 bytes of nibbles
    ld_words_a2(b + 2, w);
    const u32 qh = w[0];
    int s = 0;
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const u32 v = w[1 + i];
      const u32 lo = (v & 0x0F0F0F0Fu) | spread_bit4((qh >> (4 * i)) & 15u);
      const u32 hi = ((v >> 4) & 0x0F0F0F0Fu) | spread_bit4((qh >> (16 + 4 * i)) & 15u);
      s = dp4a(static_cast<int>(lo), a[i], s);
      s = dp4a(static_cast<int>(hi), a[i + 4], s);
    }
    return d * (ds.x * static_cast<float>(s) - 16.0f * ds.y);
  }
  __device__ static float get(const u8* b, int i) {
    const u32 qh = ld_u32_a2(b + 2);
    const u8 q = b[6 + (i & 15)];
    const int v = (i < 16 ? q & 15 : q >> 4) | (((qh >> i) & 1u) << 4);
    return h2f(*reinterpret_cast<const u16*>(b)) * static_cast<float>(v - 16);
  }
};

struct FmtQ5_1 {
  static constexpr int QK = 32, BB = 24;
  static constexpr bool kInt8 = true;
  static constexpr int kUnitSubs = 1;
  __device__ static float dot(const u8* b, int, const Q8Act& act) {
    int a[8];
    act.load(0, a);
    const float2 ds = act.ds(0);
    const float d = h2f(*reinterpret_cast<const u16*>(b));
    const float m = h2f(*reinterpret_cast<const u16*>(b + 2));
    const u32 qh = ld_u32_a4(b + 4);
    int s = 0;
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const u32 v = ld_u32_a4(b + 8 + 4 * i);
      const u32 lo = (v & 0x0F0F0F0Fu) | spread_bit4((qh >> (4 * i)) & 15u);
      const u32 hi = ((v >> 4) & 0x0F0F0F0Fu) | spread_bit4((qh >> (16 + 4 * i)) & 15u);
      s = dp4a(static_cast<int>(lo), a[i], s);
      s = dp4a(static_cast<int>(hi), a[i + 4], s);
    }
    return d * ds.x * static_cast<float>(s) + m * ds.y;
  }
  __device__ static float get(const u8* b, int i) {
    const u32 qh = ld_u32_a2(b + 4);
    const u8 q = b[8 + (i & 15)];
    const int v = (i < 16 ? q & 15 : q >> 4) | (((qh >> i) & 1u) << 4);
    return h2f(*reinterpret_cast<const u16*>(b)) * static_cast<float>(v) +
           h2f(*reinterpret_cast<const u16*>(b + 2));
  }
};

struct FmtQ8_0 {
  static constexpr int QK = 32, BB = 34;
  static constexpr bool kInt8 = true;
  static constexpr int kUnitSubs = 1;
  __device__ static float dot(const u8* b, int, const Q8Act& act) {
    int a[8];
    act.load(0, a);
    const float2 ds = act.ds(0);
    const float d = h2f(*reinterpret_cast<const u16*>(b));
    u32 q[8];
    ld_words_a2(b + 2, q);
    int s = 0;
#pragma unroll
    for (int i = 0; i < 8; ++i) s = dp4a(static_cast<int>(q[i]), a[i], s);
    return d * ds.x * static_cast<float>(s);
  }
  __device__ static float get(const u8* b, int i) {
    return h2f(*reinterpret_cast<const u16*>(b)) * static_cast<float>(static_cast<i8>(b[2 + i]));
  }
};


// Q4_K/Q5_K: 6-bit scale and min of sub-block j (ggml's get_scale_min_k4); byte(k) is
// byte k of the 12 packed scale bytes, wherever the caller holds them.
template <class Byte>
__device__ __forceinline__ void k4_scale_min(const Byte& byte, int j, int& sc, int& m) {
  if (j < 4) {
    sc = byte(j) & 63;
    m = byte(j + 4) & 63;
  } else {
    sc = (byte(j + 4) & 0xF) | ((byte(j - 4) >> 6) << 4);
    m = (byte(j + 4) >> 4) | ((byte(j) >> 6) << 4);
  }
}

// The 6-bit scales (sc) and mins (m) of Q4_K/Q5_K sub-blocks 2p and 2p + 1, from the
// block's 16-byte header: the same bits as k4_scale_min, four sub-blocks per word, picked
// without a branch (the lanes of a warp hold different p).
__device__ __forceinline__ void k4_pair_scales(const uint4& h, int p, int (&sc)[2], int (&m)[2]) {
  const u32 scw = p < 2 ? h.y & 0x3F3F3F3Fu : (h.w & 0x0F0F0F0Fu) | ((h.y >> 2) & 0x30303030u);
  const u32 mw = p < 2 ? h.z & 0x3F3F3F3Fu : ((h.w >> 4) & 0x0F0F0F0Fu) | ((h.z >> 2) & 0x30303030u);
  const int sh = 16 * (p & 1);
  sc[0] = static_cast<int>((scw >> sh) & 0xFFu);
  sc[1] = static_cast<int>((scw >> (sh + 8)) & 0xFFu);
  m[0] = static_cast<int>((mw >> sh) & 0xFFu);
  m[1] = static_cast<int>((mw >> (sh + 8)) & 0xFFu);
}

// The scale bytes of a block in memory (they follow d and dmin).
struct K4Bytes {
  const u8* q;
  __device__ int operator()(int k) const { return q[k]; }
};

// The scale bytes of a block's 16-byte header held as a uint4 (bytes 4..15).
struct K4Header {
  const uint4& h;
  __device__ int operator()(int k) const {
    const u32 w = k < 4 ? h.y : (k < 8 ? h.z : h.w);
    return static_cast<int>((w >> (8 * (k & 3))) & 0xFFu);
  }
};

struct FmtQ4_K {
  static constexpr int QK = 256, BB = 144;
  static constexpr bool kInt8 = true;
  static constexpr int kUnitSubs = 2;
  // Unit p: sub-blocks 2p and 2p + 1, the low and high nibbles of qs[32p ..][0..32).
  __device__ static float dot(const u8* b, int p, const Q8Act& act) {
    const uint4 hdr = *reinterpret_cast<const uint4*>(b);
    int sc[2], m[2];
    k4_pair_scales(hdr, p, sc, m);
    const uint4* qs = reinterpret_cast<const uint4*>(b + 16 + 32 * p);
    const uint4 q0 = qs[0], q1 = qs[1];
    const u32 q[8] = {q0.x, q0.y, q0.z, q0.w, q1.x, q1.y, q1.z, q1.w};
    int a0[8], a1[8];
    act.load(2 * p, a0);
    act.load(2 * p + 1, a1);
    // The high nibbles stay in place (16 times their value, as unsigned bytes): one mask
    // per word instead of a shift and a mask; every term of s1 is then a multiple of 16,
    // so the shift after the loop is exact.
    int s0 = 0, s1 = 0;
#pragma unroll
    for (int i = 0; i < 8; ++i) {
      s0 = dp4a(static_cast<int>(q[i] & 0x0F0F0F0Fu), a0[i], s0);
      s1 = dp4a_us(q[i] & 0xF0F0F0F0u, a1[i], s1);
    }
    s1 >>= 4;
    const float2 d0 = act.ds(2 * p), d1 = act.ds(2 * p + 1);
    return h2f(static_cast<u16>(hdr.x & 0xFFFFu)) *
               (static_cast<float>(sc[0] * s0) * d0.x + static_cast<float>(sc[1] * s1) * d1.x) -
           h2f(static_cast<u16>(hdr.x >> 16)) *
               (static_cast<float>(m[0]) * d0.y + static_cast<float>(m[1]) * d1.y);
  }
  __device__ static float get(const u8* b, int i) {
    const int j = i >> 5, l = i & 31;
    int sc, m;
    k4_scale_min(K4Bytes{b + 4}, j, sc, m);
    const int q = (b[16 + 32 * (j >> 1) + l] >> (4 * (j & 1))) & 15;
    return h2f(*reinterpret_cast<const u16*>(b)) * static_cast<float>(sc * q) -
           h2f(*reinterpret_cast<const u16*>(b + 2)) * static_cast<float>(m);
  }
};

struct FmtQ5_K {
  static constexpr int QK = 256, BB = 176;
  static constexpr bool kInt8 = true;
  static constexpr int kUnitSubs = 2;
  // Low nibbles as Q4_K; the fifth bit of weight l of sub-block j is bit j of qh[l].
  __device__ static float dot(const u8* b, int p, const Q8Act& act) {
    const uint4 hdr = *reinterpret_cast<const uint4*>(b);
    int sc[2], m[2];
    k4_pair_scales(hdr, p, sc, m);
    const uint4* qh = reinterpret_cast<const uint4*>(b + 16);
    const uint4* qs = reinterpret_cast<const uint4*>(b + 48 + 32 * p);
    const uint4 h0 = qh[0], h1 = qh[1], q0 = qs[0], q1 = qs[1];
    const u32 h[8] = {h0.x, h0.y, h0.z, h0.w, h1.x, h1.y, h1.z, h1.w};
    const u32 q[8] = {q0.x, q0.y, q0.z, q0.w, q1.x, q1.y, q1.z, q1.w};
    int a0[8], a1[8];
    act.load(2 * p, a0);
    act.load(2 * p + 1, a1);
    int s0 = 0, s1 = 0;
#pragma unroll
    for (int i = 0; i < 8; ++i) {
      const u32 hb = h[i] >> (2 * p);
      const u32 lo = (q[i] & 0x0F0F0F0Fu) | ((hb & 0x01010101u) << 4);
      const u32 hi = ((q[i] >> 4) & 0x0F0F0F0Fu) | ((hb & 0x02020202u) << 3);
      s0 = dp4a(static_cast<int>(lo), a0[i], s0);
      s1 = dp4a(static_cast<int>(hi), a1[i], s1);
    }
    const float2 d0 = act.ds(2 * p), d1 = act.ds(2 * p + 1);
    return h2f(static_cast<u16>(hdr.x & 0xFFFFu)) *
               (static_cast<float>(sc[0] * s0) * d0.x + static_cast<float>(sc[1] * s1) * d1.x) -
           h2f(static_cast<u16>(hdr.x >> 16)) *
               (static_cast<float>(m[0]) * d0.y + static_cast<float>(m[1]) * d1.y);
  }
  __device__ static float get(const u8* b, int i) {
    const int j = i >> 5, l = i & 31;
    int sc, m;
    k4_scale_min(K4Bytes{b + 4}, j, sc, m);
    const int q = ((b[48 + 32 * (j >> 1) + l] >> (4 * (j & 1))) & 15) | (((b[16 + l] >> j) & 1) << 4);
    return h2f(*reinterpret_cast<const u16*>(b)) * static_cast<float>(sc * q) -
           h2f(*reinterpret_cast<const u16*>(b + 2)) * static_cast<float>(m);
  }
};

struct FmtQ6_K {
  static constexpr int QK = 256, BB = 210;
  static constexpr bool kInt8 = true;
  static constexpr int kUnitSubs = 2;
  // Sub-block j = 4h + t covers weights 128h + 32t + l: the low 4 bits are nibble (t >> 1)
  // of ql[64h + 32(t & 1) + l], the high 2 bits are bits 2t.. of qh[32h + l]; weights
  // l < 16 and l >= 16 have their own int8 scales sc[8h + 2t + 0/1]. Unit u = 2h + t'
  // takes sub-blocks 4h + t' and 4h + t' + 2, which share their ql and qh bytes.
  __device__ static float dot(const u8* b, int u, const Q8Act& act) {
    const int h = u >> 1, t = u & 1;
    const i8* sc = reinterpret_cast<const i8*>(b + 192 + 8 * h + 2 * t);
    u32 l[8], hb[8];
    ld_words_a2(b + 64 * h + 32 * t, l);
    ld_words_a2(b + 128 + 32 * h, hb);
    int a0[8], a1[8];
    act.load(4 * h + t, a0);
    act.load(4 * h + t + 2, a1);
    // Weights q in 0..63 dot as unsigned bytes, and the offset comes off the sums:
    // sum (q - 32) a = sum q a - 32 sum a, with sum a a dp4a against ones (one instruction
    // per word where subtracting 32 from each byte took three).
    int s[4] = {0, 0, 0, 0};  // sub-block 4h + t halves 0, 1; sub-block 4h + t + 2 halves 0, 1
    int sa[4] = {0, 0, 0, 0};  // the activations' sums over the same halves
#pragma unroll
    for (int i = 0; i < 8; ++i) {
      const u32 hw = hb[i] >> (2 * t);
      const u32 lo = (l[i] & 0x0F0F0F0Fu) | ((hw & 0x03030303u) << 4);
      const u32 hi = ((l[i] >> 4) & 0x0F0F0F0Fu) | ((hw & 0x30303030u));
      s[i / 4] = dp4a_us(lo, a0[i], s[i / 4]);
      s[2 + i / 4] = dp4a_us(hi, a1[i], s[2 + i / 4]);
      sa[i / 4] = dp4a(0x01010101, a0[i], sa[i / 4]);
      sa[2 + i / 4] = dp4a(0x01010101, a1[i], sa[2 + i / 4]);
    }
#pragma unroll
    for (int j = 0; j < 4; ++j) s[j] -= 32 * sa[j];
    const float d = h2f(*reinterpret_cast<const u16*>(b + 208));
    return d * (act.ds(4 * h + t).x * static_cast<float>(sc[0] * s[0] + sc[1] * s[1]) +
                act.ds(4 * h + t + 2).x * static_cast<float>(sc[4] * s[2] + sc[5] * s[3]));
  }
  __device__ static float get(const u8* b, int i) {
    const int h = i >> 7, t = (i >> 5) & 3, l = i & 31;
    const int lo = (b[64 * h + 32 * (t & 1) + l] >> (4 * (t >> 1))) & 15;
    const int hi = (b[128 + 32 * h + l] >> (2 * t)) & 3;
    const int sc = reinterpret_cast<const i8*>(b + 192)[8 * h + 2 * t + (l >> 4)];
    return h2f(*reinterpret_cast<const u16*>(b + 208)) * static_cast<float>(sc * ((lo | (hi << 4)) - 32));
  }
};

// Float weights: dotted with f32 activations (no dp4a), 32 weights per "block".
struct FmtF16 {
  static constexpr int QK = 32, BB = 64;
  static constexpr bool kInt8 = false;
  static constexpr int kUnitSubs = 1;
  __device__ static float dotf(const u8* b, int, const float* x) {
    const u16* w = reinterpret_cast<const u16*>(b);
    float s = 0.0f;
#pragma unroll
    for (int i = 0; i < 32; ++i) s += h2f(w[i]) * x[i];
    return s;
  }
  __device__ static float get(const u8* b, int i) { return h2f(reinterpret_cast<const u16*>(b)[i]); }
};

struct FmtF32 {
  static constexpr int QK = 32, BB = 128;
  static constexpr bool kInt8 = false;
  static constexpr int kUnitSubs = 1;
  __device__ static float dotf(const u8* b, int, const float* x) {
    const float* w = reinterpret_cast<const float*>(b);
    float s = 0.0f;
#pragma unroll
    for (int i = 0; i < 32; ++i) s += w[i] * x[i];
    return s;
  }
  __device__ static float get(const u8* b, int i) { return reinterpret_cast<const float*>(b)[i]; }
};
