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

// Quantizes 32 values held one per lane: the lane's int8 and, for lane 0, the block's
// (d, d * sum). Rounding as llama.cpp's quantize_q8_1 (roundf of v / (amax / 127)).
__device__ __forceinline__ void quantize32(float v, i8* q, float2* ds) {
  const float amax = warp_max(fabsf(v));
  const float d = amax / 127.0f;
  const int qi = amax == 0.0f ? 0 : static_cast<int>(roundf(v / d));
  *q = static_cast<i8>(qi);
  const int sum = warp_sum_i(qi);
  if ((threadIdx.x % kWarp) == 0) *ds = make_float2(d, d * static_cast<float>(sum));
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

// Fills `act` (shared) with the brick's input; ends with a block barrier. Each thread
// first loads all of its values (i = threadIdx.x + kThreads * j) so that the loads are in
// flight together, then normalizes and quantizes from registers: warp w of round j holds
// the 32 consecutive values of q8_1 block 8j + w.
template <int K, bool Int8, int In>
__device__ void load_activations(const void* x, const float* norm_w, float eps, u8* act) {
  const int t = threadIdx.x;
  if constexpr (In == kInQ8) {
    static_assert(Int8, "a q8_1 input feeds int8-dot weights only");
    constexpr int kVecs = (K + K / 32 * 8) / 16;  // qs and ds are contiguous: copy them as one
    const uint4* src = static_cast<const uint4*>(x);
#pragma unroll 4
    for (int i = t; i < kVecs; i += kThreads)
      reinterpret_cast<uint4*>(act)[i < K / 16 ? q8_chunk(i) : i] = src[i];
  } else {
    constexpr int kRounds = (K + kThreads - 1) / kThreads;
    const float* xf = static_cast<const float*>(x);
    float v[kRounds], w[kRounds];
#pragma unroll
    for (int j = 0; j < kRounds; ++j) {
      const int i = t + kThreads * j;
      v[j] = i < K ? xf[i] : 0.0f;
      if constexpr (has_norm(In)) w[j] = i < K ? norm_w[i] : 0.0f;
    }
    float scale = 1.0f;
    if constexpr (has_norm(In)) {
      float ss = 0.0f;
#pragma unroll
      for (int j = 0; j < kRounds; ++j) ss += v[j] * v[j];
      scale = 1.0f / sqrtf(block_sum(ss) / static_cast<float>(K) + eps);
    }
#pragma unroll
    for (int j = 0; j < kRounds; ++j) {
      const int i = t + kThreads * j;
      if (K % kThreads != 0 && i - t % kWarp >= K) break;  // whole warps past the end
      float y = v[j];
      if constexpr (has_norm(In)) y = y * scale * w[j];
      if constexpr (Int8) {
        const int at = 16 * q8_chunk(i / 16) + i % 16;
        i8* q = reinterpret_cast<i8*>(act) + at;
        float2* ds = reinterpret_cast<float2*>(act + K) + i / 32;
        quantize32(y, q, ds);
        if constexpr (is_fine(In)) {
          __syncwarp();
          const float rest = y - static_cast<float>(*q) * ds->x;
          u8* act2 = act + q8_smem(K);
          quantize32(rest, reinterpret_cast<i8*>(act2) + at, reinterpret_cast<float2*>(act2 + K) + i / 32);
        }
      } else {
        reinterpret_cast<float*>(act)[i] = y;
      }
    }
  }
  __syncthreads();
}

// RMSNorm's scale 1 / sqrt(mean(x²) + eps) over the block, for the vector kernels.
template <int K>
__device__ __forceinline__ float rms_scale(const float* x, float eps) {
  float ss = 0.0f;
  for (int i = threadIdx.x; i < K; i += kThreads) ss += x[i] * x[i];
  return 1.0f / sqrtf(block_sum(ss) / static_cast<float>(K) + eps);
}
