// Kernels over single vectors: the embedding lookup (spread over its grid), and one block
// each for a standalone RMSNorm, SwiGLU and residual add (for graphs where they are not
// fused into a matvec), with an f32 or q8_1 result.
#pragma once
#include "activations.cuh"
#include "quant_formats.cuh"

// Writes value i of an f32 (OutQ8 false) or q8_1 result of n values from thread t; called by
// whole warps over consecutive i (a 32-block per warp when quantizing).
template <bool OutQ8>
__device__ __forceinline__ void store_result(void* out, int n, int i, float v, unsigned t) {
  if constexpr (OutQ8)
    quantize32(v, static_cast<i8*>(out) + i, q8_ds(out, n) + i / 32, t);
  else
    static_cast<float*>(out)[i] = v;
}

// Slots: 0 table, 1 row stride, 2 step, 3 x (f32[K]), 4 trace. Row step->token, dequantized,
// a value per thread over the grid (one block's rounds each waited for HBM: 6.6 us on the 7B).
template <int K, class F, class B>
__device__ void embed(const KArgs& a, const B& blk) {
  blk.begin();
  Trace trace(reinterpret_cast<u64*>(a.p[4]), blk);
  const Step* st = reinterpret_cast<const Step*>(a.p[2]);
  const u8* row = reinterpret_cast<const u8*>(a.p[0]) +
                  static_cast<long long>(st->token) * static_cast<long long>(a.p[1]);
  float* x = reinterpret_cast<float*>(a.p[3]);
  for (int i = blk.x * kThreads + blk.thread; i < K; i += blk.nx * kThreads)
    x[i] = F::get(row + i / F::QK * F::BB, i % F::QK);
  trace.end();
}

// Slots: 0 x, 1 weight, 2 eps, 3 out, 4 trace.
template <int K, bool OutQ8, class B>
__device__ void rmsnorm(const KArgs& a, const B& blk) {
  blk.begin();
  Trace trace(reinterpret_cast<u64*>(a.p[4]), blk);
  const float* x = reinterpret_cast<const float*>(a.p[0]);
  const float* w = reinterpret_cast<const float*>(a.p[1]);
  const float scale = rms_scale<K>(x, __uint_as_float(static_cast<u32>(a.p[2])), blk.thread);
  for (int i = blk.thread; i < K; i += kThreads)
    store_result<OutQ8>(reinterpret_cast<void*>(a.p[3]), K, i, x[i] * scale * w[i], blk.thread);
  trace.end();
}

// Slots: 0 gate, 1 up, 2 out, 3 trace. out = silu(gate) * up.
template <int K, bool OutQ8, class B>
__device__ void swiglu(const KArgs& a, const B& blk) {
  blk.begin();
  Trace trace(reinterpret_cast<u64*>(a.p[3]), blk);
  const float* g = reinterpret_cast<const float*>(a.p[0]);
  const float* u = reinterpret_cast<const float*>(a.p[1]);
  for (int i = blk.thread; i < K; i += kThreads)
    store_result<OutQ8>(reinterpret_cast<void*>(a.p[2]), K, i, g[i] / (1.0f + expf(-g[i])) * u[i], blk.thread);
  trace.end();
}

// Slots: 0 a, 1 b, 2 out, 3 trace.
template <int K, class B>
__device__ void add(const KArgs& a, const B& blk) {
  blk.begin();
  Trace trace(reinterpret_cast<u64*>(a.p[3]), blk);
  const float* x = reinterpret_cast<const float*>(a.p[0]);
  const float* y = reinterpret_cast<const float*>(a.p[1]);
  float* out = reinterpret_cast<float*>(a.p[2]);
  for (int i = blk.thread; i < K; i += kThreads) out[i] = x[i] + y[i];
  trace.end();
}
