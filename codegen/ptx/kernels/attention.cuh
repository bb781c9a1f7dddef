// Decode attention (one query position) split over the KV length, in one kernel: the
// grid's blocks (KV head, y) each attend a chunk of positions, and the splits' partials are
// merged into the output after counters in global memory say they are all written (by the
// last block to finish, or, where the grid runs at once, by blocks that wait for the rest:
// see kAttnGroup).
//
// The grid has S splits (one block an SM for long caches: codegen/ptx/lower.cpp,
// attention_splits); a step uses only as many as give each a whole number of tiles of
// kAttnTile positions, at least one. Two paths, chosen per step from the length:
//  - a cache short enough to leave most of the grid idle is attended by a block per
//    (query head, split) on CUDA cores (attention_head): there the step is bound by each
//    block's chain of reductions, not by the K/V bytes;
//  - a longer one by a block per (KV head, split) for all G query heads of the KV head
//    (GQA: every K/V row is read once per step), on tensor cores, with the rows streamed
//    through shared memory by cp.async (attention_mma): there the step is bound by HBM.
// A block that is the only split writes the output itself: no partials, no merge.
#pragma once
#include "activations.cuh"
#include "kv_cache.cuh"

constexpr int kAttnTile = 64;  // positions a block attends per round

// The first N of M floats per warp summed over the warps: `red` holds each warp's values
// (written by the caller), the sum of index i is handed to f(i, sum) in thread t.
template <int N, int M, class F>
__device__ __forceinline__ void attention_sum_warps(const float (&red)[kWarps][M], F f, unsigned t) {
  __syncthreads();
  for (int i = t; i < N; i += kThreads) {
    float s = 0.0f;
#pragma unroll
    for (int w = 0; w < kWarps; ++w) s += red[w][i];
    f(i, s);
  }
}

// The long-cache path streams K and V through a ring of stages in shared memory, each a K
// tile and a V tile of kAttnTile rows (a q8_0 cache's with their scales): as many stages
// as fill 64 KB, at least two. That is the kernel's dynamic shared memory; the per-head
// path and the merge reuse it.
__host__ __device__ constexpr int attention_stage_bytes(int hd, bool q8) {
  return 2 * (q8 ? kv_q8_tile_bytes(hd, kAttnTile) : kAttnTile * hd * 2);
}
__host__ __device__ constexpr int attention_stages(int hd, bool q8) {
  return 65536 / attention_stage_bytes(hd, q8) > 2 ? 65536 / attention_stage_bytes(hd, q8) : 2;
}
__host__ __device__ constexpr int attention_smem_bytes(int hd, bool q8) {
  return attention_stages(hd, q8) * attention_stage_bytes(hd, q8);
}

// The per-head path's shared memory.
template <int HD>
struct AttnHeadShared {
  float qs[HD];               // the query, times 1/sqrt(HD)
  float sc[2][kAttnTile];     // scores, then weights (two tiles: no barrier between one
                              // tile's V sums and the next's scores)
  float corr, mrun, lrun;
  float red[kWarps][HD];      // per-warp sums
};

// The merge's shared memory.
template <int G, int HD, int S>
struct AttnMergeShared {
  float red[kWarps][G * HD];  // per-warp sums
  float fw[G][S];             // split weights
  u32 arrived;
};

// What one token's attention reads and writes (slots 0-2 and 4-7 of `attention`, offset to
// the token's rows and its sequence's cache in a batch). The output is f32, or q8_1 where
// its only reader is an int8 matvec (passes/quantize_activations.cpp: the o-proj then
// copies it rather than every one of its blocks quantizing it). The partials, the output
// and the counters (slots 4-6, at the token's offsets: the output's in floats, a batch's
// output being f32) are read from the arguments where they are used, after the cache is
// attended: in the megakernel the arguments are in global memory, and pointers loaded
// before the attention were held in registers through it (ptxas spilled them).
struct AttnIO {
  const float* q;
  const u8 *kc, *vc;  // the caches of the token's sequence
  const KArgs& a;
  long long part_at;
  int out_at, counters_at;
  u64* trace;
  bool out_q8;
  __device__ float* part() const { return reinterpret_cast<float*>(a.p[4]) + part_at; }
  __device__ void* out() const { return reinterpret_cast<float*>(a.p[5]) + out_at; }
  __device__ u32* counters() const { return reinterpret_cast<u32*>(a.p[6]) + counters_at; }
};

// Stores element i of the output (N values) from thread t: whole warps store 32 consecutive
// elements, lane l element 32k + l, so that a q8_1 block is quantized within one warp.
template <int N>
__device__ __forceinline__ void attention_store(const AttnIO& io, int i, float v, unsigned t) {
  if (io.out_q8)
    quantize32(v, static_cast<i8*>(io.out()) + i, q8_ds(io.out(), N) + i / 32, t);
  else
    static_cast<float*>(io.out())[i] = v;
}

// Up to kAttnGroup splits, the last block to finish merges them. More are merged in one
// level where the grid's blocks all run at once (a token's decode grid: attention_merge_wide),
// else in two: the last block of each group of kAttnGroup splits merges the group's partials
// into one, the last of those merges the groups'. (A single merging block would read every
// partial of its KV head through L2, a few hundred KB at S = 128, the one block at work
// while the rest of the GPU idles.)
constexpr int kAttnGroup = 8;

// A token's scratch (slot 4): per (split, head) partial sums f32[NKV][S][G][HD], their
// maxima (natural-log domain) and sums f32[NKV][S][G][2], then the same per (group, head);
// and its counters (slot 6): u32[NKV] for the KV heads' final merges, then u32[NKV][SG]
// for the groups', then u32[NKV] for the one-level merge's (attention_merge_wide), which
// never return to zero.
__host__ __device__ constexpr int attention_groups(int s) { return (s + kAttnGroup - 1) / kAttnGroup; }
__host__ __device__ constexpr long long attention_part_floats(int nq, int s, int hd) {
  return static_cast<long long>(nq) * (s + attention_groups(s)) * (hd + 2);
}
__host__ __device__ constexpr int attention_counters(int nkv, int s) { return nkv * (2 + attention_groups(s)); }

// Where a KV head's partials sit in that scratch: the sums of (split, head) and their
// (maximum, sum) pairs, and those of (group, head) after every split's.
template <int HD, int NQ, int NKV, int S>
struct AttnParts {
  static constexpr int G = NQ / NKV, SG = attention_groups(S);
  float* sums;  // [S][G][HD] of this KV head
  float* ml;    // [S][G][2]
  float* gsums;  // [SG][G][HD]
  float* gml;    // [SG][G][2]
  __device__ AttnParts(float* part, int kvh)
      : sums(part + kvh * S * G * HD),
        ml(part + NQ * S * HD + kvh * S * G * 2),
        gsums(part + NQ * S * (HD + 2) + kvh * SG * G * HD),
        gml(part + NQ * S * (HD + 2) + NQ * SG * HD + kvh * SG * G * 2) {}
};

// Counts the block's arrival (its partial written by every thread) on `counter`; true in
// the last of `arrivals` blocks, which resets the counter for the next step.
template <int G, int HD, int S>
__device__ bool attention_arrive(u32* counter, int arrivals, AttnMergeShared<G, HD, S>& sh, unsigned t) {
  __syncthreads();  // every thread's partial is written (and no one reads shared memory)
  if (t == 0) sh.arrived = arrive_acq_rel(counter);
  __syncthreads();
  if (sh.arrived != static_cast<u32>(arrivals - 1)) return false;
  if (t == 0) *counter = 0;
  return true;
}

// Merges n partials of a KV head's G heads (sums [n][G][HD], maxima and sums ml [n][G][2])
// into out(i, value) for i < G * HD: the output, normalized, with out_ml null; else one
// partial, with its maxima and sums in out_ml. Each head's weights exp(m_j - m) (over the
// sum for the output) first, then warp w sums partials w, w + kWarps, ... (loads through
// L2, where the other blocks' writes are). The maxima, the sums and each warp's first
// partial are loaded together, so that a merge of at most kWarps partials waits for L2
// once.
template <int HD, int G, int S, class Out>
__device__ void attention_merge(const float* sums, const float* ml, int n, const Out& out, float* out_ml,
                                AttnMergeShared<G, HD, S>& sh, unsigned t) {
  constexpr int N4 = G * HD / 4, K4 = (N4 + kWarp - 1) / kWarp, J = (S + kWarp - 1) / kWarp;
  const int warp = t / kWarp, lane = t % kWarp;
  const float4* p4 = reinterpret_cast<const float4*>(sums);
  float4 o[K4];
#pragma unroll
  for (int k = 0; k < K4; ++k) {
    const int i4 = k * kWarp + lane;
    o[k] = warp < n && i4 < N4 ? __ldcg(p4 + warp * N4 + i4) : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
  }
  for (int g = warp; g < G; g += kWarps) {
    float m[J], l[J], mx = BRICKC_NEG_INF, sum = 0.0f;
#pragma unroll
    for (int i = 0; i < J; ++i) {
      const int j = i * kWarp + lane;
      m[i] = j < n ? __ldcg(ml + (j * G + g) * 2) : BRICKC_NEG_INF;
      l[i] = j < n ? __ldcg(ml + (j * G + g) * 2 + 1) : 0.0f;
      mx = fmaxf(mx, m[i]);
    }
    mx = warp_max(mx);
#pragma unroll
    for (int i = 0; i < J; ++i) {
      m[i] = expf(m[i] - mx);  // a missing partial's -inf gives 0
      sum += l[i] * m[i];
    }
    sum = warp_sum(sum);
    const float scale = out_ml ? 1.0f : 1.0f / sum;
#pragma unroll
    for (int i = 0; i < J; ++i)
      if (i * kWarp + lane < n) sh.fw[g][i * kWarp + lane] = m[i] * scale;
    if (out_ml && lane == 0) {
      out_ml[g * 2] = mx;
      out_ml[g * 2 + 1] = sum;
    }
  }
  __syncthreads();
#pragma unroll
  for (int k = 0; k < K4; ++k) {
    const int i4 = k * kWarp + lane;
    const float f = warp < n && i4 < N4 ? sh.fw[i4 * 4 / HD][warp] : 0.0f;
    o[k] = make_float4(o[k].x * f, o[k].y * f, o[k].z * f, o[k].w * f);
  }
#pragma unroll 1
  for (int j = warp + kWarps; j < n; j += kWarps) {
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
  attention_sum_warps<G * HD>(sh.red, out, t);
}

// The one-level merge's shared memory.
template <int S>
struct AttnWideShared {
  float w[S];              // each split's weight exp(m_j - m)
  float4 red[kWarps][8];   // per-warp sums of a unit's 8 quads of outputs
  float mx[kWarps], l[kWarps];
};

// Merges unit u (32 outputs, of one head) of a KV head's `splits` partials into the
// output: thread t loads split t's maximum and sum and quad t % 8 of splits t / 8,
// t / 8 + 32, ..., all before the first use, so the unit waits for L2 once.
template <int HD, int NQ, int NKV, int S>
__device__ void attention_merge_unit(const AttnIO& io, const AttnParts<HD, NQ, NKV, S>& p, int kvh, int u,
                                     int splits, AttnWideShared<S>& sh, unsigned t) {
  constexpr int G = NQ / NKV, kRowsPer = kThreads / 8, J = (S + kRowsPer - 1) / kRowsPer;
  static_assert(S <= kThreads, "a thread per split's maximum and sum");
  const int h = u * 32 / HD, d0 = u * 32 % HD, warp = t / kWarp, lane = t % kWarp;
  const bool own = static_cast<int>(t) < splits;
  const float m = own ? __ldcg(p.ml + (t * G + h) * 2) : BRICKC_NEG_INF;
  const float l = own ? __ldcg(p.ml + (t * G + h) * 2 + 1) : 0.0f;
  float4 v[J];
#pragma unroll
  for (int i = 0; i < J; ++i) {
    const int j = static_cast<int>(t / 8) + i * kRowsPer;
    v[i] = j < splits ? __ldcg(reinterpret_cast<const float4*>(p.sums + (j * G + h) * HD + d0) + t % 8)
                      : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
  }
  const float wm = warp_max(m);
  if (lane == 0) sh.mx[warp] = wm;
  __syncthreads();
  float mx = sh.mx[0];
#pragma unroll
  for (int w = 1; w < kWarps; ++w) mx = fmaxf(mx, sh.mx[w]);
  const float e = own ? expf(m - mx) : 0.0f;  // every split attends a position: mx is finite
  if (own) sh.w[t] = e;
  const float wl = warp_sum(l * e);
  if (lane == 0) sh.l[warp] = wl;
  __syncthreads();
  float4 acc = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
#pragma unroll
  for (int i = 0; i < J; ++i) {
    const int j = static_cast<int>(t / 8) + i * kRowsPer;
    const float f = j < splits ? sh.w[j] : 0.0f;
    acc = make_float4(acc.x + f * v[i].x, acc.y + f * v[i].y, acc.z + f * v[i].z, acc.w + f * v[i].w);
  }
#pragma unroll
  for (int o = 8; o < kWarp; o <<= 1) {  // the lanes of one quad
    acc.x += __shfl_xor_sync(0xffffffffu, acc.x, o);
    acc.y += __shfl_xor_sync(0xffffffffu, acc.y, o);
    acc.z += __shfl_xor_sync(0xffffffffu, acc.z, o);
    acc.w += __shfl_xor_sync(0xffffffffu, acc.w, o);
  }
  if (lane < 8) sh.red[warp][lane] = acc;
  __syncthreads();
  if (warp == 0) {
    float sum = 0.0f, o = 0.0f;
#pragma unroll
    for (int w = 0; w < kWarps; ++w) {
      sum += sh.l[w];
      const float4 r = sh.red[w][lane / 4];
      o += lane % 4 == 0 ? r.x : lane % 4 == 1 ? r.y : lane % 4 == 2 ? r.z : r.w;
    }
    attention_store<NQ * HD>(io, kvh * G * HD + h * HD + d0 + lane, o / sum, t);
  }
  __syncthreads();  // shared memory is read: the next unit may write it
}

// A wait of more polls than this for the other splits of a KV head traps, a launch error
// rather than a hang: at least 10 s, a poll being an L2 round trip (at least 0.3 us), far
// beyond the microseconds the splits take, under compute-sanitizer too. Polls, not
// %globaltimer, which kernels read only when profiling (lit: trace-hooks.test).
constexpr u32 kAttnWaitPolls = 1u << 25;

// The one-level merge's count of a step: the least power of two of at least S arrivals.
template <int S>
constexpr u32 attention_step_count() {
  u32 k = 1;
  while (k < S) k *= 2;
  return k;
}

// The merge in one level, where the grid's blocks all run at once (GridBlock::kCoResident):
// each block counts its arrival on its KV head's counter; the first min(U, splits) blocks
// (U: the KV head's units of 32 outputs) wait until every split has arrived, then merge
// units split, split + splits, ... from every partial. Against two levels (a group's last
// block merging it, then the last group's merging the groups) the chain after the partials
// is one count and one merge. The counter is never reset, which would take the merging
// blocks one more count of their leaving (the last to leave resets): a step adds K (split
// 0 adds K - splits + 1, the others 1), so the merging blocks' own arrivals tell them the
// multiple of K their step ends at. K divides 2^32: the count wraps on a multiple.
template <int HD, int NQ, int NKV, int S>
__device__ void attention_merge_wide(const AttnIO& io, u8* smem, int kvh, int split, int splits, unsigned t) {
  constexpr int G = NQ / NKV, U = G * HD / 32, SG = attention_groups(S);
  constexpr u32 K = attention_step_count<S>();
  static_assert(sizeof(AttnWideShared<S>) <= attention_smem_bytes(HD, false), "shared memory");
  auto& sh = *reinterpret_cast<AttnWideShared<S>*>(smem);
  u32* const count = io.counters() + NKV * (1 + SG) + kvh;
  const int mergers = min(U, splits);
  __syncthreads();  // every thread's partial is written
  if (t == 0) {
    const u32 add = split == 0 ? K - splits + 1 : 1u;
    if (split < mergers) {
      u32 seen = arrive_acq_rel(count, add);
      const u32 base = seen & ~(K - 1);
      seen += add;  // the merging block that arrives last does not wait
      for (u32 polls = 1; seen - base != K; ++polls) {
        if (polls == kAttnWaitPolls) __trap();
        seen = ld_acquire(count);
      }
    } else {
      red_release_add(count, add);
    }
  }
  if (split >= mergers) return;
  __syncthreads();  // thread 0's acquire orders the block's loads of the partials
  const AttnParts<HD, NQ, NKV, S> p(io.part(), kvh);
  for (int u = split; u < U; u += splits) attention_merge_unit<HD, NQ, NKV, S>(io, p, kvh, u, splits, sh, t);
}

// After the block has written the partial of `split` (every head of its KV head): the
// merges that fall to it (see kAttnGroup), or the one-level merge.
template <int HD, int NQ, int NKV, int S, bool OneLevel>
__device__ void attention_merge_splits(const AttnIO& io, u8* smem, int kvh, int split, int splits, unsigned t) {
  constexpr int G = NQ / NKV, SG = attention_groups(S);
  static_assert(sizeof(AttnMergeShared<G, HD, S>) <= attention_smem_bytes(HD, false), "shared memory");
  if (OneLevel && splits > kAttnGroup) {
    attention_merge_wide<HD, NQ, NKV, S>(io, smem, kvh, split, splits, t);
    return;
  }
  auto& sh = *reinterpret_cast<AttnMergeShared<G, HD, S>*>(smem);
  const AttnParts<HD, NQ, NKV, S> p(io.part(), kvh);
  auto out = [&](int i, float s) { attention_store<NQ * HD>(io, kvh * G * HD + i, s, t); };
  if (splits <= kAttnGroup) {
    if (attention_arrive(io.counters() + kvh, splits, sh, t))
      attention_merge(p.sums, p.ml, splits, out, nullptr, sh, t);
    return;
  }
  const int grp = split / kAttnGroup, first = grp * kAttnGroup, n = min(kAttnGroup, splits - first);
  if (!attention_arrive(io.counters() + NKV + kvh * SG + grp, n, sh, t)) return;
  float* const gsums = p.gsums + grp * G * HD;
  attention_merge(p.sums + first * G * HD, p.ml + first * G * 2, n, [&](int i, float s) { gsums[i] = s; },
                  p.gml + grp * G * 2, sh, t);
  const int groups = attention_groups(splits);
  if (attention_arrive(io.counters() + kvh, groups, sh, t))
    attention_merge(p.gsums, p.gml, groups, out, nullptr, sh, t);
}

// The short-cache path: block (kvh, y = split * G + g) attends `len` positions in `splits`
// chunks of `chunk` for query head kvh * G + g alone. Early: the cache rows before the
// last position were written by earlier steps, so they are loaded before waiting for this
// step's inputs (a batch step may append several positions of one sequence: not so).
// The block takes kAttnTile positions at a time, each thread 8 values (KvCache::load8) of
// several rows with all its loads in flight together.
template <int HD, int NQ, int NKV, int S, bool Q8, bool Early, class B>
__device__ void attention_head(const AttnIO& io, const B& blk, u8* smem, int len, int chunk, int splits) {
  using Kv = KvCache<HD, NKV, Q8>;
  constexpr int G = NQ / NKV;
  constexpr int R = HD / 8;                // threads per row: 8 values each
  constexpr int RP = kThreads / R;         // rows the block loads at once
  constexpr int LPT = kAttnTile / RP;      // rows per thread per tile
  constexpr int NT = kAttnTile / kWarp;    // scores per lane in the softmax update
  static_assert(HD % 8 == 0 && kWarp % R == 0 && kAttnTile % RP == 0, "head_dim");
  static_assert(sizeof(AttnHeadShared<HD>) <= attention_smem_bytes(HD, Q8), "shared memory");
  auto& sh = *reinterpret_cast<AttnHeadShared<HD>*>(smem);
  const int kvh = blk.x, split = blk.y / G, hg = blk.y % G;
  const int t = blk.thread, warp = t / kWarp, lane = t % kWarp, r = t / R, c = t % R;
  if (split >= splits) {
    Trace(io.trace, blk).skip();
    return;
  }
  const int p0 = split * chunk, p1 = min(len, p0 + chunk);
  const u8* kc = io.kc;
  const u8* vc = io.vc;
  auto load = [&](const u8* cache, int base, int end, uint4(&rows)[LPT]) {
#pragma unroll
    for (int i = 0; i < LPT; ++i) {
      const int p = base + i * RP + r;
      rows[i] = p < end ? Kv::load8(cache, p, kvh, c) : make_uint4(0, 0, 0, 0);
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
#pragma unroll
    for (int j = 0; j < LPT; ++j)
      if (j == i) {
        kv[j] = Kv::load8(kc, len - 1, kvh, c);
        vv[j] = Kv::load8(vc, len - 1, kvh, c);
      }
  }
  const int h = kvh * G + hg;
  const float scale = 1.0f / sqrtf(static_cast<float>(HD));
  for (int i = t; i < HD; i += kThreads) sh.qs[i] = io.q[h * HD + i] * scale;
  if (t == 0) {
    sh.mrun = BRICKC_NEG_INF;
    sh.lrun = 0.0f;
  }
  __syncthreads();

  float acc[8];
#pragma unroll
  for (int j = 0; j < 8; ++j) acc[j] = 0.0f;
  int buf = 0;
  for (int base = p0; base < p1; base += kAttnTile, buf ^= 1) {
    const int next = base + kAttnTile;
    // Scores: each thread's 8-dimension piece of a row against the query, summed over
    // the R threads of the row.
#pragma unroll
    for (int i = 0; i < LPT; ++i) {
      float kf[8];
      Kv::unpack8(kv[i], kf);
      float s = 0.0f;
#pragma unroll
      for (int j = 0; j < 8; ++j) s += sh.qs[c * 8 + j] * kf[j];
#pragma unroll
      for (int o = R / 2; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
      if (c == 0) sh.sc[buf][i * RP + r] = base + i * RP + r < p1 ? s : BRICKC_NEG_INF;
    }
    if (next < p1) load(kc, next, p1, kv);  // in flight during this tile's softmax and V sums
    __syncthreads();
    // Online softmax: warp 0 folds the tile into the running max and sum and turns the
    // scores into weights.
    if (warp == 0) {
      float v[NT], mx = BRICKC_NEG_INF;
#pragma unroll
      for (int j = 0; j < NT; ++j) {
        v[j] = sh.sc[buf][j * kWarp + lane];
        mx = fmaxf(mx, v[j]);
      }
      const float mo = sh.mrun, mn = fmaxf(mo, warp_max(mx));
      float sum = 0.0f;
#pragma unroll
      for (int j = 0; j < NT; ++j) {
        const float w = expf(v[j] - mn);
        sh.sc[buf][j * kWarp + lane] = w;
        sum += w;
      }
      sum = warp_sum(sum);
      __syncwarp();  // every lane has read mrun before lane 0 writes it
      if (lane == 0) {
        const float f = expf(mo - mn);
        sh.corr = f;
        sh.lrun = sh.lrun * f + sum;
        sh.mrun = mn;
      }
    }
    __syncthreads();
#pragma unroll
    for (int j = 0; j < 8; ++j) acc[j] *= sh.corr;
#pragma unroll
    for (int i = 0; i < LPT; ++i) {
      float vf[8];
      Kv::unpack8(vv[i], vf);
      const float w = sh.sc[buf][i * RP + r];
#pragma unroll
      for (int j = 0; j < 8; ++j) acc[j] += w * vf[j];
    }
    if (next < p1) load(vc, next, p1, vv);
  }

  // The block's rows into one partial: the threads of one dimension piece are summed
  // within each warp, then over the warps.
#pragma unroll
  for (int j = 0; j < 8; ++j) {
#pragma unroll
    for (int o = R; o < kWarp; o <<= 1) acc[j] += __shfl_xor_sync(0xffffffffu, acc[j], o);
    if (lane < R) sh.red[warp][c * 8 + j] = acc[j];
  }
  if (splits == 1) {
    attention_sum_warps<HD>(
        sh.red, [&](int i, float s) { attention_store<NQ * HD>(io, h * HD + i, s / sh.lrun, t); }, t);
  } else {
    const AttnParts<HD, NQ, NKV, S> p(io.part(), kvh);
    const int slot = split * G + hg;  // this block's (split, head) partial
    attention_sum_warps<HD>(sh.red, [&](int i, float s) { p.sums[slot * HD + i] = s; }, t);
    if (t == 0) {
      p.ml[slot * 2] = sh.mrun;
      p.ml[slot * 2 + 1] = sh.lrun;
    }
    auto& msh = *reinterpret_cast<AttnMergeShared<G, HD, S>*>(smem);
    if (attention_arrive(io.counters() + kvh, splits * G, msh, t))
      attention_merge(p.sums, p.ml, splits,
                      [&](int i, float s) { attention_store<NQ * HD>(io, kvh * G * HD + i, s, t); }, nullptr, msh,
                      t);
  }
  trace.end();
}

// K/V rows in the ring are RB bytes (RB / 16 chunks of 16 bytes: HD f16 or int8 values);
// chunk c of row r sits at chunk c ^ f(r), f spreading the 8 rows an ldmatrix matrix reads
// over the 8 16-byte bank groups (rows of 64 bytes share a 128-byte line in pairs).
template <int RB>
__device__ __forceinline__ u32 attention_swz(int r, int c) {
  constexpr int C = RB / 16, PerLine = C >= 8 ? 1 : 8 / C, Mod = C >= 8 ? 8 : C;
  return static_cast<u32>(r * RB + ((c ^ ((r / PerLine) % Mod)) << 4));
}

// A thread's place in attention_mma's MMA fragments: its warp, its lane, the lane's row
// group g and column pair c. Derived from blk.thread_now() in each phase, never held across
// the tile loop: there the megakernel's task state needs those registers (ptxas spilled
// them with a q8_0 cache).
struct MmaLane {
  int warp, lane, g, c;
  __device__ explicit MmaLane(unsigned t) : warp(t / kWarp), lane(t % kWarp), g(lane >> 2), c(lane & 3) {}
};

// The long-cache path, on tensor cores: block (kvh, split) attends its chunk of positions
// for all G query heads of the KV head, so that every K/V row is read once per step. The
// chunk streams through the ring (16-byte cp.async, loads of later tiles in flight while a
// tile is computed); warp w takes rows 8w..8w+7 of every tile with its own online softmax:
//   S (heads x 8 keys) = Q K^T   m16n8k16, Q as f16 A fragments (heads in rows 0-7; G <= 8),
//                                K through ldmatrix as the col-major B;
//   O^T (dims x heads) += V^T P^T   m16n8k8, V^T through ldmatrix.trans as A, and P^T, the
//                                S accumulators rounded to f16, as B without a shuffle.
// At the end the warps' (max, sum, O^T) are combined in shared memory into the block's
// partial. Numerics as flash_attention.cuh: q * log2(e) / sqrt(HD) and the weights are
// rounded to f16 for the MMAs; the softmax runs in f32 in the log2 domain.
//
// A q8_0 cache's tiles stay int8 in the ring, and its values reach the MMAs as f16 integers
// (exact), its scales outside them. ldmatrix on int8 rows gives a lane 4 consecutive values
// of a row (x4: of 4 chunks of 16), and .trans 2 of each of 2 rows; the dimensions of a
// 16-value chunk are taken in that order (Q's fragments built alike, O^T's rows written
// back alike), which leaves every dot product the same. K's scales multiply the partial
// scores of each 32-value block; V's multiply the weights, once per block.
template <int HD, int NQ, int NKV, int S, bool Q8, bool Early, class B>
__device__ void attention_mma(const AttnIO& io, const B& blk, u8* smem, int len, int chunk, int splits) {
  using Kv = KvCache<HD, NKV, Q8>;
  constexpr int G = NQ / NKV;
  constexpr int RB = Kv::kRowBytes, CC = RB / 16;   // a cache row: bytes, 16-byte chunks
  constexpr int kStageBytes = attention_stage_bytes(HD, Q8), kStages = attention_stages(HD, Q8);
  constexpr int kCopyTile = kStageBytes / 2;        // a K (or V) tile of a stage
  constexpr int MT = HD / 16;                       // O^T fragments (16 dims each)
  static_assert(G <= 8 && HD % 32 == 0, "at most 8 query heads per KV head; head_dim a multiple of 32");
  static_assert(kAttnTile == 8 * kWarps && kAttnTile * CC % kThreads == 0, "tile");
  static_assert((kWarps * G * HD + 2 * kWarps * G) * 4 <= kStages * kStageBytes, "shared memory");
  const int kvh = blk.x, split = blk.y;
  if (split >= splits) {
    Trace(io.trace, blk).skip();
    return;
  }
  const int p0 = split * chunk, p1 = min(len, p0 + chunk);
  const int nt = (p1 - p0 + kAttnTile - 1) / kAttnTile;
  const u32 s0 = smem_addr(smem);

  // Thread t copies chunk t % CC of rows t / CC + i * kRowStep of every tile: one chunk,
  // and rows whose swizzle term is the same (kRowStep is a multiple of 8); a q8_0 row's
  // scales with its chunk 0.
  constexpr int kRowStep = kThreads / CC, kCopies = kAttnTile / kRowStep;
  static_assert(kThreads % CC == 0 && kRowStep % 8 == 0, "copy rows");
  // Where row r (r - r0 a multiple of kRowStep) of the thread's chunk sits in a stage, and
  // a q8_0 row's scales (after the tile's rows).
  auto staged = [](int r, int r0, int ch) { return attention_swz<RB>(r0, ch) + (r - r0) * RB; };
  auto staged_scales = [](int r) { return kAttnTile * RB + r * Kv::kScaleBytes; };
  // The thread's first copy row and its chunk, from one read of its index in each copy (not
  // held across the tile loop, as MmaLane).
  struct CopySlot { int r0, ch; };
  auto copy_slot = [&] {
    const int t = blk.thread_now();
    return CopySlot{t / CC, t % CC};
  };
  // Tile j of the chunk into its stage; rows at or past `end` are zero-filled.
  auto load = [&](int j, int end) {
    const u32 sk = s0 + (j % kStages) * kStageBytes, sv = sk + kCopyTile;
    const auto [r0, ch] = copy_slot();
#pragma unroll
    for (int i = 0; i < kCopies; ++i) {
      const int r = r0 + i * kRowStep, key = p0 + j * kAttnTile + r;
      const bool ok = key < end;
      if constexpr (Q8) {
        kv_q8_copy<HD, NKV>(sk + staged(r, r0, ch), sk + staged_scales(r), io.kc, ok ? key : 0, kvh, ch, ok);
        kv_q8_copy<HD, NKV>(sv + staged(r, r0, ch), sv + staged_scales(r), io.vc, ok ? key : 0, kvh, ch, ok);
      } else {
        cp_async16(sk + staged(r, r0, ch), io.kc + Kv::row(ok ? key : 0, kvh) + 16 * ch, ok);
        cp_async16(sv + staged(r, r0, ch), io.vc + Kv::row(ok ? key : 0, kvh) + 16 * ch, ok);
      }
    }
  };
  // The step's own row (the last position), which a copy issued before the wait for this
  // step's inputs left out: the threads that copy its chunks store them, after their own
  // copies of the tile are complete, so nothing overwrites them.
  auto load_last = [&](int j) {
    const auto [r0, ch] = copy_slot();
    const int r = len - 1 - (p0 + j * kAttnTile);
    if (r < r0 || (r - r0) % kRowStep != 0 || r >= kAttnTile) return;
    u8* const sk = smem + (j % kStages) * kStageBytes;
    const long long at = Kv::row(len - 1, kvh) + 16 * ch;
    *reinterpret_cast<uint4*>(sk + staged(r, r0, ch)) = __ldcg(reinterpret_cast<const uint4*>(io.kc + at));
    *reinterpret_cast<uint4*>(sk + kCopyTile + staged(r, r0, ch)) = __ldcg(reinterpret_cast<const uint4*>(io.vc + at));
    if constexpr (Q8) {
      if (ch != 0) return;
      const long long sc = Kv::scales(len - 1, kvh);
      const int dst = staged_scales(r);
#pragma unroll
      for (int w = 0; w < Kv::kScaleBytes; w += 4) {
        *reinterpret_cast<u32*>(sk + dst + w) = __ldcg(reinterpret_cast<const unsigned*>(io.kc + sc + w));
        *reinterpret_cast<u32*>(sk + kCopyTile + dst + w) = __ldcg(reinterpret_cast<const unsigned*>(io.vc + sc + w));
      }
    }
  };

  // Every group is committed, empty or not: tile j is group j, and waiting until at most
  // kStages - 1 groups are in flight in iteration j completes it. Every stage is filled
  // before the wait for the inputs, so that a split of up to kStages tiles has all of its
  // cache in flight or landed when they are ready; each later tile is copied into the stage
  // the iteration before it has just read.
  if (!Early) blk.begin();
#pragma unroll
  for (int j = 0; j < kStages; ++j) {
    if (j < nt) load(j, Early ? min(p1, len - 1) : p1);
    cp_async_commit();
  }
  if (Early) blk.begin();
  Trace trace(io.trace, blk);

  // Q (head g of the KV head in row g, rows 8-15 zero) as A fragments, scaled before the
  // rounding: scores come out in the log2 domain. Of a q8_0 cache, k columns 2c, 2c + 1,
  // 2c + 8, 2c + 9 of a 16-value chunk are its dimensions 4c .. 4c + 3 (as K's ldmatrix).
  const float sl = 1.4426950408889634f / sqrtf(static_cast<float>(HD));
  const MmaLane ql(blk.thread_now());
  u32 qf[HD / 16][4];
#pragma unroll
  for (int kd = 0; kd < HD / 16; ++kd) {
    const float* q = io.q + (kvh * G + ql.g) * HD + 16 * kd + (Q8 ? 4 * ql.c : 2 * ql.c);
    const float2 z = make_float2(0.0f, 0.0f);
    const float2 x0 = ql.g < G ? *reinterpret_cast<const float2*>(q) : z;
    const float2 x1 = ql.g < G ? *reinterpret_cast<const float2*>(q + (Q8 ? 2 : 8)) : z;
    qf[kd][0] = pack_f16x2(x0.x * sl, x0.y * sl);
    qf[kd][1] = 0u;
    qf[kd][2] = pack_f16x2(x1.x * sl, x1.y * sl);
    qf[kd][3] = 0u;
  }

  float o[MT][4], m_run = BRICKC_NEG_INF, l_run = 0.0f;
#pragma unroll
  for (int mt = 0; mt < MT; ++mt) o[mt][0] = o[mt][1] = o[mt][2] = o[mt][3] = 0.0f;
  // ldmatrix lanes 8m..8m+7 address matrix m: the warp's 8 rows, chunk 4i + m. For K that
  // is b0, b1 of d steps 2i, 2i + 1; for V (.trans) a0, a1 of O^T fragments 2i, 2i + 1.
  // (A q8_0 chunk holds 16 values: matrix m is all of d step, and O^T fragment, 4i + m.)
#pragma unroll 1
  for (int j = 0; j < nt; ++j) {
    const MmaLane me(blk.thread_now());
    const int lrow = 8 * me.warp + (me.lane & 7), lchunk = me.lane >> 3;
    cp_async_wait<kStages - 1>();
    if (Early && j < kStages) load_last(j);
    __syncthreads();
    const int key0 = p0 + j * kAttnTile + 8 * me.warp;  // the warp's first row
    if (key0 < p1) {
      const u32 sk = s0 + (j % kStages) * kStageBytes, sv = sk + kCopyTile;
      float s[4] = {0.0f, 0.0f, 0.0f, 0.0f};
      // A q8_0 tile's scales of the lane's keys 2c, 2c + 1 (of the warp's 8): K's, then V's
      // (scale(k, b) is that of block b of key 2c + k).
      const u16* dk = reinterpret_cast<const u16*>(smem + (j % kStages) * kStageBytes +
                                                   staged_scales(8 * me.warp + 2 * me.c));
      const u16* dv = dk + kCopyTile / 2;
      auto scale = [](const u16* d, int k, int b) { return h2f(d[k * (HD / 32) + b]); };
      if constexpr (Q8) {
#pragma unroll
        for (int i = 0; i < HD / 64; ++i) {
          u32 kb[4];
          ldmatrix_x4(kb, sk + attention_swz<RB>(lrow, 4 * i + lchunk));
#pragma unroll
          for (int b = 0; b < 2; ++b) {  // the two 32-value blocks of the 4 chunks
            float sb[4] = {0.0f, 0.0f, 0.0f, 0.0f};
#pragma unroll
            for (int m = 2 * b; m < 2 * b + 2; ++m) {
              const u32 w = kb[m] ^ 0x80808080u;
              mma_16816(sb, qf[4 * i + m], i8x2_to_f16x2<0x4140>(w), i8x2_to_f16x2<0x4342>(w));
            }
            s[0] += scale(dk, 0, 2 * i + b) * sb[0];
            s[1] += scale(dk, 1, 2 * i + b) * sb[1];
          }
        }
      } else {
#pragma unroll
        for (int i = 0; i < HD / 32; ++i) {
          u32 kb[4];
          ldmatrix_x4(kb, sk + attention_swz<RB>(lrow, 4 * i + lchunk));
          mma_16816(s, qf[2 * i], kb[0], kb[1]);
          mma_16816(s, qf[2 * i + 1], kb[2], kb[3]);
        }
      }
      // Elements 0, 1: head g, keys key0 + 2c, + 1 (2, 3: the zero rows). A head's 8
      // scores sit in its quad; the running sum stays per lane (the quad's are added at
      // the end).
      const float x0 = key0 + 2 * me.c < p1 ? s[0] : BRICKC_NEG_INF;
      const float x1 = key0 + 2 * me.c + 1 < p1 ? s[1] : BRICKC_NEG_INF;
      float mx = fmaxf(x0, x1);
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
      const float m_new = fmaxf(m_run, mx);
      const float m_use = m_new == BRICKC_NEG_INF ? 0.0f : m_new;  // (never -inf - -inf)
      const float corr = exp2f(m_run - m_use);
      m_run = m_new;
      const float e0 = exp2f(x0 - m_use), e1 = exp2f(x1 - m_use);
      l_run = l_run * corr + e0 + e1;
      // This lane's O^T columns are heads 2c, 2c + 1, whose corrections lanes 8c and
      // 8c + 4 hold.
      const float ca = __shfl_sync(0xffffffffu, corr, 8 * me.c), cb = __shfl_sync(0xffffffffu, corr, 8 * me.c + 4);
#pragma unroll
      for (int mt = 0; mt < MT; ++mt) {
        o[mt][0] *= ca;
        o[mt][1] *= cb;
        o[mt][2] *= ca;
        o[mt][3] *= cb;
      }
      if constexpr (Q8) {
        // .trans gives the lane keys 2c, 2c + 1 of dimensions 2g, 2g + 1 of a chunk: O^T
        // rows g and g + 8 of its fragment are those dimensions.
#pragma unroll
        for (int i = 0; i < HD / 64; ++i) {
          u32 va[4];
          ldmatrix_x4_trans(va, sv + attention_swz<RB>(lrow, 4 * i + lchunk));
#pragma unroll
          for (int m = 0; m < 4; ++m) {
            const int b = 2 * i + m / 2;
            const u32 w = va[m] ^ 0x80808080u;
            mma_1688(o[4 * i + m], i8x2_to_f16x2<0x4240>(w), i8x2_to_f16x2<0x4341>(w),
                     pack_f16x2(e0 * scale(dv, 0, b), e1 * scale(dv, 1, b)));
          }
        }
      } else {
        const u32 pb = pack_f16x2(e0, e1);
#pragma unroll
        for (int i = 0; i < HD / 32; ++i) {
          u32 va[4];
          ldmatrix_x4_trans(va, sv + attention_swz<RB>(lrow, 4 * i + lchunk));
          mma_1688(o[2 * i], va[0], va[1], pb);
          mma_1688(o[2 * i + 1], va[2], va[3], pb);
        }
      }
    }
    __syncthreads();  // the stage is read: tile j + kStages is copied into it
    if (j + kStages < nt) load(j + kStages, p1);
    cp_async_commit();
  }
  cp_async_wait<0>();  // (only empty groups are left)
  const unsigned t = blk.thread_now();
  const MmaLane me(t);

  // The warps' maxima, sums and O^T into shared memory (the ring is free), then combined
  // per (head, dim) into the block's partial, or the output if the block is the only split.
  float* const wo = reinterpret_cast<float*>(smem);  // [kWarps][G][HD]
  float* const wm = wo + kWarps * G * HD;             // [kWarps][G]
  float* const wl = wm + kWarps * G;
  l_run += __shfl_xor_sync(0xffffffffu, l_run, 1);
  l_run += __shfl_xor_sync(0xffffffffu, l_run, 2);
  if (me.c == 0 && me.g < G) {
    wm[me.warp * G + me.g] = m_run;
    wl[me.warp * G + me.g] = l_run;
  }
#pragma unroll
  for (int mt = 0; mt < MT; ++mt)
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      const int h = 2 * me.c + (e & 1), d = 16 * mt + (Q8 ? 2 * me.g + (e >> 1) : me.g + 8 * (e >> 1));
      if (h < G) wo[(me.warp * G + h) * HD + d] = o[mt][e];
    }
  __syncthreads();
  const AttnParts<HD, NQ, NKV, S> p(io.part(), kvh);
  const int slot = split * G;  // the block's first (split, head) partial
  for (int i = t; i < G * HD; i += kThreads) {
    const int h = i / HD;
    float m = BRICKC_NEG_INF;
#pragma unroll
    for (int w = 0; w < kWarps; ++w) m = fmaxf(m, wm[w * G + h]);
    float sum = 0.0f, l = 0.0f;  // a warp without rows has m = -inf: weight 0
#pragma unroll
    for (int w = 0; w < kWarps; ++w) {
      const float f = exp2f(wm[w * G + h] - m);
      sum += f * wo[(w * G + h) * HD + i % HD];
      l += f * wl[w * G + h];
    }
    if (splits == 1) {
      attention_store<NQ * HD>(io, kvh * G * HD + i, sum / l, t);
    } else {
      p.sums[slot * HD + i] = sum;
      if (i % HD == 0) {
        p.ml[(slot + h) * 2] = m * 0.6931471805599453f;  // the merge's natural-log domain
        p.ml[(slot + h) * 2 + 1] = l;
      }
    }
  }
  // One level where the grid is this token's alone and runs at once: a batch's grid (T
  // tokens' splits) may outgrow the device.
  if (splits > 1) attention_merge_splits<HD, NQ, NKV, S, Early && B::kCoResident>(io, smem, kvh, split, splits, t);
  trace.end();
}

// Splits and path of a step attending `len` positions (see the top of the file).
template <int HD, int NQ, int NKV, int S, bool Q8, bool Early, class B>
__device__ __forceinline__ void attention_step(const AttnIO& io, const B& blk, u8* smem, int len) {
  constexpr int G = NQ / NKV;
  // Whole tiles a split, as few as S splits allow: a split's last tile of a few rows would
  // cost a tile's chain, and fewer splits leave fewer SMs holding two blocks.
  const int chunk = kAttnTile * ((len + kAttnTile * S - 1) / (kAttnTile * S));
  const int splits = (len + chunk - 1) / chunk;
  // A cache short enough that the grid holds a block per (query head, split) gives every
  // head blocks of its own: a G times shorter chain per block where latency is what
  // counts; a longer one shares each K/V row among the G heads of its KV head.
  if (G > 1 && splits * G <= S)
    attention_head<HD, NQ, NKV, S, Q8, Early>(io, blk, smem, len, chunk, splits);
  else
    attention_mma<HD, NQ, NKV, S, Q8, Early>(io, blk, smem, len, chunk, splits);
}

// Slots: 0 q (roped, f32[NQ * HD]), 1 k cache, 2 v cache ([ctx] positions of
// KvCache<HD, NKV, Q8>), 3 step, 4 partials (f32[attention_part_floats], laid out above
// kAttnGroup), 5 out (f32[NQ * HD], or q8_1 with OutQ8), 6 counters
// (u32[attention_counters], zero between launches), 7 trace. Grid (NKV, S), kThreads
// threads, attention_smem_bytes(HD, Q8) of dynamic shared memory. Positions 0..pos are
// attended.
template <int HD, int NQ, int NKV, int S, bool Q8, bool OutQ8, class B>
__device__ void attention(const KArgs& a, const B& blk) {
  static_assert(NQ % NKV == 0, "query heads a multiple of KV heads");
  extern __shared__ __align__(16) u8 smem[];
  // The host wrote the step before the launch: the length is known before any wait, and
  // the blocks a short cache leaves without positions end at once, freeing their SM.
  const AttnIO io{reinterpret_cast<const float*>(a.p[0]), reinterpret_cast<const u8*>(a.p[1]),
                  reinterpret_cast<const u8*>(a.p[2]), a, 0, 0, 0, reinterpret_cast<u64*>(a.p[7]), OutQ8};
  attention_step<HD, NQ, NKV, S, Q8, true>(io, blk, smem, reinterpret_cast<const Step*>(a.p[3])->pos + 1);
}

// A step of up to T tokens over several sequences (a server's batch): token t attends
// positions 0..pos[t] of its own sequence's cache, as `attention` does for one token.
// Slots as attention's, with every buffer per token: 0 q f32[T][NQ * HD], 1 k cache, 2 v
// cache ([n_seq][ctx] positions), 3 step (n_tokens), 4 partials [T][...], 5 out
// f32[T][NQ * HD], 6 counters [T][...], 7 trace; 8 positions (const int[T]),
// 9 sequences (const int[T]), 10 bytes per sequence of each cache (ctx positions).
// Grid (NKV, S * T): y = token * S + attention's y.
template <int HD, int NQ, int NKV, int S, bool Q8, class B>
__device__ void batch_attention(const KArgs& a, const B& blk) {
  static_assert(NQ % NKV == 0, "query heads a multiple of KV heads");
  extern __shared__ __align__(16) u8 smem[];
  const int t = blk.y / S;
  B own = blk;  // the token's block as `attention` numbers it
  own.y = blk.y % S;
  own.ny = S;
  u64* const trace = a.p[7] ? reinterpret_cast<u64*>(a.p[7]) + static_cast<long long>(kTraceSlots) * t * S * blk.nx : nullptr;
  if (t >= reinterpret_cast<const Step*>(a.p[3])->n_tokens) {
    Trace(trace, own).skip();
    return;
  }
  const long long seq = reinterpret_cast<const int*>(a.p[9])[t];
  const long long cache = seq * static_cast<long long>(a.p[10]);
  const AttnIO io{reinterpret_cast<const float*>(a.p[0]) + t * NQ * HD,
                  reinterpret_cast<const u8*>(a.p[1]) + cache,
                  reinterpret_cast<const u8*>(a.p[2]) + cache, a, t * attention_part_floats(NQ, S, HD),
                  t * NQ * HD, t * attention_counters(NKV, S), trace, false};
  attention_step<HD, NQ, NKV, S, Q8, false>(io, own, smem,
                                        reinterpret_cast<const int*>(a.p[8])[t] + 1);
}
