// Decode attention (one query position) split over the KV length, in one kernel: block
// (query head, split) attends a range of positions, reading the K/V rows of its head's KV
// head (GQA). Each warp keeps an online softmax (running max, sum, V accumulator) over its
// positions, the block combines its warps into one partial, and the last block of a head
// to finish (a counter, reset by that block) merges the splits into the output. One head
// per block keeps each position's dependent chain (dot, one warp reduction, two exps)
// short: decode attention is latency-bound, not bandwidth-bound.
#pragma once
#include "common.cuh"

constexpr int kAttnWarps = 8;  // a block of kThreads, as every decode kernel (megakernel.cuh)

// Slots: 0 q (roped, f32[NQ * HD]), 1 k cache, 2 v cache, 3 step, 4 partials
// (f32[NQ][S][HD + 2]), 5 out (f32[NQ * HD]), 6 u32 counters[NQ] (zero between launches),
// 7 trace. Grid (NQ, S), block kAttnWarps warps. Positions 0..pos are attended.
template <int HD, int NQ, int NKV, int S, class B>
__device__ void attention(const KArgs& a, const B& blk) {
  constexpr int G = NQ / NKV, D = HD / kWarp, P = HD + 2;
  static_assert(HD % kWarp == 0 && HD <= kAttnWarps * kWarp, "head_dim");
  blk.begin();
  Trace trace(reinterpret_cast<u64*>(a.p[7]), blk);
  const int h = blk.x, kvh = h / G, split = blk.y;
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp, t = threadIdx.x;
  const int len = reinterpret_cast<const Step*>(a.p[3])->pos + 1;
  const int chunk = (len + S - 1) / S;
  const int p0 = split * chunk, p1 = min(len, p0 + chunk);
  const u16* kc = reinterpret_cast<const u16*>(a.p[1]);
  const u16* vc = reinterpret_cast<const u16*>(a.p[2]);
  const float* q = reinterpret_cast<const float*>(a.p[0]) + h * HD;
  const float scale = 1.0f / sqrtf(static_cast<float>(HD));
  float qv[D], acc[D], m = BRICKC_NEG_INF, l = 0.0f;
#pragma unroll
  for (int d = 0; d < D; ++d) {
    qv[d] = q[d * kWarp + lane] * scale;
    acc[d] = 0.0f;
  }
  // This warp's positions p0 + warp, + kAttnWarps, ...: the next position's K and V rows
  // are loaded while the current one is computed.
  auto load_kv = [&](int p, float (&kv)[D], float (&vv)[D]) {
    if (p >= p1) return;
    const long long row = (static_cast<long long>(p) * NKV + kvh) * HD;
#pragma unroll
    for (int d = 0; d < D; ++d) {
      kv[d] = h2f(kc[row + d * kWarp + lane]);
      vv[d] = h2f(vc[row + d * kWarp + lane]);
    }
  };
  float kv[D], vv[D], kn[D], vn[D];
  load_kv(p0 + warp, kv, vv);
  for (int p = p0 + warp; p < p1; p += kAttnWarps) {
    load_kv(p + kAttnWarps, kn, vn);
    float s = 0.0f;
#pragma unroll
    for (int d = 0; d < D; ++d) s += qv[d] * kv[d];
    s = warp_sum(s);
    const float mn = fmaxf(m, s);
    const float corr = expf(m - mn), w = expf(s - mn);
    l = l * corr + w;
#pragma unroll
    for (int d = 0; d < D; ++d) {
      acc[d] = acc[d] * corr + w * vv[d];
      kv[d] = kn[d];
      vv[d] = vn[d];
    }
    m = mn;
  }

  // The block's warps into one partial.
  __shared__ float warp_part[kAttnWarps][P];
#pragma unroll
  for (int d = 0; d < D; ++d) warp_part[warp][d * kWarp + lane] = acc[d];
  if (lane == 0) {
    warp_part[warp][HD] = m;
    warp_part[warp][HD + 1] = l;
  }
  __syncthreads();
  float* part = reinterpret_cast<float*>(a.p[4]);
  {
    float mx = BRICKC_NEG_INF;
#pragma unroll
    for (int w = 0; w < kAttnWarps; ++w) mx = fmaxf(mx, warp_part[w][HD]);
    float lsum = 0.0f, o = 0.0f;
#pragma unroll
    for (int w = 0; w < kAttnWarps; ++w) {
      const float f = warp_part[w][HD + 1] == 0.0f ? 0.0f : expf(warp_part[w][HD] - mx);  // empty warp
      lsum += warp_part[w][HD + 1] * f;
      if (t < HD) o += warp_part[w][t] * f;
    }
    float* out = part + (h * S + split) * P;
    if (t < HD) out[t] = o;
    if (t == 0) {
      out[HD] = mx;
      out[HD + 1] = lsum;
    }
  }

  // The last block of this head merges its S partials: the whole block stages them in
  // shared memory (their loads all in flight at once), then thread t merges dimension t.
  __shared__ u32 arrived;
  __shared__ float merge[S * P];
  __threadfence();
  __syncthreads();
  u32* counters = reinterpret_cast<u32*>(a.p[6]);
  if (t == 0) arrived = atomicAdd(counters + h, 1u);
  __syncthreads();
  if (arrived == S - 1) {
    __threadfence();
    const float* ph = part + h * S * P;
    for (int i = t; i < S * P; i += kAttnWarps * kWarp) merge[i] = __ldcg(ph + i);
    __syncthreads();
    if (t < HD) {
      float mx = BRICKC_NEG_INF;
#pragma unroll
      for (int j = 0; j < S; ++j) mx = fmaxf(mx, merge[j * P + HD]);
      float lsum = 0.0f, o = 0.0f;
#pragma unroll
      for (int j = 0; j < S; ++j) {
        const float l = merge[j * P + HD + 1];
        const float f = l == 0.0f ? 0.0f : expf(merge[j * P + HD] - mx);  // a split with no positions
        lsum += l * f;
        o += merge[j * P + t] * f;
      }
      reinterpret_cast<float*>(a.p[5])[h * HD + t] = o / lsum;
    }
    if (t == 0) counters[h] = 0;
  }
  trace.end();
}
