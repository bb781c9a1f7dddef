// Activation vectors as the matvec-family kernels hold them in shared memory: q8_1 (int8
// values per 32 with scale d and s = d * sum) for int8-dot weights, f32 for float weights.
// The prologues fill them from a q8_1 vector in global memory, from f32 (quantize), or
// from f32 through RMSNorm (norm + quantize). Also the q8_1 quantizer for epilogues.
#pragma once
#include "common.cuh"

// A q8_1 vector of n values in global memory: int8 qs[n], then float2 ds[n / 32].
__device__ __forceinline__ float2* q8_ds(void* q8, int n) {
  return reinterpret_cast<float2*>(static_cast<u8*>(q8) + n);
}

// The reciprocal of a q8_1 block's scale d = amax / 127, 0 for a block of zeros: values
// are rounded as llama.cpp's CPU quantize_row_q8_1 rounds them, roundf(v * (1 / d)). One
// IEEE division a block, where one a value (about ten instructions and a slow-path branch
// each) was most of the matrix kernels' prologue.
__device__ __forceinline__ float q8_inverse_scale(float d) { return d != 0.0f ? 1.0f / d : 0.0f; }

// A block of 32 values held one per lane, rounded as quant::quantize's q8_0 and q8_1 round
// them: the lane's integer, and the block's scale d = amax / 127 in `d`.
__device__ __forceinline__ int round32(float v, float& d) {
  d = warp_max(fabsf(v)) / 127.0f;
  return static_cast<int>(roundf(v * q8_inverse_scale(d)));
}

// Quantizes 32 values held one per lane (thread t): the lane's int8 and, for lane 0, the
// block's (d, d * sum).
__device__ __forceinline__ void quantize32(float v, i8* q, float2* ds, unsigned t) {
  float d;
  const int qi = round32(v, d);
  *q = static_cast<i8>(qi);
  const int sum = warp_sum_i(qi);
  if ((t % kWarp) == 0) *ds = make_float2(d, d * static_cast<float>(sum));
}

// Where a brick's input comes from. The *Fine kinds quantize twice: the values, then what
// rounding left of them (each to q8_1 with its own scale), so that dp4a sees the input to
// about 1/127² of its block maximum. The LM head uses them: its rounding error lands on
// the logits directly, where near-ties decide the next token.
enum InputKind { kInQ8 = 0, kInF32 = 1, kInNormF32 = 2, kInF32Fine = 3, kInNormF32Fine = 4 };

__host__ __device__ constexpr bool is_fine(int in) { return in == kInF32Fine || in == kInNormF32Fine; }
__host__ __device__ constexpr bool has_norm(int in) { return in == kInNormF32 || in == kInNormF32Fine; }

// Bytes of one q8_1 vector of length K in shared memory, rounded up to 16 so that the
// fine kinds' second one (the residuals) starts 16-byte aligned for the dots' loads. An
// activation takes q8_smem(K), twice that for the fine kinds, or 4K bytes as f32
// (codegen/ptx/lower.cpp: act_smem).
__host__ __device__ constexpr int q8_smem(int k) { return (k + k / 32 * 8 + 15) / 16 * 16; }

// Where 16-byte chunk g of a q8_1 vector's values (half g & 1 of 32-value block g >> 1)
// lies in shared memory: within its group of four (two blocks), XORed with bits 2-3 of
// its block, so that the eight 16-byte loads of a quarter warp hit eight different bank
// groups both when lanes take consecutive blocks (the 32-weight formats) and when they
// take every other one (the K-quants' pairs); unswizzled these were 2- and 4-way conflicts.
__device__ __forceinline__ int q8_chunk(int g) { return g ^ ((g >> 3) & 3); }

// Four consecutive f32 values from p (16-byte aligned when aligned, else one by one).
__device__ __forceinline__ float4 ld_f32x4(const float* p, bool aligned) {
  return aligned ? *reinterpret_cast<const float4*>(p) : make_float4(p[0], p[1], p[2], p[3]);
}

// Quantizes 32 values held four per lane by eight consecutive lanes (an aligned group of
// eight: the reductions stay within it) to q8_1 as quantize32 does: the same maximum,
// scale, products and integer sum, so the same bytes, with three shuffles per reduction serving
// a warp's four blocks at once where quantize32 takes five per block. Where
// `store`, stores the lane's four bytes at q and, from the group's first lane, (d, d *
// sum) at ds. Returns what rounding left of y.
__device__ __forceinline__ float4 quantize32x4(const float4 y, bool store, i8* q, float2* ds, unsigned t) {
  float amax = fmaxf(fmaxf(fabsf(y.x), fabsf(y.y)), fmaxf(fabsf(y.z), fabsf(y.w)));
#pragma unroll
  for (int o = 4; o > 0; o >>= 1) amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, o));
  const float d = amax / 127.0f, id = q8_inverse_scale(d);
  const int r[4] = {static_cast<int>(roundf(y.x * id)), static_cast<int>(roundf(y.y * id)),
                    static_cast<int>(roundf(y.z * id)), static_cast<int>(roundf(y.w * id))};
  int sum = r[0] + r[1] + r[2] + r[3];
#pragma unroll
  for (int o = 4; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
  if (store) {
    *reinterpret_cast<u32*>(q) = (static_cast<u32>(r[0]) & 0xFFu) | ((static_cast<u32>(r[1]) & 0xFFu) << 8) |
                                 ((static_cast<u32>(r[2]) & 0xFFu) << 16) | (static_cast<u32>(r[3]) << 24);
    if ((t & 7u) == 0) *ds = make_float2(d, d * static_cast<float>(sum));
  }
  return make_float4(y.x - static_cast<float>(r[0]) * d, y.y - static_cast<float>(r[1]) * d,
                     y.z - static_cast<float>(r[2]) * d, y.w - static_cast<float>(r[3]) * d);
}

// The prologues take four consecutive values per thread, i = 4 t + kSpan j (thread t)
// (one 16-byte load each); a 32-value q8_1 block is eight lanes' values.
constexpr int kSpan = 4 * kThreads;

// A prologue's RMSNorm weights, as load_activations takes them. They are weights, so a
// kernel loads them before it waits for its inputs and their latency is not on its path:
// all of them up to 4,096 columns; past that (5,120: the 14B's and 32B's) the first 3 of
// each thread's 5 rounds, the rest read where they are used, beside the input's loads, so
// that the kernel fits the 64 registers of four blocks per SM (16 held across the wait
// spilled one round there; ptxas, gate/up).
template <int K, int In>
struct NormWeights {
  static constexpr int kRounds = (K + kSpan - 1) / kSpan;
  static constexpr int kHeld = kRounds <= 4 ? kRounds : 3;
  float4 w[has_norm(In) ? kHeld : 1];
  const float* p;
  __device__ void load(const float* p_, unsigned t) {
    p = p_;
    if constexpr (has_norm(In)) {
#pragma unroll
      for (int j = 0; j < kHeld; ++j) w[j] = load_round(j, t);
    }
  }
  // Thread t's four weights of round j.
  __device__ float4 get(int j, unsigned t) const { return j < kHeld ? w[j] : load_round(j, t); }

 private:
  __device__ float4 load_round(int j, unsigned t) const {
    const bool aligned = (reinterpret_cast<unsigned long long>(p) & 15u) == 0;
    const int i = 4 * static_cast<int>(t) + kSpan * j;
    return i < K ? ld_f32x4(p + i, aligned) : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
  }
};

// Fills `act` (shared) with the brick's input; ends with a block barrier. Each thread
// first loads all of its values so that the loads are in flight together, then normalizes
// and quantizes (or stores, for float weights) from registers. A q8_1 block's reductions
// are three shuffles among its eight lanes, not two warp-wide ones (the prologue was most
// of the instructions of the smaller matrices' kernels).
template <int K, bool Int8, int In>
__device__ void load_activations(const void* x, const NormWeights<K, In>& nw, float eps, u8* act,
                                 unsigned thread) {
  const int t = thread;
  if constexpr (In == kInQ8) {
    static_assert(Int8, "a q8_1 input feeds int8-dot weights only");
    constexpr int kVecs = (K + K / 32 * 8) / 16;  // qs and ds are contiguous: copy them as one
    const uint4* src = static_cast<const uint4*>(x);
#pragma unroll 4
    for (int i = t; i < kVecs; i += kThreads)
      reinterpret_cast<uint4*>(act)[i < K / 16 ? q8_chunk(i) : i] = src[i];
  } else {
    static_assert(K % 32 == 0, "whole 32-value blocks");
    constexpr int kRounds = NormWeights<K, In>::kRounds;
    const float* xf = static_cast<const float*>(x);
    const bool aligned = (reinterpret_cast<unsigned long long>(xf) & 15u) == 0;
    float4 v[kRounds];
#pragma unroll
    for (int j = 0; j < kRounds; ++j) {
      const int i = 4 * t + kSpan * j;
      v[j] = i < K ? ld_f32x4(xf + i, aligned) : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    }
    float scale = 1.0f;
    if constexpr (has_norm(In)) {
      float ss = 0.0f;
#pragma unroll
      for (int j = 0; j < kRounds; ++j) {  // one fma chain: the same rounding wherever it is inlined
        ss = fmaf(v[j].x, v[j].x, ss);
        ss = fmaf(v[j].y, v[j].y, ss);
        ss = fmaf(v[j].z, v[j].z, ss);
        ss = fmaf(v[j].w, v[j].w, ss);
      }
      scale = 1.0f / sqrtf(block_sum(ss, t) / static_cast<float>(K) + eps);
    }
#pragma unroll
    for (int j = 0; j < kRounds; ++j) {
      const int i = 4 * t + kSpan * j;
      if (K % kSpan != 0 && i - 4 * (t % kWarp) >= K) break;  // whole warps past the end
      float4 y = v[j];
      if constexpr (has_norm(In)) {
        const float4 w = nw.get(j, t);
        y = make_float4(y.x * scale * w.x, y.y * scale * w.y, y.z * scale * w.z, y.w * scale * w.w);
      }
      const bool in = i < K;
      if constexpr (Int8) {
        // Lanes past the end (a warp's last blocks where K is not a multiple of 128)
        // quantize zeros with the rest of their warp and store nothing.
        const int at = in ? 16 * q8_chunk(i / 16) + i % 16 : 0;
        const float4 rest = quantize32x4(y, in, reinterpret_cast<i8*>(act) + at,
                                         reinterpret_cast<float2*>(act + K) + i / 32, t);
        if constexpr (is_fine(In)) {
          u8* act2 = act + q8_smem(K);
          quantize32x4(rest, in, reinterpret_cast<i8*>(act2) + at,
                       reinterpret_cast<float2*>(act2 + K) + i / 32, t);
        }
      } else if (in) {
        reinterpret_cast<float4*>(act)[i / 4] = y;
      }
    }
  }
  __syncthreads();
}

// RMSNorm's scale 1 / sqrt(mean(x²) + eps) over the block (t this thread), for the vector kernels.
template <int K>
__device__ __forceinline__ float rms_scale(const float* x, float eps, unsigned t) {
  float ss = 0.0f;
  for (int i = t; i < K; i += kThreads) ss += x[i] * x[i];
  return 1.0f / sqrtf(block_sum(ss, t) / static_cast<float>(K) + eps);
}
