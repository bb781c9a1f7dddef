// The matvec family: y = W x for one to three weight matrices sharing the input (matvec,
// qkv, lm_head, their rmsnorm_* forms, matvec_add), and gate/up with the SwiGLU epilogue.
// Each warp owns whole rows and streams them in segments: 16-byte coalesced loads of the
// raw quant blocks into registers (the next segment's loads in flight while the current
// one is computed), then into the warp's shared-memory slice, where each lane dots
// 32-weight sub-blocks with the q8_1 activation (dp4a). Rows start 16-byte aligned (the
// runtime pads each row to a multiple of 16 bytes at upload).
#pragma once
#include "activations.cuh"
#include "quant_formats.cuh"

constexpr int kSegMax = 2048;  // shared-memory bytes of one warp's weight segment

__host__ __device__ constexpr int gcd_c(int a, int b) { return b == 0 ? a : gcd_c(b, a % b); }

// A segment is a whole number of quant blocks and of 16-byte chunks, at most kSegMax.
template <class F>
struct Seg {
  static constexpr int kLcm = F::BB / gcd_c(F::BB, 16) * 16;
  static constexpr int kBlocks = (kSegMax / kLcm) * (kLcm / F::BB);
  static constexpr int kBytes = kBlocks * F::BB;
  static constexpr int kChunks = kBytes / 16;
  static constexpr int kLoads = (kChunks + kWarp - 1) / kWarp;  // per lane
  static_assert(kBlocks > 0 && kBytes % 16 == 0, "segment geometry");
};

template <class F, int K>
__host__ __device__ constexpr int row_bytes() {
  return K / F::QK * F::BB;
}

// Registers holding the weights a warp has in flight: a segment of a shared-memory format
// (at most kSegMax bytes, four 16-byte loads per lane), or kQ4kDepth steps of Q4_K.
constexpr int kQ4kDepth = 4;
constexpr int kLoadsMax = 2 * kQ4kDepth;

// Q4_K without shared memory: the 144-byte super-block is a 16-byte header (d, dmin, 12
// bytes of 6-bit scales and mins) and eight 16-byte chunks of nibbles, so 8 lanes take one
// super-block per step (a warp 4), every lane loading the header (one broadcast
// transaction per 8 lanes) and its own chunk. A group is kQ4kDepth steps loaded together
// (2.3 KB per warp in flight); group `it` covers super-blocks 16it .. 16it + 15.
template <int K>
__device__ __forceinline__ void q4k_load(const u8* row, int it, uint4 (&buf)[kLoadsMax]) {
  const int lane = threadIdx.x % kWarp;
#pragma unroll
  for (int u = 0; u < kQ4kDepth; ++u) {
    const int sb = (it * kQ4kDepth + u) * 4 + lane / 8;
    if (sb < K / 256) {
      const u8* blk = row + sb * FmtQ4_K::BB;
      buf[2 * u] = ld_weights_v4(blk);
      buf[2 * u + 1] = ld_weights_v4(blk + 16 + 16 * (lane % 8));
    }
  }
}

// The scale bytes of a Q4_K header held in registers as a uint4 (bytes 4..15).
struct K4HeaderBytes {
  const uint4& h;
  __device__ int operator()(int k) const {
    const u32 w = k < 4 ? h.y : (k < 8 ? h.z : h.w);
    return static_cast<int>((w >> (8 * (k & 3))) & 0xFFu);
  }
};


// Lane j of a super-block holds chunk j: bytes 16(j % 2) .. of the 32 that carry
// sub-blocks 2g (low nibbles) and 2g + 1 (high nibbles), g = j / 2, i.e. 16 weights of
// each. It dots them with the matching 16 activations of each sub-block; the min term,
// which needs the whole sub-block's activation sum, is added by the even lane alone.
__device__ __forceinline__ float q4k_chunk_dot(const uint4& hdr, const uint4& qs, int j,
                                               const u8* act_q, const float2* act_ds, int sb) {
  const int g = j >> 1, h = j & 1;
  const int4 alo = *reinterpret_cast<const int4*>(act_q + sb * 256 + 64 * g + 16 * h);
  const int4 ahi = *reinterpret_cast<const int4*>(act_q + sb * 256 + 64 * g + 32 + 16 * h);
  int slo = 0, shi = 0;
  slo = dp4a(static_cast<int>(qs.x & 0x0F0F0F0Fu), alo.x, slo);
  slo = dp4a(static_cast<int>(qs.y & 0x0F0F0F0Fu), alo.y, slo);
  slo = dp4a(static_cast<int>(qs.z & 0x0F0F0F0Fu), alo.z, slo);
  slo = dp4a(static_cast<int>(qs.w & 0x0F0F0F0Fu), alo.w, slo);
  shi = dp4a(static_cast<int>((qs.x >> 4) & 0x0F0F0F0Fu), ahi.x, shi);
  shi = dp4a(static_cast<int>((qs.y >> 4) & 0x0F0F0F0Fu), ahi.y, shi);
  shi = dp4a(static_cast<int>((qs.z >> 4) & 0x0F0F0F0Fu), ahi.z, shi);
  shi = dp4a(static_cast<int>((qs.w >> 4) & 0x0F0F0F0Fu), ahi.w, shi);
  // get_scale_min_k4 for sub-blocks 2g and 2g + 1.
  int sc0, m0, sc1, m1;
  k4_scale_min(K4HeaderBytes{hdr}, 2 * g, sc0, m0);
  k4_scale_min(K4HeaderBytes{hdr}, 2 * g + 1, sc1, m1);
  const float d = h2f(static_cast<u16>(hdr.x & 0xFFFFu)), dmin = h2f(static_cast<u16>(hdr.x >> 16));
  const float2 ds0 = act_ds[sb * 8 + 2 * g], ds1 = act_ds[sb * 8 + 2 * g + 1];
  float r = d * (static_cast<float>(sc0) * ds0.x * static_cast<float>(slo) +
                 static_cast<float>(sc1) * ds1.x * static_cast<float>(shi));
  if (h == 0) r -= dmin * (static_cast<float>(m0) * ds0.y + static_cast<float>(m1) * ds1.y);
  return r;
}

template <int K, bool Fine, class LoadNext>
__device__ __forceinline__ float q4k_row_dot(const u8* row, const u8* act, uint4 (&buf)[kLoadsMax],
                             const LoadNext& load_next) {
  constexpr int kNSB = K / 256, kGroups = (kNSB + 4 * kQ4kDepth - 1) / (4 * kQ4kDepth);
  const int lane = threadIdx.x % kWarp;
  float acc = 0.0f;
#pragma unroll 1
  for (int it = 0; it < kGroups; ++it) {
    uint4 cur[kLoadsMax];
#pragma unroll
    for (int u = 0; u < kLoadsMax; ++u) cur[u] = buf[u];
    if (it + 1 < kGroups)
      q4k_load<K>(row, it + 1, buf);
    else
      load_next(buf);
#pragma unroll
    for (int u = 0; u < kQ4kDepth; ++u) {
      const int sb = (it * kQ4kDepth + u) * 4 + lane / 8;
      if (sb < kNSB) {
        acc += q4k_chunk_dot(cur[2 * u], cur[2 * u + 1], lane % 8, act,
                             reinterpret_cast<const float2*>(act + K), sb);
        if constexpr (Fine) {  // the residuals of the input's rounding (activations.cuh)
          const u8* act2 = act + K + K / 32 * 8;
          acc += q4k_chunk_dot(cur[2 * u], cur[2 * u + 1], lane % 8, act2,
                               reinterpret_cast<const float2*>(act2 + K), sb);
        }
      }
    }
  }
  return warp_sum(acc);
}

// Loads segment s of a row of K weights into registers; chunks past the row end are not
// loaded (the row's padding to 16 bytes is). For direct formats, step s of their own walk.
template <class F, int K>
__device__ __forceinline__ void load_segment(const u8* row, int s, uint4 (&buf)[kLoadsMax]) {
  if constexpr (F::kDirect) {
    q4k_load<K>(row, s, buf);
    return;
  }
  using S = Seg<F>;
  static_assert(S::kLoads <= kLoadsMax, "segment larger than the registers for it");
  constexpr int kRowBytes = row_bytes<F, K>();
  const int start = s * S::kBytes;
  const int chunks = min(S::kChunks, (kRowBytes - start + 15) / 16);
  const int lane = threadIdx.x % kWarp;
#pragma unroll
  for (int u = 0; u < S::kLoads; ++u) {
    const int c = lane + kWarp * u;
    if (c < chunks) buf[u] = ld_weights_v4(row + start + 16 * c);
  }
}

// One row of W times the activation in shared memory `act`; every lane gets the sum.
// `seg` is this warp's kSegMax-byte slice of shared memory. On entry `buf` holds the row's
// first segment; each segment's successor is loaded while it is computed, and after the
// last one `load_next(buf)` loads the first segment of the warp's next row, so a warp
// always has weights in flight.
template <class F, int K, bool Fine, class LoadNext>
__device__ __forceinline__ float row_dot(const u8* row, u8* seg, const u8* act, uint4 (&buf)[kLoadsMax],
                         const LoadNext& load_next) {
  if constexpr (F::kDirect) return q4k_row_dot<K, Fine>(row, act, buf, load_next);
  using S = Seg<F>;
  constexpr int kNB = K / F::QK;
  constexpr int kSubs = F::QK / 32;
  constexpr int kNSeg = (kNB + S::kBlocks - 1) / S::kBlocks;
  static_assert(K % F::QK == 0, "K must be a whole number of blocks");
  const int lane = threadIdx.x % kWarp;
  float acc = 0.0f;
#pragma unroll 1
  for (int s = 0; s < kNSeg; ++s) {
#pragma unroll
    for (int u = 0; u < S::kLoads; ++u) {
      const int c = lane + kWarp * u;
      if (c < S::kChunks) reinterpret_cast<uint4*>(seg)[c] = buf[u];
    }
    __syncwarp();
    if (s + 1 < kNSeg)
      load_segment<F, K>(row, s + 1, buf);
    else
      load_next(buf);
    const int b0 = s * S::kBlocks;
    const int units = min(S::kBlocks, kNB - b0) * kSubs;
    for (int unit = lane; unit < units; unit += kWarp) {
      const int b = unit / kSubs, sub = unit % kSubs;
      const int a = (b0 + b) * kSubs + sub;  // the 32-value activation block
      if constexpr (F::kInt8) {
        acc += F::dot(seg + b * F::BB, sub, reinterpret_cast<const int*>(act) + 8 * a,
                      reinterpret_cast<const float2*>(act + K)[a]);
        if constexpr (Fine) {  // the residuals of the input's rounding (activations.cuh)
          const u8* act2 = act + K + K / 32 * 8;
          acc += F::dot(seg + b * F::BB, sub, reinterpret_cast<const int*>(act2) + 8 * a,
                        reinterpret_cast<const float2*>(act2 + K)[a]);
        }
      } else {
        acc += F::dotf(seg + b * F::BB, sub, reinterpret_cast<const float*>(act) + 32 * a);
      }
    }
    __syncwarp();
  }
  return warp_sum(acc);
}

enum MatvecEpilogue { kStore = 0, kAddResidual = 1 };

__device__ __forceinline__ float slot_f32(u64 v) { return __uint_as_float(static_cast<u32>(v)); }

// Argument slots (KArgs.p): 0 x, 1 norm weight, 2 eps (f32 bits), 3 residual, 4 trace,
// then per matrix m (5 + 5m ..): weights, row stride in bytes, rows, bias, y.
// Rows of all matrices form one index space spread over every warp of the grid.
template <int K, int In, int Epi, int NM, class F0, class F1, class F2, class B>
__device__ void matvec(const KArgs& a, const B& blk) {
  static_assert(F0::kInt8 == F1::kInt8 && F1::kInt8 == F2::kInt8, "one activation kind per brick");
  constexpr bool kInt8 = F0::kInt8;
  extern __shared__ __align__(16) u8 smem[];
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  int rows[3] = {0, 0, 0};
#pragma unroll
  for (int m = 0; m < NM; ++m) rows[m] = static_cast<int>(a.p[5 + 5 * m + 2]);
  const int total = rows[0] + rows[1] + rows[2];
  // Matrices of one format share one inlined copy of the loop (block sizes name formats).
  constexpr bool kOneFormat = F0::BB == F1::BB && F1::BB == F2::BB;
  // Row r of the joint index space: its matrix and its row in that matrix.
  auto locate = [&](int r, int& m, int& rr) {
    m = 0;
    rr = r;
    if (NM > 1 && rr >= rows[0]) {
      rr -= rows[0];
      m = 1;
      if (NM > 2 && rr >= rows[1]) {
        rr -= rows[1];
        m = 2;
      }
    }
  };
  auto row_ptr = [&](int m, int rr) {
    const u64* mp = a.p + 5 + 5 * m;
    return reinterpret_cast<const u8*>(mp[0]) + static_cast<long long>(rr) * static_cast<long long>(mp[1]);
  };
  // The first segment of joint row r, if there is one.
  auto load_row = [&](int r, uint4 (&b)[kLoadsMax]) {
    if (r >= total) return;
    int m, rr;
    locate(r, m, rr);
    if (kOneFormat || m == 0)
      load_segment<F0, K>(row_ptr(m, rr), 0, b);
    else if (m == 1)
      load_segment<F1, K>(row_ptr(1, rr), 0, b);
    else
      load_segment<F2, K>(row_ptr(2, rr), 0, b);
  };
  const int stride = blk.nx * kWarps;
  uint4 buf[kLoadsMax];
  blk.start_dependents();
  load_row(blk.x * kWarps + warp, buf);  // weights need not wait for the previous kernel
  blk.wait_for_inputs();
  Trace trace(reinterpret_cast<u64*>(a.p[4]), blk);
  u8* seg = smem + warp * kSegMax;
  u8* act = smem + kWarps * kSegMax;
  load_activations<K, kInt8, In>(reinterpret_cast<const void*>(a.p[0]),
                                 reinterpret_cast<const float*>(a.p[1]), slot_f32(a.p[2]), act);
  const float* resid = reinterpret_cast<const float*>(a.p[3]);
  for (int r = blk.x * kWarps + warp; r < total; r += stride) {
    int m, rr;
    locate(r, m, rr);
    const u64* mp = a.p + 5 + 5 * m;
    const u8* row = row_ptr(m, rr);
    auto next = [&](uint4 (&b)[kLoadsMax]) { load_row(r + stride, b); };
    float v;
    if (kOneFormat || m == 0)
      v = row_dot<F0, K, is_fine(In)>(row, seg, act, buf, next);
    else if (m == 1)
      v = row_dot<F1, K, is_fine(In)>(row, seg, act, buf, next);
    else
      v = row_dot<F2, K, is_fine(In)>(row, seg, act, buf, next);
    if (lane == 0) {
      const float* bias = reinterpret_cast<const float*>(mp[3]);
      if (bias) v += bias[rr];
      if constexpr (Epi == kAddResidual) v = resid[rr] + v;
      reinterpret_cast<float*>(mp[4])[rr] = v;
    }
  }
  trace.end();
}

// Argument slots: 0 x, 1 norm weight, 2 eps, 3 trace, 4 gate weights, 5 gate stride,
// 6 up weights, 7 up stride, 8 rows, 9 out (f32, or q8_1 when OutQ8), 10 f32 scratch[rows],
// 11 u32 counters[rows / 32] (zero between launches).
// With OutQ8, each finished row bumps its 32-row group's counter; the warp that finishes
// a group quantizes it from the f32 scratch and zeroes the counter for the next token.
template <int K, int In, bool OutQ8, class FG, class FU, class B>
__device__ void gate_up_swiglu(const KArgs& a, const B& blk) {
  static_assert(FG::kInt8 == FU::kInt8, "one activation kind per brick");
  constexpr bool kInt8 = FG::kInt8;
  extern __shared__ __align__(16) u8 smem[];
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  const u8* wg = reinterpret_cast<const u8*>(a.p[4]);
  const u8* wu = reinterpret_cast<const u8*>(a.p[6]);
  const long long sg = static_cast<long long>(a.p[5]), su = static_cast<long long>(a.p[7]);
  const int rows = static_cast<int>(a.p[8]);
  const int stride = blk.nx * kWarps;
  uint4 buf[kLoadsMax];
  blk.start_dependents();
  if (const int r = blk.x * kWarps + warp; r < rows)  // weights need not wait
    load_segment<FG, K>(wg + r * sg, 0, buf);
  blk.wait_for_inputs();
  Trace trace(reinterpret_cast<u64*>(a.p[3]), blk);
  u8* seg = smem + warp * kSegMax;
  u8* act = smem + kWarps * kSegMax;
  load_activations<K, kInt8, In>(reinterpret_cast<const void*>(a.p[0]),
                                 reinterpret_cast<const float*>(a.p[1]), slot_f32(a.p[2]), act);
  float* hbuf = reinterpret_cast<float*>(a.p[10]);
  u32* counters = reinterpret_cast<u32*>(a.p[11]);
  // Rows alternate gate, up, next gate, ...: each loads its successor while it computes.
  for (int r = blk.x * kWarps + warp; r < rows; r += stride) {
    const float g = row_dot<FG, K, false>(wg + r * sg, seg, act, buf,
                                   [&](uint4 (&b)[kLoadsMax]) { load_segment<FU, K>(wu + r * su, 0, b); });
    const float u = row_dot<FU, K, false>(wu + r * su, seg, act, buf, [&](uint4 (&b)[kLoadsMax]) {
      if (r + stride < rows) load_segment<FG, K>(wg + (r + stride) * sg, 0, b);
    });
    const float h = g / (1.0f + expf(-g)) * u;
    if constexpr (!OutQ8) {
      if (lane == 0) reinterpret_cast<float*>(a.p[9])[r] = h;
    } else {
      u32 done = 0;
      if (lane == 0) {
        hbuf[r] = h;
        __threadfence();
        done = atomicAdd(counters + r / 32, 1u);
      }
      done = __shfl_sync(0xffffffffu, done, 0);
      if (done == 31) {  // this warp finished the group's last row
        __threadfence();
        const int g0 = r / 32 * 32;
        const float v = __ldcg(hbuf + g0 + lane);
        void* out = reinterpret_cast<void*>(a.p[9]);
        quantize32(v, static_cast<i8*>(out) + g0 + lane, q8_ds(out, rows) + r / 32);
        if (lane == 0) counters[r / 32] = 0;
      }
    }
  }
  trace.end();
}
