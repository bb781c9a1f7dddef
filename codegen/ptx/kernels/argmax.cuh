// Greedy token choice on the device: the largest logit and, among equal ones, the lowest
// index, packed into one 64-bit key that every block folds in with atomicMax. The host
// reads the key (8 bytes) instead of the logits; a batch step's rows, one index each.
#pragma once
#include "common.cuh"

// Orders floats as unsigned integers; the low half holds ~index so that ties prefer the
// lowest index.
__device__ __forceinline__ u64 argmax_key(float v, int i) {
  u32 b = __float_as_uint(v);
  b = (b & 0x80000000u) ? ~b : (b | 0x80000000u);
  return (static_cast<u64>(b) << 32) | static_cast<u64>(~static_cast<u32>(i));
}

// The largest key of x[i], i = first, first + stride, ... < N, over the warp (every lane
// gets it).
template <int N>
__device__ __forceinline__ u64 warp_argmax_key(const float* x, int first, int stride) {
  u64 best = 0;
  for (int i = first; i < N; i += stride) {
    const u64 k = argmax_key(x[i], i);
    best = k > best ? k : best;
  }
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    const u64 other = __shfl_xor_sync(0xffffffffu, best, o);
    best = other > best ? other : best;
  }
  return best;
}

// Slots: 0 x (f32[N]), 1 key (u64, zeroed before the launch), 2 trace.
template <int N, class B>
__device__ void argmax(const KArgs& a, const B& blk) {
  blk.begin();
  Trace trace(reinterpret_cast<u64*>(a.p[2]), blk);
  const u64 best = warp_argmax_key<N>(reinterpret_cast<const float*>(a.p[0]),
                                      blk.x * kThreads + blk.thread, blk.nx * kThreads);
  if (blk.thread % kWarp == 0) atomicMax(reinterpret_cast<u64*>(a.p[1]), best);
  trace.end();
}

// Every row's choice of a step of several tokens (a server's batch, all rows' logits): a
// block per row folds its keys through shared memory, no atomics, and writes the index.
// Slots: 0 x (f32[T][N]), 1 out (int[T]), 2 step (n_tokens), 3 trace. Grid (T).
template <int N, class B>
__device__ void argmax_rows(const KArgs& a, const B& blk) {
  __shared__ u64 red[kWarps];
  blk.begin();
  Trace trace(reinterpret_cast<u64*>(a.p[3]), blk);
  if (blk.x < reinterpret_cast<const Step*>(a.p[2])->n_tokens) {  // block-uniform
    u64 best = warp_argmax_key<N>(reinterpret_cast<const float*>(a.p[0]) + static_cast<long long>(blk.x) * N,
                                  blk.thread, kThreads);
    if (blk.thread % kWarp == 0) red[blk.thread / kWarp] = best;
    __syncthreads();
    if (blk.thread == 0) {
      for (int w = 1; w < kWarps; ++w) best = red[w] > best ? red[w] : best;
      reinterpret_cast<int*>(a.p[1])[blk.x] = static_cast<int>(~static_cast<u32>(best));
    }
  }
  trace.end();
}
