// The matvec family at T > 1 tokens (prefill): activations rounded to f16 rows
// (prefill_prep, with the brick's RMSNorm), weights dequantized to f16 rows (dequant_f16),
// then one tensor-core GEMM per weight matrix with the brick's epilogue (gemm_f16). Steps
// of at most 64 tokens (a server's batch) dequantize the weights inside the GEMM instead
// (gemm_dq, at the end of the file). Not for decode: one token is the dp4a matvec of
// matvec.cuh.
//
// Contracts (slots of KArgs.p; n = step->n_tokens, 1 <= n <= T; T = the step capacity):
//
// prefill_prep<K, Norm>      block kThreads (256), grid (T, ceil(K / kPrepChunk)). No
//   dynamic shared memory. Requires K % 8 == 0.
//   0 x (f32 [T][K])  1 norm weight (f32 [K]; read when Norm)  2 eps (f32 bits, low 32)
//   3 out (f16 [T][K], u16 storage)  4 step  5 trace
//   Row t < n: out = f16(Norm ? x * (1 / sqrt(mean(x²) + eps)) * w : x). Rows >= n untouched.
//
// dequant_f16<K, F>          block kThreads (256), grid (min(work_blocks, resident)),
//   work_blocks = ceil(N * K / 8 / 256) (one 8-element group per thread; more blocks
//   than that are harmless, fewer loop). No dynamic shared memory.
//   0 w (rows of K elements of format F, 16-byte aligned; row r at w + r * stride)
//   1 stride (bytes, a multiple of 16: gpu_row_stride)  2 N (rows)
//   3 out (f16 [N][K], u16 storage, 16-byte aligned)  4 trace
//   out[r][i] = f2h(F::get(row r's block i / QK, i % QK)), bit for bit.
//
// gemm_f16<K, Epi>           block kGemmThreads (256), grid (ceil(T / 128), ceil(N / 128)),
//   dynamic shared memory gemm_smem_bytes() = 65536 (above 48 KB: the runtime raises the
//   function's limit). 122 registers under __launch_bounds__(256): two blocks per SM.
//   0 A (f16 [T][K])  1 B (f16 [N][K]: the weight rows)  2 N  3 out (f32 [T][N])
//   4 bias (f32 [N] or 0)  5 aux (f32 [T][N] or 0)  6 step  7 trace
//   acc[t][j] = sum_k A[t][k] B[j][k] (f32 accumulation), b = bias ? bias[j] : 0, and for
//   t < n, j < N:  kEpiStore out = acc + b;  kEpiResidual out = aux + (acc + b);
//   kEpiSwiglu out = silu(aux) * (acc + b) (aux: the gate GEMM's result, acc: up).
//   Requires K % 32 == 0 (static) and N % 8 == 0 (runtime; every Qwen2.5 N is a multiple
//   of 128). aux may alias out: each element is read before it is written, by one thread.
#pragma once
#include "quant_formats.cuh"
#include "tensor_core.cuh"

// ---------------------------------------------------------------------------------------
// prefill_prep: block (t, y) converts the y-th kPrepChunk values of token row t, eight
// per thread (two 16-byte loads in flight, one 16-byte store). A block per row alone (16
// blocks for 16 tokens) left the SMs idle: 17.6 us for the 7B's 18944-value rows (H200).
// With Norm each block first sums the squares of its whole row (a hidden state: 20 KB for
// Qwen2.5's widest, read from L2 by all but the first): cheaper than a launch to share it.
constexpr int kPrepChunk = 8 * kThreads;
template <int K, bool Norm, class B>
__device__ void prefill_prep(const KArgs& a, const B& blk) {
  static_assert(K % 8 == 0, "eight values per thread");
  blk.begin();
  Trace trace(reinterpret_cast<u64*>(a.p[5]), blk);
  const int t = blk.x;
  if (t < reinterpret_cast<const Step*>(a.p[4])->n_tokens) {
    const float4* x = reinterpret_cast<const float4*>(a.p[0]) + static_cast<long long>(t) * (K / 4);
    float scale = 1.0f;
    if constexpr (Norm) {
      float ss = 0.0f;
      for (int i = blk.thread; i < K / 4; i += kThreads) {
        const float4 v = x[i];
        ss += v.x * v.x + v.y * v.y + v.z * v.z + v.w * v.w;
      }
      scale = 1.0f / sqrtf(block_sum(ss, blk.thread) / static_cast<float>(K) +
                           __uint_as_float(static_cast<u32>(a.p[2])));
    }
    const int i = blk.y * (kPrepChunk / 4) + 2 * blk.thread;  // K % 8 == 0: i < K / 4 holds i + 1 too
    if (i < K / 4) {
      float4 v[2] = {x[i], x[i + 1]};
      if constexpr (Norm) {
        const float4* w = reinterpret_cast<const float4*>(a.p[1]);
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          const float4 wv = w[i + h];
          v[h].x = v[h].x * scale * wv.x;  // the order of the decode kernels' x * scale * w
          v[h].y = v[h].y * scale * wv.y;
          v[h].z = v[h].z * scale * wv.z;
          v[h].w = v[h].w * scale * wv.w;
        }
      }
      reinterpret_cast<uint4*>(a.p[3])[(static_cast<long long>(t) * K + 4 * i) / 8] =
          make_uint4(pack_f16x2(v[0].x, v[0].y), pack_f16x2(v[0].z, v[0].w), pack_f16x2(v[1].x, v[1].y),
                     pack_f16x2(v[1].z, v[1].w));
    }
  }
  trace.end();
}

// ---------------------------------------------------------------------------------------
// dequant_f16: eight consecutive elements of a row per thread and step (one 16-byte store;
// a warp writes 512 contiguous bytes). Eight elements never straddle a quant block (QK is
// 32 or 256) and share one scale in every format, so the K-quants decode their scale once
// per eight instead of once per element as get() would. Each value is computed with the
// very expression of the format's get(), so the results are identical bit for bit.

// Elements i0..i0+7 of the block at b. Generic: get() per element; the compiler merges
// the repeated header loads of a block.
template <class F>
struct Dequant8 {
  __device__ static void values(const u8* b, int i0, float (&v)[8]) {
#pragma unroll
    for (int u = 0; u < 8; ++u) v[u] = F::get(b, i0 + u);
  }
};

// Q4_K (144-byte blocks, 16-byte aligned in a row): the eight nibbles come from eight
// consecutive qs bytes, one 8-byte load.
template <>
struct Dequant8<FmtQ4_K> {
  __device__ static void values(const u8* b, int i0, float (&v)[8]) {
    const int j = i0 >> 5, l0 = i0 & 31;
    int sc, m;
    k4_scale_min(K4Bytes{b + 4}, j, sc, m);
    const u64 qs = *reinterpret_cast<const u64*>(b + 16 + 32 * (j >> 1) + l0);
    const int shift = 4 * (j & 1);
    const float d = h2f(*reinterpret_cast<const u16*>(b)), dmin = h2f(*reinterpret_cast<const u16*>(b + 2));
#pragma unroll
    for (int u = 0; u < 8; ++u) {
      const int q = static_cast<int>((qs >> (8 * u + shift)) & 15u);
      v[u] = d * static_cast<float>(sc * q) - dmin * static_cast<float>(m);
    }
  }
};

// Q5_K (176-byte blocks, 16-byte aligned): qs as Q4_K, the fifth bits from eight qh bytes.
template <>
struct Dequant8<FmtQ5_K> {
  __device__ static void values(const u8* b, int i0, float (&v)[8]) {
    const int j = i0 >> 5, l0 = i0 & 31;
    int sc, m;
    k4_scale_min(K4Bytes{b + 4}, j, sc, m);
    const u64 qs = *reinterpret_cast<const u64*>(b + 48 + 32 * (j >> 1) + l0);
    const u64 qh = *reinterpret_cast<const u64*>(b + 16 + l0);
    const int shift = 4 * (j & 1);
    const float d = h2f(*reinterpret_cast<const u16*>(b)), dmin = h2f(*reinterpret_cast<const u16*>(b + 2));
#pragma unroll
    for (int u = 0; u < 8; ++u) {
      const int q = static_cast<int>(((qs >> (8 * u + shift)) & 15u) | (((qh >> (8 * u + j)) & 1u) << 4));
      v[u] = d * static_cast<float>(sc * q) - dmin * static_cast<float>(m);
    }
  }
};

// Q6_K (210-byte blocks, only 2-byte aligned): eight ql and eight qh bytes through
// 2-byte-aligned u32 reads; the eight share one of the 16-element int8 scales.
template <>
struct Dequant8<FmtQ6_K> {
  __device__ static void values(const u8* b, int i0, float (&v)[8]) {
    const int h = i0 >> 7, t = (i0 >> 5) & 3, l0 = i0 & 31;
    const u8* ql = b + 64 * h + 32 * (t & 1) + l0;
    const u8* qh = b + 128 + 32 * h + l0;
    const u64 lo8 = ld_u32_a2(ql) | (static_cast<u64>(ld_u32_a2(ql + 4)) << 32);
    const u64 hi8 = ld_u32_a2(qh) | (static_cast<u64>(ld_u32_a2(qh + 4)) << 32);
    const int sc = reinterpret_cast<const i8*>(b + 192)[8 * h + 2 * t + (l0 >> 4)];
    const int lshift = 4 * (t >> 1), hshift = 2 * t;
    const float d = h2f(*reinterpret_cast<const u16*>(b + 208));
#pragma unroll
    for (int u = 0; u < 8; ++u) {
      const int lo = static_cast<int>((lo8 >> (8 * u + lshift)) & 15u);
      const int hi = static_cast<int>((hi8 >> (8 * u + hshift)) & 3u);
      v[u] = d * static_cast<float>(sc * ((lo | (hi << 4)) - 32));
    }
  }
};

// F32 rows (128-byte blocks, 16-byte aligned): two 16-byte loads.
template <>
struct Dequant8<FmtF32> {
  __device__ static void values(const u8* b, int i0, float (&v)[8]) {
    const float4 x = *reinterpret_cast<const float4*>(b + 4 * i0);
    const float4 y = *reinterpret_cast<const float4*>(b + 4 * i0 + 16);
    v[0] = x.x, v[1] = x.y, v[2] = x.z, v[3] = x.w, v[4] = y.x, v[5] = y.y, v[6] = y.z, v[7] = y.w;
  }
};

// The eight elements as f16 (f2h of each), ready for one 16-byte store.
template <class F>
__device__ __forceinline__ uint4 dequant8(const u8* b, int i0) {
  float v[8];
  Dequant8<F>::values(b, i0, v);
  uint4 o;
  o.x = pack_f16x2(v[0], v[1]);
  o.y = pack_f16x2(v[2], v[3]);
  o.z = pack_f16x2(v[4], v[5]);
  o.w = pack_f16x2(v[6], v[7]);
  return o;
}

// F16 rows (64-byte blocks, 16-byte aligned) are copied: f2h(h2f(x)) == x but for NaN
// payloads.
template <>
__device__ __forceinline__ uint4 dequant8<FmtF16>(const u8* b, int i0) {
  return *reinterpret_cast<const uint4*>(b + 2 * i0);
}

template <int K, class F, class B>
__device__ void dequant_f16(const KArgs& a, const B& blk) {
  static_assert(K % F::QK == 0 && K % 8 == 0, "whole blocks, whole groups of eight");
  blk.begin();  // the previous kernel may still read `out` (the f16 scratch)
  Trace trace(reinterpret_cast<u64*>(a.p[4]), blk);
  const u8* w = reinterpret_cast<const u8*>(a.p[0]);
  const long long stride = static_cast<long long>(a.p[1]);
  const long long groups = static_cast<long long>(a.p[2]) * (K / 8);
  uint4* out = reinterpret_cast<uint4*>(a.p[3]);  // group g is out[g]: rows are K / 8 groups
  for (long long g = static_cast<long long>(blk.x) * kThreads + blk.thread; g < groups;
       g += static_cast<long long>(blk.nx) * kThreads) {
    const long long r = g / (K / 8);
    const int e = static_cast<int>(g - r * (K / 8)) * 8;  // first element of the group
    out[g] = dequant8<F>(w + r * stride + (e / F::QK) * F::BB, e % F::QK);
  }
  trace.end();
}

// ---------------------------------------------------------------------------------------
// gemm_f16: C = A B^T on mma.sync m16n8k16 (f16 in, f32 accumulate).
//
// Block tile 128 tokens x 128 weight rows x 32 k; 8 warps as 2 (tokens) x 4 (rows), warp
// tile 64 x 32: per 16-wide k step a warp loads 4 A fragments and 2 x4 B fragments (six
// ldmatrix.x4) for 16 MMAs, so each fragment register feeds 2 to 4 MMAs. A stage is
// 8 KB of A and 8 KB of B, copied with 16-byte cp.async.cg (each thread two chunks of
// each); kGemmStages stages keep three k tiles in flight while the fourth is computed.
// Shared memory rows are 64 bytes (32 halves, four 16-byte chunks); chunk c of row r
// is stored at chunk c ^ ((r / 2) % 4), so the eight rows one ldmatrix matrix reads
// (same logical chunk, eight consecutive rows) land in eight distinct 16-byte bank
// groups: no bank conflicts, and no padding.
constexpr int kGemmBM = 128, kGemmBN = 128, kGemmBK = 32, kGemmStages = 4;
constexpr int kGemmThreads = 256;
constexpr int kGemmTileBytes = kGemmBM * kGemmBK * 2;  // one operand of one stage (= BN * BK * 2)
constexpr int kGemmStageBytes = 2 * kGemmTileBytes;

__host__ __device__ constexpr int gemm_smem_bytes() { return kGemmStages * kGemmStageBytes; }

enum GemmEpilogue { kEpiStore = 0, kEpiResidual = 1, kEpiSwiglu = 2 };

// The epilogue of one result (column j, element `at` of the output): the bias, then the
// residual or the SwiGLU gate from aux.
template <int Epi>
__device__ __forceinline__ float gemm_value(const float* bias, const float* aux, long long at, int j,
                                            float v) {
  if (bias) v += bias[j];
  if constexpr (Epi == kEpiResidual) v = aux[at] + v;
  if constexpr (Epi == kEpiSwiglu) v = aux[at] / (1.0f + expf(-aux[at])) * v;  // as gate_up_swiglu
  return v;
}

// The epilogue of one pair of results (columns j, j + 1 at element `at`), stored together.
template <int Epi>
__device__ __forceinline__ void gemm_store(float* C, const float* bias, const float* aux,
                                           long long at, int j, float v0, float v1) {
  *reinterpret_cast<float2*>(C + at) =
      make_float2(gemm_value<Epi>(bias, aux, at, j, v0), gemm_value<Epi>(bias, aux, at + 1, j + 1, v1));
}

// Byte offset of 16-byte chunk c of row r in a 64-byte-row swizzled tile.
__device__ __forceinline__ int gemm_swz(int r, int c) { return r * 64 + ((c ^ ((r >> 1) & 3)) << 4); }

template <int K, int Epi>
__device__ __forceinline__ void gemm_tile(const u16* A, const u16* B, int N, int n, int m0, int n0,
                                          float* C, const float* bias, const float* aux, unsigned t) {
  static_assert(kGemmBM == kGemmBN, "one copy loop serves A and B tiles");
  constexpr int kTiles = K / kGemmBK;
  extern __shared__ __align__(16) u8 smem[];
  const u32 s0 = smem_addr(smem);
  const int tid = t, lane = tid % kWarp, warp = tid / kWarp;
  const int wm = warp / 4, wn = warp % 4;  // warp tile rows wm*64.., cols wn*32..

  // Copy assignment: chunk q = tid + 256i (i = 0, 1) of a 128-row x 4-chunk tile, i.e. row
  // q / 4, chunk q % 4; a warp copies eight whole 64-byte row pieces. Rows past n (A) or
  // past N (B) are zero-filled from a valid address and never read.
  const u16* srcA[2];
  const u16* srcB[2];
  bool okA[2], okB[2];
  int dst[2];
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    const int q = tid + kGemmThreads * i, r = q / 4, c = q % 4;
    okA[i] = m0 + r < n;
    okB[i] = n0 + r < N;
    srcA[i] = A + static_cast<long long>(okA[i] ? m0 + r : 0) * K + 8 * c;
    srcB[i] = B + static_cast<long long>(okB[i] ? n0 + r : 0) * K + 8 * c;
    dst[i] = gemm_swz(r, c);
  }
  auto load_tile = [&](int stage, int kt) {
    const u32 sa = s0 + stage * kGemmStageBytes, sb = sa + kGemmTileBytes;
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      cp_async16(sa + dst[i], srcA[i] + kt * kGemmBK, okA[i]);
      cp_async16(sb + dst[i], srcB[i] + kt * kGemmBK, okB[i]);
    }
  };

  // ldmatrix addresses (tensor_core.cuh). A fragment mi, k step ks: lanes 0-15 give rows
  // 0-15 at chunk 2ks, lanes 16-31 rows 0-15 at chunk 2ks + 1 (registers a0..a3). B pair p
  // (weight rows 16p..16p+15), k step ks: lanes 0-7 rows 0-7 chunk 2ks (b0 of fragment 2p),
  // 8-15 rows 0-7 chunk 2ks+1 (b1), 16-23 rows 8-15 chunk 2ks (b0 of 2p+1), 24-31 rows 8-15
  // chunk 2ks+1. The swizzle term (r / 2) % 4 is (lane / 2) % 4 for both, since fragment
  // bases are multiples of 8 rows.
  int offA[2], offB[2];
#pragma unroll
  for (int ks = 0; ks < 2; ++ks) {
    offA[ks] = gemm_swz(wm * 64 + (lane & 15), 2 * ks + (lane >> 4));
    offB[ks] = gemm_swz(wn * 32 + (lane & 7) + ((lane >> 4) << 3), 2 * ks + ((lane >> 3) & 1));
  }

  float acc[4][4][4];
#pragma unroll
  for (int mi = 0; mi < 4; ++mi)
#pragma unroll
    for (int ni = 0; ni < 4; ++ni)
#pragma unroll
      for (int e = 0; e < 4; ++e) acc[mi][ni][e] = 0.0f;

  // Pipeline: group k carries tile k (empty groups past the last tile keep the count
  // uniform). Before computing tile kt, kGemmStages - 1 + kt groups were committed;
  // waiting until at most kGemmStages - 2 are pending completes groups 0..kt. The barrier
  // then publishes tile kt to every warp and certifies that all warps finished tile kt - 1,
  // whose stage ((kt - 1) % S = (kt + S - 1) % S) the copy issued next overwrites.
#pragma unroll
  for (int s = 0; s < kGemmStages - 1; ++s) {
    if (s < kTiles) load_tile(s, s);
    cp_async_commit();
  }
#pragma unroll 1
  for (int kt = 0; kt < kTiles; ++kt) {
    cp_async_wait<kGemmStages - 2>();
    __syncthreads();
    if (kt + kGemmStages - 1 < kTiles) load_tile((kt + kGemmStages - 1) % kGemmStages, kt + kGemmStages - 1);
    cp_async_commit();
    const u32 sa = s0 + (kt % kGemmStages) * kGemmStageBytes, sb = sa + kGemmTileBytes;
#pragma unroll
    for (int ks = 0; ks < 2; ++ks) {
      u32 af[4][4], bf[4][2];
#pragma unroll
      for (int mi = 0; mi < 4; ++mi) ldmatrix_x4(af[mi], sa + offA[ks] + mi * 16 * 64);
#pragma unroll
      for (int p = 0; p < 2; ++p) {
        u32 r[4];
        ldmatrix_x4(r, sb + offB[ks] + p * 16 * 64);
        bf[2 * p][0] = r[0];
        bf[2 * p][1] = r[1];
        bf[2 * p + 1][0] = r[2];
        bf[2 * p + 1][1] = r[3];
      }
#pragma unroll
      for (int mi = 0; mi < 4; ++mi)
#pragma unroll
        for (int ni = 0; ni < 4; ++ni) mma_16816(acc[mi][ni], af[mi], bf[ni][0], bf[ni][1]);
    }
  }

  // Epilogue straight from the C fragments: a lane holds columns 2c, 2c+1 of rows g and
  // g + 8 of each 16x8 tile; a quad writes 32 contiguous bytes of a row (whole sectors).
  const int g = lane >> 2, c = lane & 3;
#pragma unroll
  for (int mi = 0; mi < 4; ++mi)
#pragma unroll
    for (int hh = 0; hh < 2; ++hh) {
      const int t = m0 + wm * 64 + mi * 16 + g + 8 * hh;
      if (t >= n) continue;
#pragma unroll
      for (int ni = 0; ni < 4; ++ni) {
        const int j = n0 + wn * 32 + ni * 8 + 2 * c;
        if (j >= N) continue;  // N % 8 == 0: j < N implies j + 1 < N
        gemm_store<Epi>(C, bias, aux, static_cast<long long>(t) * N + j, j, acc[mi][ni][2 * hh],
                        acc[mi][ni][2 * hh + 1]);
      }
    }
}

template <int K, int Epi, class B>
__device__ void gemm_f16(const KArgs& a, const B& blk) {
  static_assert(K % kGemmBK == 0, "K must be a multiple of the k tile (32)");
  static_assert(Epi == kEpiStore || Epi == kEpiResidual || Epi == kEpiSwiglu, "epilogue");
  blk.begin();
  Trace trace(reinterpret_cast<u64*>(a.p[7]), blk);
  const int n = reinterpret_cast<const Step*>(a.p[6])->n_tokens, N = static_cast<int>(a.p[2]);
  // Token tiles vary fastest over the grid, so the blocks that share a weight tile run
  // together and read it from HBM once (a 7B FFN matrix in f16 is 136 MB, twice the L2);
  // the f16 activations (at most T x K x 2 bytes) stay in L2.
  const int m0 = blk.x * kGemmBM, n0 = blk.y * kGemmBN;
  // Token tiles past the step's tokens do nothing (all blocks still reach trace.end()).
  if (m0 < n && n0 < N)
    gemm_tile<K, Epi>(reinterpret_cast<const u16*>(a.p[0]), reinterpret_cast<const u16*>(a.p[1]), N, n,
                      m0, n0, reinterpret_cast<float*>(a.p[3]), reinterpret_cast<const float*>(a.p[4]),
                      reinterpret_cast<const float*>(a.p[5]), blk.thread);
  trace.end();
}

// ---------------------------------------------------------------------------------------
// gemm_dq: the matrix products of steps of at most kDqTokens tokens (a server's batch of
// decode tokens): the weights are dequantized in registers straight into MMA fragments, so
// each weight byte is read once from HBM and no f16 copy is written. The weights are the
// MMA's A operand (a warp's 16 rows are m16) and the tokens its B operand (n8 tiles), so a
// step of 8 tokens costs half the MMAs of 16, and each token tile's B fragment of two k16
// steps is one 16-byte shared load, in place. The k order is permuted alike for both
// operands, which leaves the dot products unchanged. Q4_K and Q6_K go a whole block at a
// time (DqK4, DqK6: two values per f16x2 instruction, each its own order); other formats
// in pairs of sub-blocks (DqPair, per value through Dequant8), a lane taking values
// 8c..8c+7 of each sub-block, four per k16 step. The next block's or pair's bytes are
// loaded while one is decoded and multiplied.
//
// Block: 8 warps of 16 weight rows each, all the step's tokens; the tokens' f16 rows are
// staged in shared memory 256 values at a time, two pieces in flight (swizzled by
// dq_chunk). Grid (N / 128, S): split s takes the pairs (Q4_K: blocks) of sub-blocks
// [s K/64 / S, (s+1) K/64 / S), so that matrices of few rows still fill the device; with
// S > 1 each split writes its partial sums, and the last split of a row block to finish
// adds them in split order (deterministic) and applies the epilogue: a reduction kernel
// after each split product cost the 7B's 16-token step seven launches per layer, 4 to 5 us
// each (H200).
//
// Up to three matrices of one format and K against the same tokens (a QKV brick's) share
// a launch, their row blocks one after another over the grid: the 7B's k and v products
// alone were 4 row blocks each, 9 to 11 us of mostly latency per launch (H200).
//
// gemm_dq<K, F, Epi>         block 256, grid ((N0 + N1 + N2) / 128, S), dynamic shared
//   memory gemm_dq_smem_bytes() = 65536 (above 48 KB: the runtime raises the limit).
//   0 A (f16 [T][K])  1 W0 (rows of K elements of format F)  2 W0's row stride (bytes)
//   3 N0  4 out0 (f32 [T][N0])  5 bias0 (f32 [N0] or 0)  6 aux (f32 [T][N0] or 0; with one
//   matrix)  7 step  8 trace  9 partials (f32 [S][n][N0 + N1 + N2]; unused when S = 1)
//   10 counters (u32 [(N0 + N1 + N2) / 128], zero before the launch and left zero after
//   it; unused when S = 1)  11-15 W1, stride, N1, out1, bias1  16-20 W2, ... (N1, N2 = 0:
//   no such matrix)
//   out_m = gemm_f16's epilogue Epi of W_m's sums over K (with S > 1: of the splits'
//   partial sums added in split order). aux may alias out0. Requires T <= 64,
//   N_m % 128 == 0, K % 64 == 0.
constexpr int kDqTokens = 64, kDqRows = 128, kDqPiece = 8;  // piece: sub-blocks staged at once

__host__ __device__ constexpr int gemm_dq_smem_bytes() { return 2 * kDqTokens * kDqPiece * 64; }

// The weight fragment registers of one sub-block for a lane's two rows: values k..k+7 of
// each, two per register.
template <class F>
__device__ __forceinline__ void dq_fragments(const u8* const (&wrow)[2], int k, u32 (&bf)[2][4]) {
#pragma unroll
  for (int ni = 0; ni < 2; ++ni) {
    float v[8];
    Dequant8<F>::values(wrow[ni] + (k / F::QK) * F::BB, k % F::QK, v);
#pragma unroll
    for (int e = 0; e < 4; ++e) bf[ni][e] = pack_f16x2(v[2 * e], v[2 * e + 1]);
  }
}

// The fragments of an even sub-block and the next (k: the even one's first value plus 8c),
// in two steps so that the main loop can load the next pair's bytes (load: into Raw)
// while it decodes this one's (decode). The generic form loads as it decodes.
template <class F>
struct DqPair {
  struct Raw {
    int k;
  };
  __device__ static void load(const u8* const (&)[2], int k, Raw& r) { r.k = k; }
  __device__ static void decode(const u8* const (&wrow)[2], const Raw& r, u32 (&b0)[2][4],
                                u32 (&b1)[2][4]) {
    dq_fragments<F>(wrow, r.k, b0);
    dq_fragments<F>(wrow, r.k + 32, b1);
  }
};

// f16x2 arithmetic of the decoders below, two values per instruction.
__device__ __forceinline__ u32 hsub2(u32 a, u32 b) {
  u32 r;
  asm("sub.rn.f16x2 %0, %1, %2;" : "=r"(r) : "r"(a), "r"(b));
  return r;
}
__device__ __forceinline__ u32 hfma2(u32 a, u32 b, u32 c) {
  u32 r;
  asm("fma.rn.f16x2 %0, %1, %2, %3;" : "=r"(r) : "r"(a), "r"(b), "r"(c));
  return r;
}

__device__ __forceinline__ u32 hmul2(u32 a, u32 b) {
  u32 r;
  asm("mul.rn.f16x2 %0, %1, %2;" : "=r"(r) : "r"(a), "r"(b));
  return r;
}

// Q4_K a whole block per step of the loop (DqK4), which the block's share of the
// instructions needs: per pair, a lane's address arithmetic and scale decoding cost more
// than its sixteen values' decoding (ncu: 2.2 instructions per cycle per SM at under 1 TB/s
// on the 7B's gate). Lane c takes the block's pair c, sub-blocks 2c and 2c + 1: its 32 qs
// bytes (two 16-byte loads per row), whose low nibbles are the first sub-block and high
// nibbles the second, and the pair's scales once. MMA step j (16 per block) takes the
// lane's values 4j..4j+3 (real k = 64c + 4j + i for its fragment k 2c, 2c+1, 2c+8, 2c+9):
// qs word j's low nibbles for j < 8, word j - 8's high nibbles after; the activations of
// those k are the lane's 16-byte chunk 8c + j / 2 of the token row.
// Only the qs bytes are loaded a block ahead: the header shares a 128-byte line with
// them, so it is read from L1 when its block starts, and 8 registers fewer keep the
// kernel at two blocks per SM without spills.
struct DqK4 {
  struct Raw {
    uint4 q[2][2];  // [row][half]: the pair's qs bytes
  };
  struct Factors {
    u32 scale[2][2], bias[2][2];  // [row][sub-block]: d * sc and -dmin * m in f16x2
  };
  __device__ static const uint4* at(const u8* row, int blk) {
    return reinterpret_cast<const uint4*>(row + blk * FmtQ4_K::BB);
  }
  __device__ static void load(const u8* const (&wrow)[2], int blk, int c, Raw& r) {
#pragma unroll
    for (int ni = 0; ni < 2; ++ni) {
      r.q[ni][0] = at(wrow[ni], blk)[1 + 2 * c];
      r.q[ni][1] = at(wrow[ni], blk)[2 + 2 * c];
    }
  }
  __device__ static void factors(const u8* const (&wrow)[2], int blk, int c, Factors& f) {
#pragma unroll
    for (int ni = 0; ni < 2; ++ni) {
      const uint4 h = at(wrow[ni], blk)[0];
      int sc[2], m[2];
      k4_pair_scales(h, c, sc, m);
      const float d = h2f(static_cast<u16>(h.x & 0xFFFFu)), dmin = h2f(static_cast<u16>(h.x >> 16));
#pragma unroll
      for (int s = 0; s < 2; ++s) {
        f.scale[ni][s] = pack_f16x2(d * static_cast<float>(sc[s]), d * static_cast<float>(sc[s]));
        f.bias[ni][s] = pack_f16x2(-dmin * static_cast<float>(m[s]), -dmin * static_cast<float>(m[s]));
      }
    }
  }
  // A row's two fragment registers of four nibbles n0..n3 (one per byte of nib): a nibble n is
  // placed in a half as 1024 + n (exponent bits 0x6400), 1024 is subtracted (exact), and
  // n * scale + bias is one fused multiply-add of the rounded factors.
  __device__ static void fragment(u32 nib, u32 scale, u32 bias, u32& b0, u32& b1) {
    const u32 lo = __byte_perm(nib, 0x64646464u, 0x5140), hi = __byte_perm(nib, 0x64646464u, 0x5342);
    b0 = hfma2(hsub2(lo, 0x64006400u), scale, bias);
    b1 = hfma2(hsub2(hi, 0x64006400u), scale, bias);
  }
  // The block's 16 k16 steps in pairs: steps(chunk, w0, w1) with the token chunk of steps
  // w, w + 1 (hh 0: words w, w + 1's low nibbles) or 8 + w, 9 + w (high).
  template <class Steps>
  __device__ static void multiply(const Raw& r, const Factors& f, int c, const Steps& steps) {
#pragma unroll
    for (int w = 0; w < 8; w += 2)
#pragma unroll
      for (int hh = 0; hh < 2; ++hh) {
        u32 fr[2][4];  // [step]: rows g, g + 8 in the A fragment's order
#pragma unroll
        for (int e = 0; e < 2; ++e)
#pragma unroll
          for (int ni = 0; ni < 2; ++ni) {
            const uint4& v = r.q[ni][(w + e) >> 2];
            const int i = (w + e) & 3;
            const u32 word = i == 0 ? v.x : i == 1 ? v.y : i == 2 ? v.z : v.w;
            fragment((word >> (4 * hh)) & 0x0F0F0F0Fu, f.scale[ni][hh], f.bias[ni][hh], fr[e][ni],
                     fr[e][ni + 2]);
          }
        steps(8 * c + 4 * hh + w / 2, fr[0], fr[1]);
      }
  }
};

// Q6_K a whole block per loop step (DqK6): lane c takes values 8c..8c+7 of each of the
// block's eight 32-value groups 4n + j (the pair path's k order, so the token chunk of a
// group's two steps is 4 (4n + j) + c): ql bytes 64n + 32 (j & 1) + 8c.., nibble j >> 1,
// and qh bytes 32n + 8c.., bits 2j, loaded once for the four groups of a half; the scale
// bytes and d once per block. Blocks are 210 bytes, 2-byte aligned: words through ld_u32_a2.
struct DqK6 {
  struct Raw {
    u32 ql[2][2][2][2];  // [row][half n][ql half][word]
    u32 qh[2][2][2];     // [row][half n][word]
  };
  struct Factors {
    u32 sc[2][4];  // [row]: the 16 scale bytes
    float d[2];
  };
  __device__ static const u8* at(const u8* row, int blk) { return row + blk * FmtQ6_K::BB; }
  __device__ static void load(const u8* const (&wrow)[2], int blk, int c, Raw& r) {
#pragma unroll
    for (int ni = 0; ni < 2; ++ni) {
      const u8* b = at(wrow[ni], blk);
#pragma unroll
      for (int n = 0; n < 2; ++n)
#pragma unroll
        for (int w = 0; w < 2; ++w) {
          r.ql[ni][n][0][w] = ld_u32_a2(b + 64 * n + 8 * c + 4 * w);
          r.ql[ni][n][1][w] = ld_u32_a2(b + 64 * n + 32 + 8 * c + 4 * w);
          r.qh[ni][n][w] = ld_u32_a2(b + 128 + 32 * n + 8 * c + 4 * w);
        }
    }
  }
  __device__ static void factors(const u8* const (&wrow)[2], int blk, int, Factors& f) {
#pragma unroll
    for (int ni = 0; ni < 2; ++ni) {
      const u8* b = at(wrow[ni], blk);
#pragma unroll
      for (int i = 0; i < 4; ++i) f.sc[ni][i] = ld_u32_a2(b + 192 + 4 * i);
      f.d[ni] = h2f(*reinterpret_cast<const u16*>(b + 208));
    }
  }
  template <class Steps>
  __device__ static void multiply(const Raw& r, const Factors& f, int c, const Steps& steps) {
#pragma unroll
    for (int n = 0; n < 2; ++n)
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        u32 fr[2][4];  // [step]: rows g, g + 8 in the A fragment's order
#pragma unroll
        for (int ni = 0; ni < 2; ++ni) {
          // Sub-block 8n + 2j + (c >> 1): scale word 2n + (j >> 1), byte 2 (j & 1) + (c >> 1).
          const u32 sb = f.sc[ni][2 * n + (j >> 1)] >> (8 * (2 * (j & 1) + (c >> 1)));
          const float s = f.d[ni] * static_cast<float>(static_cast<i8>(sb & 0xFFu));
          const u32 scale = pack_f16x2(s, s);
#pragma unroll
          for (int e = 0; e < 2; ++e) {
            const u32 q = ((r.ql[ni][n][j & 1][e] >> (4 * (j >> 1))) & 0x0F0F0F0Fu) |
                          (((r.qh[ni][n][e] >> (2 * j)) & 0x03030303u) << 4);
            // Six-bit q as 1024 + q in halves, minus 1056 (exact), times the rounded d * sc.
            const u32 lo = __byte_perm(q, 0x64646464u, 0x5140), hi = __byte_perm(q, 0x64646464u, 0x5342);
            fr[e][ni] = hmul2(hsub2(lo, 0x64206420u), scale);
            fr[e][ni + 2] = hmul2(hsub2(hi, 0x64206420u), scale);
          }
        }
        steps(4 * (4 * n + j) + c, fr[0], fr[1]);
      }
  }
};

// The whole-block decoder of a format (on) or none (pairs, DqPair).
template <class F>
struct DqWhole {
  static constexpr bool on = false;
  using D = void;
};
template <>
struct DqWhole<FmtQ4_K> {
  static constexpr bool on = true;
  using D = DqK4;
};
template <>
struct DqWhole<FmtQ6_K> {
  static constexpr bool on = true;
  using D = DqK6;
};

// Where the 16-byte chunk q of token row r of a staged piece lies: the lanes of one load
// phase (rows 8 ti + g for two neighbouring g, chunks 4 j + c or 8c + t for c = 0..3)
// read eight distinct bank groups when the chunk is XORed with its bits 3-4 and the
// row's parity.
__device__ __forceinline__ int dq_chunk(int r, int q) { return q ^ (((q >> 3) & 3) | ((r & 1) << 2)); }

template <int K, class F, int Epi, class B>
__device__ void gemm_dq(const KArgs& a, const B& blk) {
  static_assert(K % 64 == 0 && K % F::QK == 0, "whole pairs of sub-blocks, whole format blocks");
  using Whole = typename DqWhole<F>::D;
  constexpr bool kWhole = DqWhole<F>::on;  // a whole block per loop step
  extern __shared__ __align__(16) u8 smem[];
  blk.begin();
  Trace trace(reinterpret_cast<u64*>(a.p[8]), blk);
  const int n = reinterpret_cast<const Step*>(a.p[7])->n_tokens;
  // This block's matrix m, its row block xb in it, and `before`: the rows of the matrices
  // ahead of m (where m's columns start in the partial sums).
  const int n0 = static_cast<int>(a.p[3]), n1 = static_cast<int>(a.p[13]);
  const int m = blk.x * kDqRows < n0 ? 0 : blk.x * kDqRows < n0 + n1 ? 1 : 2;
  const int before = m == 0 ? 0 : m == 1 ? n0 : n0 + n1, xb = blk.x - before / kDqRows;
  const u64 w_base = m == 0 ? a.p[1] : m == 1 ? a.p[11] : a.p[16];
  const int N = static_cast<int>(m == 0 ? a.p[3] : m == 1 ? a.p[13] : a.p[18]);
  const int lane = blk.thread % kWarp, warp = blk.thread / kWarp, g = lane >> 2, c = lane & 3;
  const int row0 = xb * kDqRows + warp * 16, nt = (n + 7) / 8;
  // Splits, pieces and groups start at even sub-blocks; the whole-block decoders' at whole blocks.
  constexpr int kUnit = kWhole ? 8 : 2, kUnits = K / 32 / kUnit;
  const int sb0 = kUnit * (blk.y * kUnits / blk.ny), sb1 = kUnit * ((blk.y + 1) * kUnits / blk.ny);
  const long long stride = static_cast<long long>(m == 0 ? a.p[2] : m == 1 ? a.p[12] : a.p[17]);
  // The whole-block decoders count blocks from the split's first, so its rows start there.
  const long long skip = kWhole ? sb0 / 8 * F::BB : 0;
  const u8* const wrow[2] = {reinterpret_cast<const u8*>(w_base) + (row0 + g) * stride + skip,
                             reinterpret_cast<const u8*>(w_base) + (row0 + 8 + g) * stride + skip};
  const u32 s0 = smem_addr(smem);
  constexpr int kRowBytes = kDqPiece * 64, kBufBytes = kDqTokens * kRowBytes;

  // acc[ti]: rows g, g + 8 of the warp's 16 times tokens 8 ti + 2c, + 1 (the C fragment).
  float acc[kDqTokens / 8][4];
#pragma unroll
  for (int ti = 0; ti < kDqTokens / 8; ++ti)
#pragma unroll
    for (int e = 0; e < 4; ++e) acc[ti][e] = 0.0f;

  // Piece p (kDqPiece sub-blocks from sb0 + p * kDqPiece) of every token row into buffer
  // p % 2, one cp.async group. A is read from the parameters here, not kept in registers.
  auto stage = [&](int p) {
    const u16* A = reinterpret_cast<const u16*>(a.p[0]);
    const int first = sb0 + p * kDqPiece, chunks = min(kDqPiece, sb1 - first) * 4;
    const u32 buf = s0 + (p & 1) * kBufBytes;
    for (int q = blk.thread; q < n * chunks; q += kThreads) {
      const int r = q / chunks, ch = q % chunks;
      cp_async16(buf + r * kRowBytes + (dq_chunk(r, ch) << 4),
                 A + static_cast<long long>(r) * K + first * 32 + ch * 8, true);
    }
    cp_async_commit();
  };
  const int pieces = (sb1 - sb0 + kDqPiece - 1) / kDqPiece;
  // The barrier after the wait publishes piece p and certifies that every warp is done
  // with the piece before, whose buffer the next piece then overwrites.
  auto next_piece = [&](int p) {
    cp_async_wait<0>();
    __syncthreads();
    if (p + 1 < pieces) stage(p + 1);
  };
  // Two k16 steps for every token tile: w0, w1 the weight fragments, chunk the 16-byte
  // chunk of token row 8 ti + g holding the steps' activations (the first step's in its
  // first 8 bytes: the B fragment's two registers, loaded in place).
  auto steps = [&](u32 buf, int chunk, const u32 (&w0)[4], const u32 (&w1)[4]) {
#pragma unroll
    for (int ti = 0; ti < kDqTokens / 8; ++ti) {
      if (ti >= nt) break;
      const int r = 8 * ti + g;
      const uint4 x = lds_u128(buf + r * kRowBytes + (dq_chunk(r, chunk) << 4));
      mma_16816(acc[ti], w0, x.x, x.y);
      mma_16816(acc[ti], w1, x.z, x.w);
    }
  };
  stage(0);
  if constexpr (kWhole) {
    static_assert(kDqPiece == 8, "a piece is one 256-value block");
    // Block p: its bytes were loaded while block p - 1 was decoded and multiplied.
    auto block = [&](int p, const typename Whole::Raw& cur, typename Whole::Raw& next) {
      typename Whole::Factors f;
      Whole::factors(wrow, p, c, f);
      next_piece(p);
      if (p + 1 < pieces) Whole::load(wrow, p + 1, c, next);
      const u32 buf = s0 + (p & 1) * kBufBytes;
      Whole::multiply(cur, f, c, [&](int chunk, const u32(&w0)[4], const u32(&w1)[4]) {
        steps(buf, chunk, w0, w1);
      });
    };
    typename Whole::Raw r0, r1;
    Whole::load(wrow, 0, c, r0);
#pragma unroll 1
    for (int p = 0; p < pieces; p += 2) {
      block(p, r0, r1);
      if (p + 1 < pieces) block(p + 1, r1, r0);
    }
  } else {
    // Pair q (sub-blocks sb0 + 2q, + 1): its weight bytes are loaded while the pair before
    // it is decoded and multiplied (two Raw buffers, used in turn).
    using Raw = typename DqPair<F>::Raw;
    constexpr int kPiecePairs = kDqPiece / 2;
    const int pairs = (sb1 - sb0) / 2;
    auto pair = [&](int q, const Raw& cur, Raw& next) {
      if (q % kPiecePairs == 0) next_piece(q / kPiecePairs);
      if (q + 1 < pairs) DqPair<F>::load(wrow, (sb0 + 2 * q + 2) * 32 + 8 * c, next);
      u32 bf[2][2][4];
      DqPair<F>::decode(wrow, cur, bf[0], bf[1]);
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const u32 w0[4] = {bf[h][0][0], bf[h][1][0], bf[h][0][1], bf[h][1][1]};
        const u32 w1[4] = {bf[h][0][2], bf[h][1][2], bf[h][0][3], bf[h][1][3]};
        steps(s0 + ((q / kPiecePairs) & 1) * kBufBytes, ((q % kPiecePairs) * 2 + h) * 4 + c, w0, w1);
      }
    };
    Raw r0, r1;
    DqPair<F>::load(wrow, sb0 * 32 + 8 * c, r0);
#pragma unroll 1
    for (int q = 0; q < pairs; q += 2) {
      pair(q, r0, r1);
      if (q + 1 < pairs) pair(q + 1, r1, r0);
    }
  }

  float* const out = reinterpret_cast<float*>(m == 0 ? a.p[4] : m == 1 ? a.p[14] : a.p[19]);
  const float* const bias = reinterpret_cast<const float*>(m == 0 ? a.p[5] : m == 1 ? a.p[15] : a.p[20]);
  const float* const aux = reinterpret_cast<const float*>(a.p[6]);
  // Matrix m's partial sums, after the other matrices' before it; split blk.y's at base.
  float* const part = reinterpret_cast<float*>(a.p[9]) + static_cast<long long>(blk.ny) * n * before;
  const long long base = static_cast<long long>(blk.y) * n * N;
#pragma unroll
  for (int ti = 0; ti < kDqTokens / 8; ++ti)
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      const int t = 8 * ti + 2 * c + (e & 1), j = row0 + g + 8 * (e >> 1);
      if (t >= n) continue;
      const long long at = static_cast<long long>(t) * N + j;
      if (blk.ny > 1)
        part[base + at] = acc[ti][e];
      else
        out[at] = gemm_value<Epi>(bias, aux, at, j, acc[ti][e]);
    }
  if (blk.ny > 1) {
    // The barrier orders every thread's partial sums before thread 0's release; the last
    // arrival's acquire, and the barrier after it, order the other splits' sums before the
    // loads (through L2, where they are) that add them.
    __shared__ u32 arrived;
    u32* const counters = reinterpret_cast<u32*>(a.p[10]);
    __syncthreads();
    if (blk.thread == 0) arrived = arrive_acq_rel(counters + blk.x);
    __syncthreads();
    if (arrived == static_cast<u32>(blk.ny) - 1) {
      constexpr int kQuads = kDqRows / 4;  // four rows per thread and token: 16-byte loads
      for (int q = blk.thread; q < n * kQuads; q += kThreads) {
        const int j = xb * kDqRows + 4 * (q % kQuads);
        const long long at = static_cast<long long>(q / kQuads) * N + j;
        float4 v = __ldcg(reinterpret_cast<const float4*>(part + at));
        for (int sp = 1; sp < blk.ny; ++sp) {
          const float4 w = __ldcg(reinterpret_cast<const float4*>(part + sp * static_cast<long long>(n) * N + at));
          v.x += w.x;
          v.y += w.y;
          v.z += w.z;
          v.w += w.w;
        }
        gemm_store<Epi>(out, bias, aux, at, j, v.x, v.y);
        gemm_store<Epi>(out, bias, aux, at + 2, j + 2, v.z, v.w);
      }
      if (blk.thread == 0) counters[blk.x] = 0;  // for the next product that shares them
    }
  }
  trace.end();
}
