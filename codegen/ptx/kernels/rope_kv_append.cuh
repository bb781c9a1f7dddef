// NEOX RoPE of q and k at step->pos, and the fp16 KV-cache append of k and v: one block.
// The angle is built by repeated f32 multiplication by the host's factor
// (ir::rope_theta_scale), as ggml's rope cache (and the CPU reference) builds it, so that
// both see the same cos/sin: a factor computed here (CUDA's powf) would differ in its last
// bits, and the angle of a late position by thousandths of a radian.
#pragma once
#include "common.cuh"

__device__ __forceinline__ void rope_angle(int pos, int i, float scale, float& c, float& s) {
  float theta = static_cast<float>(pos);
  for (int j = 0; j < i; ++j) theta *= scale;
  sincosf(theta, &s, &c);
}

// The pairs (x[i], x[i + HD/2]) of one token's rotation and append: q's heads, then k's,
// then v's (copied to the cache unrotated). Work item p of the token.
template <int HD, int NQ, int NKV, bool Append>
constexpr int kRopeItems = (NQ + (Append ? 2 * NKV : 0)) * (HD / 2);

// One token: q (NQ heads), k and v (NKV heads) in, q roped to qo, k roped and v appended
// to the cache rows kc, vc of position pos. Shared by the decode kernel (its items spread
// over the grid) and rope_kv_append_rows (rows.cuh: a block per token, items first, first
// + stride, ...), so that prefill and decode round alike. Called by the whole block (t this thread).
template <int HD, int NQ, int NKV, bool Rope, bool Append>
__device__ __forceinline__ void rope_kv_append_token(const float* q, const float* k, const float* v,
                                                     float* qo, u16* kc, u16* vc, int pos, float scale,
                                                     int first, int stride, unsigned t) {
  constexpr int kHalf = HD / 2;
  constexpr int kRotated = (NQ + (Append ? NKV : 0)) * kHalf;
  // One angle per pair index, shared by every head.
  __shared__ float cos_t[kHalf], sin_t[kHalf];
  if constexpr (Rope) {
    for (int i = t; i < kHalf; i += kThreads) rope_angle(pos, i, scale, cos_t[i], sin_t[i]);
    __syncthreads();
  }
  for (int p = first; p < kRopeItems<HD, NQ, NKV, Append>; p += stride) {
    const int head = p / kHalf, i = p % kHalf;
    if (p >= kRotated) {  // v: the same pair layout, unrotated
      const int o = (head - NQ - NKV) * HD + i;
      const float v0 = v[o], v1 = v[o + kHalf];
      vc[o] = f2h(v0);
      vc[o + kHalf] = f2h(v1);
      continue;
    }
    const bool is_q = head < NQ;
    const float* src = is_q ? q + head * HD : k + (head - NQ) * HD;
    float x0 = src[i], x1 = src[i + kHalf];
    if constexpr (Rope) {
      const float c = cos_t[i], s = sin_t[i];
      const float r0 = x0 * c - x1 * s, r1 = x0 * s + x1 * c;
      x0 = r0;
      x1 = r1;
    }
    if (is_q) {
      qo[head * HD + i] = x0;
      qo[head * HD + i + kHalf] = x1;
    } else {
      const int h = head - NQ;
      kc[h * HD + i] = f2h(x0);
      kc[h * HD + i + kHalf] = f2h(x1);
    }
  }
}

// Slots: 0 q, 1 k, 2 v, 3 step, 4 q out, 5 k cache, 6 v cache, 7 angle factor (f32 bits),
// 8 trace. Caches: fp16 [position][NKV][HD]. Rope: rotate q and k; Append: write k, v.
// One item per thread over a grid of kRopeItems / kThreads blocks: a single block took
// its items in rounds, each waiting for its loads from L2 (3.9 us on the 7B).
template <int HD, int NQ, int NKV, bool Rope, bool Append, class B>
__device__ void rope_kv_append(const KArgs& a, const B& blk) {
  blk.begin();
  Trace trace(reinterpret_cast<u64*>(a.p[8]), blk);
  const int pos = reinterpret_cast<const Step*>(a.p[3])->pos;
  const long long at = static_cast<long long>(pos) * NKV * HD;
  rope_kv_append_token<HD, NQ, NKV, Rope, Append>(
      reinterpret_cast<const float*>(a.p[0]), reinterpret_cast<const float*>(a.p[1]),
      reinterpret_cast<const float*>(a.p[2]), reinterpret_cast<float*>(a.p[4]),
      reinterpret_cast<u16*>(a.p[5]) + at, reinterpret_cast<u16*>(a.p[6]) + at, pos,
      __uint_as_float(static_cast<u32>(a.p[7])), blk.x * kThreads + blk.thread, blk.nx * kThreads, blk.thread);
  trace.end();
}
