// Per-token kernels of a T-token (prefill) step: one block of kThreads (256) per token
// row, each doing for its row what the decode kernel does for the one token (same code,
// so the same rounding). Not for the matvec family (gemm.cuh) or attention.
//
// Contracts (slots of KArgs.p; n = step->n_tokens, 1 <= n <= T; rows t >= n are neither
// read nor written; no dynamic shared memory):
//
// embed_rows<K, F>                       block 256, grid (T)
//   0 table (rows of format F)  1 row stride (bytes)  2 tokens (const int [T])
//   3 out (f32 [T][K])  4 step  5 trace
//   out[t] = the dequantized table row tokens[t] (as embed in vector_ops.cuh).
//
// rope_kv_append_rows<HD, NQ, NKV, Rope, Append, Q8>   block 256, grid (T)
//   0 q (f32 [T][NQ * HD])  1 k (f32 [T][NKV * HD])  2 v (same)  3 step
//   4 q out (f32 [T][NQ * HD])  5 k cache  6 v cache ([max_ctx] positions of
//   KvCache<HD, NKV, Q8>, kv_cache.cuh)  7 angle factor (f32 bits, ir::rope_theta_scale)
//   8 trace  9 positions (const int [T]) or null  10 sequences (const int [T]) or null
//   11 bytes per sequence of each cache (max_ctx positions)
//   Token t is rope_kv_append (rope_kv_append.cuh) at position step->pos + t of the one
//   sequence, or, in a batch over several sequences (slots 9, 10 set), at position pos[t]
//   of sequence seq[t]'s cache, which follows the others' ([n_seq][max_ctx] positions).
//
// rmsnorm_rows<K>, swiglu_rows<K>, add_rows<K>   block 256, grid (T)
//   rmsnorm_rows: 0 x  1 weight  2 eps (f32 bits)  3 out  4 step  5 trace
//   swiglu_rows:  0 gate  1 up  2 out  3 step  4 trace
//   add_rows:     0 a  1 b  2 out  3 step  4 trace
//   The standalone bricks of unfused graphs (rows of f32 [T][K]), as vector_ops.cuh.
//
// last_row<K>                            block 256, grid (1)
//   0 x (f32 [T][K])  1 step  2 out (f32 [K])  3 trace
//   out = x[n - 1] (the row whose logits pick the next token).
#pragma once
#include "activations.cuh"
#include "quant_formats.cuh"
#include "rope_kv_append.cuh"

__device__ __forceinline__ int step_tokens(u64 slot) { return reinterpret_cast<const Step*>(slot)->n_tokens; }

// Table rows are gathered, so nothing is coalesced across blocks; within a row a warp
// reads consecutive elements (get() per element, as the decode embed).
template <int K, class F, class B>
__device__ void embed_rows(const KArgs& a, const B& blk) {
  blk.begin();
  Trace trace(reinterpret_cast<u64*>(a.p[5]), blk);
  const int t = blk.x;
  if (t < step_tokens(a.p[4])) {
    const int token = reinterpret_cast<const int*>(a.p[2])[t];
    const u8* row = reinterpret_cast<const u8*>(a.p[0]) +
                    static_cast<long long>(token) * static_cast<long long>(a.p[1]);
    float* x = reinterpret_cast<float*>(a.p[3]) + static_cast<long long>(t) * K;
    for (int i = blk.thread; i < K; i += kThreads) x[i] = F::get(row + i / F::QK * F::BB, i % F::QK);
  }
  trace.end();
}

template <int HD, int NQ, int NKV, bool Rope, bool Append, bool Q8, class B>
__device__ void rope_kv_append_rows(const KArgs& a, const B& blk) {
  blk.begin();
  Trace trace(reinterpret_cast<u64*>(a.p[8]), blk);
  const int t = blk.x;
  if (t < step_tokens(a.p[3])) {  // block-uniform: the barrier inside is reached by all or none
    const int pos = a.p[9] ? reinterpret_cast<const int*>(a.p[9])[t]
                           : reinterpret_cast<const Step*>(a.p[3])->pos + t;
    const long long seq = a.p[10] ? reinterpret_cast<const int*>(a.p[10])[t] : 0;
    const long long at = seq * static_cast<long long>(a.p[11]) + KvCache<HD, NKV, Q8>::row(pos, 0);
    const long long qrow = static_cast<long long>(t) * NQ * HD, kvrow = static_cast<long long>(t) * NKV * HD;
    // Null slots (Rope without Append: no k, v or caches) stay null.
    auto in = [](u64 p, long long off) { return p ? reinterpret_cast<const float*>(p) + off : nullptr; };
    __shared__ RopeTable<HD> tab;
    if constexpr (Rope) tab.fill(pos, __uint_as_float(static_cast<u32>(a.p[7])), blk.thread);
    rope_kv_append_token<HD, NQ, NKV, Rope, Append, Q8>(
        in(a.p[0], qrow), in(a.p[1], kvrow), in(a.p[2], kvrow),
        a.p[4] ? reinterpret_cast<float*>(a.p[4]) + qrow : nullptr,
        a.p[5] ? reinterpret_cast<u8*>(a.p[5]) + at : nullptr,
        a.p[6] ? reinterpret_cast<u8*>(a.p[6]) + at : nullptr, tab, blk.thread, kThreads);
  }
  trace.end();
}

template <int K, class B>
__device__ void last_row(const KArgs& a, const B& blk) {
  blk.begin();
  Trace trace(reinterpret_cast<u64*>(a.p[3]), blk);
  const int n = step_tokens(a.p[1]);
  if (n >= 1) {
    const float* x = reinterpret_cast<const float*>(a.p[0]) + static_cast<long long>(n - 1) * K;
    float* out = reinterpret_cast<float*>(a.p[2]);
    for (int i = blk.thread; i < K; i += kThreads) out[i] = x[i];
  }
  trace.end();
}

template <int K, class B>
__device__ void rmsnorm_rows(const KArgs& a, const B& blk) {
  blk.begin();
  Trace trace(reinterpret_cast<u64*>(a.p[5]), blk);
  const int t = blk.x;
  if (t < step_tokens(a.p[4])) {  // the whole block branches alike (rms_scale syncs)
    const float* x = reinterpret_cast<const float*>(a.p[0]) + static_cast<long long>(t) * K;
    const float* w = reinterpret_cast<const float*>(a.p[1]);
    float* out = reinterpret_cast<float*>(a.p[3]) + static_cast<long long>(t) * K;
    const float scale = rms_scale<K>(x, __uint_as_float(static_cast<u32>(a.p[2])), blk.thread);
    for (int i = blk.thread; i < K; i += kThreads) out[i] = x[i] * scale * w[i];
  }
  trace.end();
}

template <int K, class B>
__device__ void swiglu_rows(const KArgs& a, const B& blk) {
  blk.begin();
  Trace trace(reinterpret_cast<u64*>(a.p[4]), blk);
  const int t = blk.x;
  if (t < step_tokens(a.p[3])) {
    const long long r = static_cast<long long>(t) * K;
    const float* g = reinterpret_cast<const float*>(a.p[0]) + r;
    const float* u = reinterpret_cast<const float*>(a.p[1]) + r;
    float* out = reinterpret_cast<float*>(a.p[2]) + r;
    for (int i = blk.thread; i < K; i += kThreads) out[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
  }
  trace.end();
}

template <int K, class B>
__device__ void add_rows(const KArgs& a, const B& blk) {
  blk.begin();
  Trace trace(reinterpret_cast<u64*>(a.p[4]), blk);
  const int t = blk.x;
  if (t < step_tokens(a.p[3])) {
    const long long r = static_cast<long long>(t) * K;
    const float* x = reinterpret_cast<const float*>(a.p[0]) + r;
    const float* y = reinterpret_cast<const float*>(a.p[1]) + r;
    float* out = reinterpret_cast<float*>(a.p[2]) + r;
    for (int i = blk.thread; i < K; i += kThreads) out[i] = x[i] + y[i];
  }
  trace.end();
}
