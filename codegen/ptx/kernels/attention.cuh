// Decode attention (one query position) split over the KV length, in one kernel: block
// (KV head, split) attends a range of positions for all G query heads of its KV head
// (GQA), so that every K/V row is read once per step. The block takes kAttnTile positions
// at a time, each thread a 16-byte piece of several rows with all its loads in flight
// together; per tile it computes the G x tile scores, updates each head's online softmax
// (running max and sum) and adds the weighted V rows. The last block of a KV head to
// finish (a counter, reset by that block) merges the splits' partials into the output.
//
// The grid has S splits (sized from the SM count for long caches); a step uses only as
// many as give each at least one tile of positions. A cache short enough to leave most of
// the grid idle is attended by a block per (query head, split) instead: there the step is
// bound by each block's chain of reductions, not by the K/V bytes. One that fits in one
// tile writes the output itself: no partials, no merge.
#pragma once
#include "common.cuh"

constexpr int kAttnTile = 64;  // positions a block attends per round

// Eight f16 values (one 16-byte load) as floats.
__device__ __forceinline__ void unpack_h8(const uint4 v, float (&f)[8]) {
  const u32 w[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
  for (int k = 0; k < 4; ++k) {
    f[2 * k] = h2f(static_cast<u16>(w[k] & 0xFFFFu));
    f[2 * k + 1] = h2f(static_cast<u16>(w[k] >> 16));
  }
}

// The first N of M floats per warp summed over the warps: `red` holds each warp's values
// (written by the caller), the sum of index i is handed to f(i, sum).
template <int N, int M, class F>
__device__ __forceinline__ void attention_sum_warps(const float (&red)[kWarps][M], F f) {
  __syncthreads();
  for (int i = threadIdx.x; i < N; i += kThreads) {
    float s = 0.0f;
#pragma unroll
    for (int w = 0; w < kWarps; ++w) s += red[w][i];
    f(i, s);
  }
}

// The block's shared memory, sized for all G query heads of a KV head; a block of fewer
// heads uses the first rows.
template <int G, int HD, int S>
struct AttnShared {
  float qs[G][HD];            // the queries, times 1/sqrt(HD)
  float sc[2][G][kAttnTile];  // scores, then weights (two tiles: no barrier between one
                              // tile's V sums and the next's scores)
  float corr[G], mrun[G], lrun[G];
  float red[kWarps][G * HD];  // per-warp sums
  float fw[G][S];             // the merge's split weights
  u32 arrived;
};

// What one token's attention reads and writes (slots 0-2 and 4-7 of `attention`, offset to
// the token's rows and its sequence's cache in a batch).
struct AttnIO {
  const float* q;
  const uint4 *kc, *vc;
  float *part, *out;
  u32* counters;
  u64* trace;
};

// Block (kvh, y) of a step attending `len` positions in `splits` chunks of `chunk` with GB
// query heads per block: y = split * (G / GB) + head group. Early: the cache rows before
// the last position were written by earlier steps, so they are loaded before waiting for
// this step's inputs (a batch step may append several positions of one sequence: not so).
template <int HD, int NQ, int NKV, int S, int GB, bool Early, class B>
__device__ void attention_blocks(const AttnIO& io, const B& blk, AttnShared<NQ / NKV, HD, S>& sh,
                                 int len, int chunk, int splits) {
  constexpr int G = NQ / NKV, NG = G / GB;
  constexpr int R = HD / 8;                // threads per row: 8 halves (16 bytes) each
  constexpr int RP = kThreads / R;         // rows the block loads at once
  constexpr int LPT = kAttnTile / RP;      // rows per thread per tile
  constexpr int NT = kAttnTile / kWarp;    // scores per lane in the softmax update
  static_assert(HD % 8 == 0 && kWarp % R == 0 && kAttnTile % RP == 0, "head_dim");
  static_assert(G % GB == 0, "head groups");
  const int kvh = blk.x, split = blk.y / NG, g0 = blk.y % NG * GB;
  const int t = threadIdx.x, warp = t / kWarp, lane = t % kWarp, r = t / R, c = t % R;
  if (split >= splits) {
    Trace(io.trace, blk).skip();
    return;
  }
  const int p0 = split * chunk, p1 = min(len, p0 + chunk);
  // The cache is written in this step (by another task of the megakernel): loads go
  // through L2 (.cg), never a stale L1 line.
  const uint4* kc = io.kc;
  const uint4* vc = io.vc;
  auto load = [&](const uint4* cache, int base, int end, uint4(&rows)[LPT]) {
#pragma unroll
    for (int i = 0; i < LPT; ++i) {
      const int p = base + i * RP + r;
      rows[i] = p < end ? __ldcg(cache + (static_cast<long long>(p) * NKV + kvh) * R + c)
                        : make_uint4(0, 0, 0, 0);
    }
  };
  // The first tile's rows of earlier steps are loaded before waiting for this step's
  // inputs; the step's own row (the last position) after.
  uint4 kv[LPT], vv[LPT];
  if (!Early) blk.begin();
  load(kc, p0, min(p1, Early ? len - 1 : len), kv);
  load(vc, p0, min(p1, Early ? len - 1 : len), vv);
  if (Early) blk.begin();
  Trace trace(io.trace, blk);
  if (Early && p1 == len && len - 1 < p0 + kAttnTile && (len - 1 - p0) % RP == r) {
    const int i = (len - 1 - p0) / RP;
    const long long at = (static_cast<long long>(len - 1) * NKV + kvh) * R + c;
#pragma unroll
    for (int j = 0; j < LPT; ++j)
      if (j == i) {
        kv[j] = __ldcg(kc + at);
        vv[j] = __ldcg(vc + at);
      }
  }
  const int h0 = kvh * G + g0;  // the block's first query head
  const float* q = io.q + h0 * HD;
  const float scale = 1.0f / sqrtf(static_cast<float>(HD));
  for (int i = t; i < GB * HD; i += kThreads) sh.qs[i / HD][i % HD] = q[i] * scale;
  if (t < GB) {
    sh.mrun[t] = BRICKC_NEG_INF;
    sh.lrun[t] = 0.0f;
  }
  __syncthreads();

  float acc[GB][8];
#pragma unroll
  for (int g = 0; g < GB; ++g)
#pragma unroll
    for (int j = 0; j < 8; ++j) acc[g][j] = 0.0f;
  int buf = 0;
  for (int base = p0; base < p1; base += kAttnTile, buf ^= 1) {
    const int next = base + kAttnTile;
    // Scores: each thread's 8-dimension piece of a row against every query, summed over
    // the R threads of the row.
#pragma unroll
    for (int i = 0; i < LPT; ++i) {
      float kf[8];
      unpack_h8(kv[i], kf);
#pragma unroll
      for (int g = 0; g < GB; ++g) {
        float s = 0.0f;
#pragma unroll
        for (int j = 0; j < 8; ++j) s += sh.qs[g][c * 8 + j] * kf[j];
#pragma unroll
        for (int o = R / 2; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
        if (c == 0) sh.sc[buf][g][i * RP + r] = base + i * RP + r < p1 ? s : BRICKC_NEG_INF;
      }
    }
    if (next < p1) load(kc, next, p1, kv);  // in flight during this tile's softmax and V sums
    __syncthreads();
    // Online softmax: warp g folds the tile into head g's running max and sum and turns
    // the scores into weights.
    for (int g = warp; g < GB; g += kWarps) {
      float v[NT], mx = BRICKC_NEG_INF;
#pragma unroll
      for (int j = 0; j < NT; ++j) {
        v[j] = sh.sc[buf][g][j * kWarp + lane];
        mx = fmaxf(mx, v[j]);
      }
      const float mo = sh.mrun[g], mn = fmaxf(mo, warp_max(mx));
      float sum = 0.0f;
#pragma unroll
      for (int j = 0; j < NT; ++j) {
        const float w = expf(v[j] - mn);
        sh.sc[buf][g][j * kWarp + lane] = w;
        sum += w;
      }
      sum = warp_sum(sum);
      __syncwarp();  // every lane has read mrun[g] before lane 0 writes it
      if (lane == 0) {
        const float f = expf(mo - mn);
        sh.corr[g] = f;
        sh.lrun[g] = sh.lrun[g] * f + sum;
        sh.mrun[g] = mn;
      }
    }
    __syncthreads();
#pragma unroll
    for (int g = 0; g < GB; ++g)
#pragma unroll
      for (int j = 0; j < 8; ++j) acc[g][j] *= sh.corr[g];
#pragma unroll
    for (int i = 0; i < LPT; ++i) {
      float vf[8];
      unpack_h8(vv[i], vf);
#pragma unroll
      for (int g = 0; g < GB; ++g) {
        const float w = sh.sc[buf][g][i * RP + r];
#pragma unroll
        for (int j = 0; j < 8; ++j) acc[g][j] += w * vf[j];
      }
    }
    if (next < p1) load(vc, next, p1, vv);
  }

  // The block's rows into one partial per head: the threads of one dimension piece are
  // summed within each warp, then over the warps.
#pragma unroll
  for (int g = 0; g < GB; ++g)
#pragma unroll
    for (int j = 0; j < 8; ++j) {
#pragma unroll
      for (int o = R; o < kWarp; o <<= 1) acc[g][j] += __shfl_xor_sync(0xffffffffu, acc[g][j], o);
      if (lane < R) sh.red[warp][g * HD + c * 8 + j] = acc[g][j];
    }
  float* const out = io.out + kvh * G * HD;
  if (splits == 1) {
    attention_sum_warps<GB * HD>(sh.red, [&](int i, float s) { out[g0 * HD + i] = s / sh.lrun[i / HD]; });
  } else {
    float* const part = io.part;
    float* const part_ml = part + NQ * S * HD;
    const int head0 = (kvh * S + split) * G + g0;  // this block's first (split, head) slot
    attention_sum_warps<GB * HD>(sh.red, [&](int i, float s) { part[head0 * HD + i] = s; });
    if (t < GB) {
      part_ml[(head0 + t) * 2] = sh.mrun[t];
      part_ml[(head0 + t) * 2 + 1] = sh.lrun[t];
    }

    // The last block of this KV head merges the splits: each head's split weights
    // exp(m_j - m) / sum first, then warp w sums splits w, w + kWarps, ... (loads through L2,
    // where the other blocks' writes are). The maxima, the sums and each warp's first
    // partial are loaded together, so that a merge of at most kWarps splits (every short
    // cache's) waits for L2 once.
    __syncthreads();
    u32* counters = io.counters;
    if (t == 0) sh.arrived = arrive_acq_rel(counters + kvh);
    __syncthreads();
    if (sh.arrived == splits * NG - 1) {
      constexpr int N4 = G * HD / 4, K4 = (N4 + kWarp - 1) / kWarp, J = (S + kWarp - 1) / kWarp;
      const float4* p4 = reinterpret_cast<const float4*>(part + kvh * S * G * HD);
      float4 o[K4];
#pragma unroll
      for (int k = 0; k < K4; ++k) {
        const int i4 = k * kWarp + lane;
        o[k] = warp < splits && i4 < N4 ? __ldcg(p4 + warp * N4 + i4) : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
      }
      const float* ml = part_ml + kvh * S * G * 2;
      for (int g = warp; g < G; g += kWarps) {
        float m[J], l[J], mx = BRICKC_NEG_INF, sum = 0.0f;
#pragma unroll
        for (int i = 0; i < J; ++i) {
          const int j = i * kWarp + lane;
          m[i] = j < splits ? __ldcg(ml + (j * G + g) * 2) : BRICKC_NEG_INF;
          l[i] = j < splits ? __ldcg(ml + (j * G + g) * 2 + 1) : 0.0f;
          mx = fmaxf(mx, m[i]);
        }
        mx = warp_max(mx);
#pragma unroll
        for (int i = 0; i < J; ++i) {
          m[i] = expf(m[i] - mx);  // a missing split's -inf gives 0
          sum += l[i] * m[i];
        }
        sum = warp_sum(sum);
#pragma unroll
        for (int i = 0; i < J; ++i)
          if (i * kWarp + lane < splits) sh.fw[g][i * kWarp + lane] = m[i] / sum;
      }
      __syncthreads();
#pragma unroll
      for (int k = 0; k < K4; ++k) {
        const int i4 = k * kWarp + lane;
        const float f = warp < splits && i4 < N4 ? sh.fw[i4 * 4 / HD][warp] : 0.0f;
        o[k] = make_float4(o[k].x * f, o[k].y * f, o[k].z * f, o[k].w * f);
      }
#pragma unroll 4
      for (int j = warp + kWarps; j < splits; j += kWarps) {
#pragma unroll
        for (int k = 0; k < K4; ++k) {
          const int i4 = k * kWarp + lane;
          if (i4 < N4) {
            const float4 v = __ldcg(p4 + j * N4 + i4);
            const float f = sh.fw[i4 * 4 / HD][j];
            o[k].x += v.x * f;
            o[k].y += v.y * f;
            o[k].z += v.z * f;
            o[k].w += v.w * f;
          }
        }
      }
#pragma unroll
      for (int k = 0; k < K4; ++k) {
        const int i4 = k * kWarp + lane;
        if (i4 < N4) {
          sh.red[warp][i4 * 4] = o[k].x;
          sh.red[warp][i4 * 4 + 1] = o[k].y;
          sh.red[warp][i4 * 4 + 2] = o[k].z;
          sh.red[warp][i4 * 4 + 3] = o[k].w;
        }
      }
      attention_sum_warps<G * HD>(sh.red, [&](int i, float s) { out[i] = s; });
      if (t == 0) counters[kvh] = 0;
    }
  }
  trace.end();
}

// Splits and head groups of a step attending `len` positions (see the top of the file).
template <int HD, int NQ, int NKV, int S, bool Early, class B>
__device__ __forceinline__ void attention_step(const AttnIO& io, const B& blk,
                                               AttnShared<NQ / NKV, HD, S>& sh, int len) {
  constexpr int G = NQ / NKV;
  const int chunk = max((len + S - 1) / S, kAttnTile);
  const int splits = (len + chunk - 1) / chunk;
  // A cache short enough that the grid holds a block per (query head, split) gives every
  // head blocks of its own: a G times shorter chain per block where latency is what
  // counts; a longer one shares each K/V row among the G heads of its KV head.
  if (G > 1 && splits * G <= S)
    attention_blocks<HD, NQ, NKV, S, 1, Early>(io, blk, sh, len, chunk, splits);
  else
    attention_blocks<HD, NQ, NKV, S, G, Early>(io, blk, sh, len, chunk, splits);
}

// Slots: 0 q (roped, f32[NQ * HD]), 1 k cache, 2 v cache (f16[ctx][NKV][HD]), 3 step,
// 4 partials (f32[NKV][S][G][HD], then f32[NKV][S][G][2]: max, sum), 5 out (f32[NQ * HD]),
// 6 u32 counters[NKV] (zero between launches), 7 trace. Grid (NKV, S), kThreads threads.
// Positions 0..pos are attended.
template <int HD, int NQ, int NKV, int S, class B>
__device__ void attention(const KArgs& a, const B& blk) {
  static_assert(NQ % NKV == 0, "query heads a multiple of KV heads");
  __shared__ AttnShared<NQ / NKV, HD, S> sh;
  // The host wrote the step before the launch: the length is known before any wait, and
  // the blocks a short cache leaves without positions end at once, freeing their SM.
  const AttnIO io{reinterpret_cast<const float*>(a.p[0]), reinterpret_cast<const uint4*>(a.p[1]),
                  reinterpret_cast<const uint4*>(a.p[2]), reinterpret_cast<float*>(a.p[4]),
                  reinterpret_cast<float*>(a.p[5]), reinterpret_cast<u32*>(a.p[6]),
                  reinterpret_cast<u64*>(a.p[7])};
  attention_step<HD, NQ, NKV, S, true>(io, blk, sh, reinterpret_cast<const Step*>(a.p[3])->pos + 1);
}

// A step of up to T tokens over several sequences (a server's batch): token t attends
// positions 0..pos[t] of its own sequence's cache, as `attention` does for one token.
// Slots as attention's, with every buffer per token: 0 q f32[T][NQ * HD], 1 k cache, 2 v
// cache (f16[n_seq][ctx][NKV][HD]), 3 step (n_tokens), 4 partials [T][...], 5 out
// f32[T][NQ * HD], 6 counters u32[T][NKV], 7 trace; 8 positions (const int[T]),
// 9 sequences (const int[T]), 10 elements per sequence of each cache (ctx * NKV * HD).
// Grid (NKV, S * T): y = token * S + attention's y.
template <int HD, int NQ, int NKV, int S, class B>
__device__ void batch_attention(const KArgs& a, const B& blk) {
  static_assert(NQ % NKV == 0, "query heads a multiple of KV heads");
  __shared__ AttnShared<NQ / NKV, HD, S> sh;
  const int t = blk.y / S;
  B own = blk;  // the token's block as `attention` numbers it
  own.y = blk.y % S;
  own.ny = S;
  u64* const trace = a.p[7] ? reinterpret_cast<u64*>(a.p[7]) + 3ll * t * S * blk.nx : nullptr;
  if (t >= reinterpret_cast<const Step*>(a.p[3])->n_tokens) {
    Trace(trace, own).skip();
    return;
  }
  const long long seq = reinterpret_cast<const int*>(a.p[9])[t];
  const long long cache = seq * static_cast<long long>(a.p[10]) / 8;  // in 16-byte pieces
  const AttnIO io{reinterpret_cast<const float*>(a.p[0]) + t * NQ * HD,
                  reinterpret_cast<const uint4*>(a.p[1]) + cache,
                  reinterpret_cast<const uint4*>(a.p[2]) + cache,
                  reinterpret_cast<float*>(a.p[4]) + static_cast<long long>(t) * NQ * S * (HD + 2),
                  reinterpret_cast<float*>(a.p[5]) + t * NQ * HD,
                  reinterpret_cast<u32*>(a.p[6]) + t * NKV, trace};
  attention_step<HD, NQ, NKV, S, false>(io, own, sh,
                                        reinterpret_cast<const int*>(a.p[8])[t] + 1);
}
