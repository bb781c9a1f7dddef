// NEOX RoPE of q and k at step->pos, and the KV-cache append of k and v (f16 or q8_0,
// kv_cache.cuh).
// The angle is built by repeated f32 multiplication by the host's factor
// (ir::rope_theta_scale), as ggml's rope cache (and the CPU reference) builds it, so that
// both see the same cos/sin: a factor computed here (CUDA's powf) would differ in its last
// bits, and the angle of a late position by thousandths of a radian.
#pragma once
#include "kv_cache.cuh"

// The cos and sin of every pair index at a position, shared by every head. The whole
// block fills it (thread t), and its barrier publishes it.
template <int HD>
struct RopeTable {
  float c[HD / 2], s[HD / 2];
  __device__ __forceinline__ void fill(int pos, float scale, unsigned t) {
    for (int i = t; i < HD / 2; i += kThreads) {
      float theta = static_cast<float>(pos);
      for (int j = 0; j < i; ++j) theta *= scale;
      sincosf(theta, &s[i], &c[i]);
    }
    __syncthreads();
  }
};

// The pairs (x[i], x[i + HD/2]) of one token's rotation and append: q's heads, then k's,
// then v's (copied to the cache unrotated). Work item p of the token.
template <int HD, int NQ, int NKV, bool Append>
constexpr int kRopeItems = (NQ + (Append ? 2 * NKV : 0)) * (HD / 2);

// One token: q (NQ heads), k and v (NKV heads) in, q roped to qo (by `tab`, the position's
// angles), k roped and v appended to the caches' position, whose first bytes are kc, vc.
// Shared by the decode kernel (its items spread over the grid) and rope_kv_append_rows
// (rows.cuh: a block per token, items first, first + stride, ...), so that prefill and
// decode round alike. Called by the whole block, `first` a multiple of 32: a warp's items
// are 32 consecutive pairs of one head, whose x0 and x1 are two q8_0 blocks of a q8_0 cache.
template <int HD, int NQ, int NKV, bool Rope, bool Append, bool Q8>
__device__ __forceinline__ void rope_kv_append_token(const float* q, const float* k, const float* v,
                                                     float* qo, u8* kc, u8* vc, const RopeTable<HD>& tab,
                                                     int first, int stride) {
  using Kv = KvCache<HD, NKV, Q8>;
  static_assert(!Q8 || HD / 2 % 32 == 0, "a q8_0 cache: whole warps of pairs per head");
  constexpr int kHalf = HD / 2;
  constexpr int kRotated = (NQ + (Append ? NKV : 0)) * kHalf;
  for (int p = first; p < kRopeItems<HD, NQ, NKV, Append>; p += stride) {
    const int head = p / kHalf, i = p % kHalf;
    if (p >= kRotated) {  // v: the same pair layout, unrotated
      const int h = head - NQ - NKV;
      Kv::store(vc, h, i, v[h * HD + i]);
      Kv::store(vc, h, i + kHalf, v[h * HD + i + kHalf]);
      continue;
    }
    const bool is_q = head < NQ;
    const float* src = is_q ? q + head * HD : k + (head - NQ) * HD;
    float x0 = src[i], x1 = src[i + kHalf];
    if constexpr (Rope) {
      const float c = tab.c[i], s = tab.s[i];
      const float r0 = x0 * c - x1 * s, r1 = x0 * s + x1 * c;
      x0 = r0;
      x1 = r1;
    }
    if (is_q) {
      qo[head * HD + i] = x0;
      qo[head * HD + i + kHalf] = x1;
    } else {
      const int h = head - NQ;
      Kv::store(kc, h, i, x0);
      Kv::store(kc, h, i + kHalf, x1);
    }
  }
}

// Slots: 0 q, 1 k, 2 v, 3 step, 4 q out, 5 k cache, 6 v cache, 7 angle factor (f32 bits),
// 8 trace. Caches: positions of KvCache<HD, NKV, Q8>. Rope: rotate q and k; Append: write
// k, v.
// One item per thread over a grid of kRopeItems / kThreads blocks: a single block took
// its items in rounds, each waiting for its loads from L2 (3.9 us on the 7B).
// The host wrote the step before the launch: the angles are computed before the wait for
// the inputs, off the critical path (a serial product of up to HD/2 factors and a sincos).
template <int HD, int NQ, int NKV, bool Rope, bool Append, bool Q8, class B>
__device__ void rope_kv_append(const KArgs& a, const B& blk) {
  __shared__ RopeTable<HD> tab;
  const int pos = reinterpret_cast<const Step*>(a.p[3])->pos;
  if constexpr (Rope) tab.fill(pos, __uint_as_float(static_cast<u32>(a.p[7])), blk.thread);
  blk.begin();
  Trace trace(reinterpret_cast<u64*>(a.p[8]), blk);
  const long long at = KvCache<HD, NKV, Q8>::row(pos, 0);
  rope_kv_append_token<HD, NQ, NKV, Rope, Append, Q8>(
      reinterpret_cast<const float*>(a.p[0]), reinterpret_cast<const float*>(a.p[1]),
      reinterpret_cast<const float*>(a.p[2]), reinterpret_cast<float*>(a.p[4]),
      reinterpret_cast<u8*>(a.p[5]) + at, reinterpret_cast<u8*>(a.p[6]) + at, tab,
      blk.x * kThreads + blk.thread, blk.nx * kThreads);
  trace.end();
}
