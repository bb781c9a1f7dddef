// Causal attention of a T-token (prefill) step, FlashAttention-2 style on tensor cores:
// S = Q K^T and O = P V on mma.sync m16n8k16 (f16 operands, f32 accumulators), with the
// softmax kept online in f32 registers. Not for decode (attention.cuh splits one query
// over the KV length instead).
//
// Contract (n = step->n_tokens, 1 <= n <= T; query t < n is at position p = step->pos + t
// and attends cache positions 0..p; the cache already holds positions 0..pos + n - 1):
// flash_attention<HD, NQ, NKV, Q8>   block kFlashThreads (128), grid (NQ, ceil(T / 64)),
//   dynamic shared memory flash_smem_bytes(HD, Q8) (64 KB at HD 128 for an f16 cache, 66 KB
//   for q8_0; above 48 KB: the runtime raises the function's limit).
//   0 q (f32 [T][NQ * HD], roped)  1 k cache ([max_ctx] positions of KvCache<HD, NKV, Q8>)
//   2 v cache (same)
//   3 step  4 out (f32 [T][NQ * HD])  5 trace
//   Query head h reads KV head h / (NQ / NKV). Rows t >= n are not written; no cache
//   position past pos + n - 1 is read. 250 registers at HD 128 (130 at HD 64) under
//   __launch_bounds__(128): two blocks per SM. Numerics: q * log2(e) / sqrt(HD) and the
//   probabilities are rounded to f16 for the MMAs (about 1e-3 of |v| off f32 attention).
//
// Block (head h, query tile): 64 queries, 4 warps of 16 query rows. Query tiles run from
// the last (the most keys) to the first, so that the long blocks start first. The block
// walks 64-key tiles of its KV head from position 0 to the last key its valid rows need,
// double-buffered: tile j + 1 is copied (16-byte cp.async, one K and one V row per 8 or
// 16 threads) while tile j is computed. Every warp reads the whole K and V tile from
// shared memory (K as the col-major B of S = Q K^T through ldmatrix, V through
// ldmatrix.trans as the B of O = P V); Q stays in registers as f16 A fragments and P
// goes from the S accumulators to A fragments without shared memory. No GQA sharing
// inside a block: the NQ / NKV heads of a KV head are adjacent blocks and read the same
// K/V tiles from L2 (a whole prefill's K/V is a few MB at most). A q8_0 cache's tiles are
// copied as int8 values and scales and widened into one f16 K and V tile (kv_q8_widen),
// which the MMAs read.
#pragma once
#include "kv_cache.cuh"

constexpr int kFlashWarps = 4, kFlashThreads = kFlashWarps * kWarp;
constexpr int kFlashBQ = 16 * kFlashWarps;  // queries per block
constexpr int kFlashBK = 64;                // keys per tile

// Two stages of a K tile and a V tile, 64 rows of HD halves each; of a q8_0 cache, two
// stages of staged q8_0 tiles, then the f16 tiles they are widened into.
__host__ __device__ constexpr int flash_smem_bytes(int hd, bool q8) {
  return q8 ? 2 * 2 * kv_q8_tile_bytes(hd, kFlashBK) + 2 * kFlashBK * hd * 2 : 2 * 2 * kFlashBK * hd * 2;
}

// K/V rows in shared memory are HD * 2 bytes (8 or 16 chunks of 16 bytes); chunk c of row
// r sits at chunk c ^ (r % 8). An ldmatrix matrix reads one logical chunk of 8
// consecutive rows (K: keys; V with .trans: keys too), which land in 8 distinct 16-byte
// bank groups.
template <int HD>
__device__ __forceinline__ int flash_swz(int r, int c) {
  return r * (HD * 2) + ((c ^ (r & 7)) << 4);
}

template <int HD, int NQ, int NKV, bool Q8>
__device__ __forceinline__ void flash_tile(const float* q, const u8* kc, const u8* vc, float* out,
                                           int n, int pos, int h, int m0, unsigned t) {
  using Kv = KvCache<HD, NKV, Q8>;
  constexpr int kChunks = Kv::kRowBytes / 16;          // 16-byte chunks per cache row
  constexpr int kTileBytes = kFlashBK * HD * 2;        // one f16 K or V tile
  constexpr int kCopyTile = Q8 ? kv_q8_tile_bytes(HD, kFlashBK) : kTileBytes;  // ... as copied
  constexpr int kCopies = kFlashBK * kChunks / kFlashThreads;  // chunks per thread per tile
  constexpr int kD = HD / 8;                           // n8 fragments of an O row
  constexpr int kRow = NQ * HD;                        // q/out row length
  static_assert(kFlashBK * kChunks % kFlashThreads == 0, "whole copies per thread");
  extern __shared__ __align__(16) u8 smem[];
  const u32 s0 = smem_addr(smem);
  const int tid = t, lane = tid % kWarp, warp = tid / kWarp;
  const int g = lane >> 2, c = lane & 3;
  const int kvh = h / (NQ / NKV);

  // Keys [0, kv_end) are needed by some valid row of the block (the last valid row t sits
  // at pos + t); keys of the last tile at or past kv_end are zero-filled, never read.
  const int kv_end = pos + min(n, m0 + kFlashBQ);
  const int n_tiles = (kv_end + kFlashBK - 1) / kFlashBK;
  auto load_tile = [&](int stage, int j) {
    const u32 sk = s0 + stage * 2 * kCopyTile, sv = sk + kCopyTile;
#pragma unroll
    for (int i = 0; i < kCopies; ++i) {
      const int x = tid + kFlashThreads * i, r = x / kChunks, ch = x % kChunks;
      const int key = j * kFlashBK + r;
      const bool ok = key < kv_end;
      if constexpr (Q8) {
        const u32 dst = r * HD + 16 * ch, sc = kFlashBK * HD + r * Kv::kScaleBytes;
        kv_q8_copy<HD, NKV>(sk + dst, sk + sc, kc, ok ? key : 0, kvh, ch, ok);
        kv_q8_copy<HD, NKV>(sv + dst, sv + sc, vc, ok ? key : 0, kvh, ch, ok);
      } else {
        const long long at = Kv::row(ok ? key : 0, kvh) + 16 * ch;
        const int d = flash_swz<HD>(r, ch);
        cp_async16(sk + d, kc + at, ok);
        cp_async16(sv + d, vc + at, ok);
      }
    }
  };
  load_tile(0, 0);
  cp_async_commit();

  // Q rows r0 = m0 + 16 warp + g and r0 + 8 as A fragments (layout in tensor_core.cuh),
  // straight from global memory: each quad reads 32 contiguous bytes of a row. Rows past
  // n are zeros (they may lie past the T rows of q). Q is scaled before its rounding to
  // f16, by log2(e) / sqrt(HD): scores come out in the log2 domain (exp2(s - m) is the
  // softmax's exp(s' - m')), and q * 0.09 (HD 128) stays far inside the f16 range.
  const float scale_log2 = 1.4426950408889634f / sqrtf(static_cast<float>(HD));
  const int r0 = m0 + 16 * warp + g, r1 = r0 + 8;
  u32 qf[HD / 16][4];
  {
    const float* q0 = q + static_cast<long long>(r0) * kRow + h * HD + 2 * c;
    const float* q1 = q + static_cast<long long>(r1) * kRow + h * HD + 2 * c;
    const bool ok0 = r0 < n, ok1 = r1 < n;
    const float2 z = make_float2(0.0f, 0.0f);
#pragma unroll
    for (int kd = 0; kd < HD / 16; ++kd) {
      const float2 x00 = ok0 ? *reinterpret_cast<const float2*>(q0 + 16 * kd) : z;
      const float2 x10 = ok1 ? *reinterpret_cast<const float2*>(q1 + 16 * kd) : z;
      const float2 x01 = ok0 ? *reinterpret_cast<const float2*>(q0 + 16 * kd + 8) : z;
      const float2 x11 = ok1 ? *reinterpret_cast<const float2*>(q1 + 16 * kd + 8) : z;
      qf[kd][0] = pack_f16x2(x00.x * scale_log2, x00.y * scale_log2);
      qf[kd][1] = pack_f16x2(x10.x * scale_log2, x10.y * scale_log2);
      qf[kd][2] = pack_f16x2(x01.x * scale_log2, x01.y * scale_log2);
      qf[kd][3] = pack_f16x2(x11.x * scale_log2, x11.y * scale_log2);
    }
  }

  // ldmatrix lane offsets (key row, chunk) within a tile; the swizzle term r % 8 is
  // lane % 8 for both, since fragment bases are multiples of 8 keys.
  //  K, key block nb (16 keys), d step kd: lanes 0-7 keys 0-7 chunk 2kd (b0 of S fragment
  //  2nb), 8-15 keys 0-7 chunk 2kd+1 (b1), 16-23 keys 8-15 chunk 2kd (b0 of 2nb+1), 24-31
  //  keys 8-15 chunk 2kd+1.
  //  V (.trans), key step kk (16 keys), d block dp (16 dims): lanes 0-7 keys 0-7 chunk 2dp
  //  (b0 of O fragment 2dp), 8-15 keys 8-15 chunk 2dp (b1), 16-23 keys 0-7 chunk 2dp+1
  //  (b0 of 2dp+1), 24-31 keys 8-15 chunk 2dp+1.
  const int k_row = (lane & 7) + ((lane >> 4) << 3), k_chunk = (lane >> 3) & 1;
  const int v_row = (lane & 7) + (((lane >> 3) & 1) << 3), v_chunk = lane >> 4;

  float o[kD][4];
#pragma unroll
  for (int d = 0; d < kD; ++d) o[d][0] = o[d][1] = o[d][2] = o[d][3] = 0.0f;
  float m_run[2] = {BRICKC_NEG_INF, BRICKC_NEG_INF}, l_run[2] = {0.0f, 0.0f};
  const int p_first = pos + m0 + 16 * warp;  // the warp's smallest query position

  // Group accounting: tile j's group is committed before tile j + 1's; waiting for all
  // but one leaves only tile j + 1 in flight. The barrier after computing tile j lets the
  // copy of tile j + 2 (issued next iteration) overwrite its stage.
#pragma unroll 1
  for (int j = 0; j < n_tiles; ++j) {
    if (j + 1 < n_tiles) {
      load_tile((j + 1) & 1, j + 1);
      cp_async_commit();
      cp_async_wait<1>();
    } else {
      cp_async_wait<0>();
    }
    __syncthreads();
    // A q8_0 tile is widened into the f16 tiles after the two stages. Its stage is then
    // free (the copy into it next iteration follows the barrier after the widening), and
    // the barrier above orders every warp's MMAs on tile j - 1 before the widening of j: no
    // barrier at the end of the iteration.
    if constexpr (Q8) {
      const u8* st = smem + (j & 1) * 2 * kCopyTile;
      u8* const f16 = smem + 2 * 2 * kCopyTile;
      auto swz = [](int r, int c) { return flash_swz<HD>(r, c); };
      kv_q8_widen<HD, kFlashBK, kFlashThreads>(st, f16, swz, tid);
      kv_q8_widen<HD, kFlashBK, kFlashThreads>(st + kCopyTile, f16 + kTileBytes, swz, tid);
      __syncthreads();
    }
    const int kv0 = j * kFlashBK;
    // A tile entirely past the warp's last query position changes nothing (its P is 0 and
    // its max -inf): skip it.
    if (kv0 <= p_first + 15) {
      const u32 sk = s0 + (Q8 ? 2 * 2 * kCopyTile : (j & 1) * 2 * kTileBytes), sv = sk + kTileBytes;
      float s[8][4];
#pragma unroll
      for (int f = 0; f < 8; ++f) s[f][0] = s[f][1] = s[f][2] = s[f][3] = 0.0f;
#pragma unroll
      for (int kd = 0; kd < HD / 16; ++kd)
#pragma unroll
        for (int nb = 0; nb < 4; ++nb) {
          u32 kb[4];
          ldmatrix_x4(kb, sk + flash_swz<HD>(16 * nb + k_row, 2 * kd + k_chunk));
          mma_16816(s[2 * nb], qf[kd], kb[0], kb[1]);
          mma_16816(s[2 * nb + 1], qf[kd], kb[2], kb[3]);
        }
      // Element e of fragment f: key kv0 + 8f + 2c + (e & 1), row r0 (e < 2) or r1. Keys
      // past a row's position are masked; only tiles reaching past the warp's first
      // position can hold such keys. Zero-filled keys (>= kv_end) lie past every valid
      // row's position, so they are masked too.
      if (kv0 + kFlashBK - 1 > p_first) {
#pragma unroll
        for (int f = 0; f < 8; ++f)
#pragma unroll
          for (int e = 0; e < 4; ++e)
            if (kv0 + 8 * f + 2 * c + (e & 1) > pos + (e < 2 ? r0 : r1)) s[f][e] = BRICKC_NEG_INF;
      }
      // Online softmax per row (hh 0: row r0, elements 0-1; hh 1: row r1, elements 2-3).
      // A row's 64 scores sit in the 4 lanes of a quad: max over the lane's 16, then the
      // quad. The running sum l stays per lane (its quad's partial sums are added at the
      // end: every lane of a quad applies the same corrections).
#pragma unroll
      for (int hh = 0; hh < 2; ++hh) {
        float mx = BRICKC_NEG_INF;
#pragma unroll
        for (int f = 0; f < 8; ++f) mx = fmaxf(mx, fmaxf(s[f][2 * hh], s[f][2 * hh + 1]));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
        const float m_new = fmaxf(m_run[hh], mx);
        // A row with every key so far masked keeps m = -inf; subtracting 0 then keeps its
        // exponentials at exp2(-inf) = 0 instead of exp2(-inf + inf) = NaN. (Valid rows
        // always see key 0 in tile 0; this guards the padding rows.)
        const float m_use = m_new == BRICKC_NEG_INF ? 0.0f : m_new;
        const float corr = exp2f(m_run[hh] - m_use);
        m_run[hh] = m_new;
        float sum = 0.0f;
#pragma unroll
        for (int f = 0; f < 8; ++f) {
          s[f][2 * hh] = exp2f(s[f][2 * hh] - m_use);
          s[f][2 * hh + 1] = exp2f(s[f][2 * hh + 1] - m_use);
          sum += s[f][2 * hh] + s[f][2 * hh + 1];
        }
        l_run[hh] = l_run[hh] * corr + sum;
#pragma unroll
        for (int d = 0; d < kD; ++d) {
          o[d][2 * hh] *= corr;
          o[d][2 * hh + 1] *= corr;
        }
      }
      // P as A fragments: for keys 16kk.., a0 = (row g, keys 2c..) = S fragment 2kk
      // elements 0-1, a1 = row g + 8 (elements 2-3), a2/a3 the same of fragment 2kk + 1.
#pragma unroll
      for (int kk = 0; kk < 4; ++kk) {
        u32 pa[4];
        pa[0] = pack_f16x2(s[2 * kk][0], s[2 * kk][1]);
        pa[1] = pack_f16x2(s[2 * kk][2], s[2 * kk][3]);
        pa[2] = pack_f16x2(s[2 * kk + 1][0], s[2 * kk + 1][1]);
        pa[3] = pack_f16x2(s[2 * kk + 1][2], s[2 * kk + 1][3]);
#pragma unroll
        for (int dp = 0; dp < HD / 16; ++dp) {
          u32 vb[4];
          ldmatrix_x4_trans(vb, sv + flash_swz<HD>(16 * kk + v_row, 2 * dp + v_chunk));
          mma_16816(o[2 * dp], pa, vb[0], vb[1]);
          mma_16816(o[2 * dp + 1], pa, vb[2], vb[3]);
        }
      }
    }
    if constexpr (!Q8) __syncthreads();  // the stage is read: the next iteration copies into it
  }

  // Normalize and store rows < n: lane holds columns 8d + 2c, +1 of rows r0 and r1.
#pragma unroll
  for (int hh = 0; hh < 2; ++hh) {
    float l = l_run[hh];
    l += __shfl_xor_sync(0xffffffffu, l, 1);
    l += __shfl_xor_sync(0xffffffffu, l, 2);
    const int r = hh ? r1 : r0;
    if (r < n) {
      const float inv = 1.0f / l;
      float* dst = out + static_cast<long long>(r) * kRow + h * HD + 2 * c;
#pragma unroll
      for (int d = 0; d < kD; ++d)
        *reinterpret_cast<float2*>(dst + 8 * d) = make_float2(o[d][2 * hh] * inv, o[d][2 * hh + 1] * inv);
    }
  }
}

template <int HD, int NQ, int NKV, bool Q8, class B>
__device__ void flash_attention(const KArgs& a, const B& blk) {
  static_assert(HD == 64 || HD == 128, "head_dim 64 or 128");
  static_assert(NQ % NKV == 0, "query heads a multiple of KV heads");
  blk.begin();
  Trace trace(reinterpret_cast<u64*>(a.p[5]), blk);
  const Step* st = reinterpret_cast<const Step*>(a.p[3]);
  const int n = st->n_tokens, pos = st->pos;
  const int m0 = (blk.ny - 1 - blk.y) * kFlashBQ;  // last query tile first
  if (m0 < n)
    flash_tile<HD, NQ, NKV, Q8>(reinterpret_cast<const float*>(a.p[0]), reinterpret_cast<const u8*>(a.p[1]),
                                reinterpret_cast<const u8*>(a.p[2]), reinterpret_cast<float*>(a.p[4]), n, pos,
                                blk.x, m0, blk.thread);
  trace.end();
}
