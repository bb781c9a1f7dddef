// The int8 engine's attention inner loops in SIMD registers: the scores of a block of
// queries against a chunk of keys, a query's softmax, and the probabilities' weighted sum
// of the chunk's values. cpu::attention (bricks.h) drives them and chunks the cache;
// without them it runs its own loops, the f32 reference's order and std::exp. SwiGLU,
// the other user of the softmax's exp, runs here too.
#pragma once
#include <algorithm>
#include <cstdint>

#include "runtime/cpu/simd/qdot.h"

namespace brickc::cpu::simd {

// Query i (< n_queries) is at q + i·q_stride and reads keys 0 .. end(i) - 1 of the chunk,
// end(i) = min(n_keys, first_end + i·end_step): a block of consecutive tokens of one head
// (end_step 1, causal: each sees one key more than the one before) or the heads of one
// token that share a kv head (end_step 0); key or value j is at kv + j·kv_stride. head_dim
// floats each.
struct AttentionChunk {
  const float* q = nullptr;
  int64_t q_stride = 0;
  const float* kv = nullptr;
  int64_t kv_stride = 0;
  int64_t n_queries = 0, n_keys = 0, first_end = 0, end_step = 1;
  int64_t head_dim = 0;
  int64_t end(int64_t i) const { return std::min(n_keys, first_end + i * end_step); }
};

// scores: p[i·p_stride + j] = q_i · k_j for each query's keys of the chunk.
// weigh: out[i·q_stride + d] += Σ_j p[i·p_stride + j] · v_j[d] over those keys, j ascending.
// Each score and each output element is formed in one order, whatever the number of
// queries in the block, so that a prompt step and one-token steps give the same values.
// softmax: p[j] = e^(scale·p[j] − m) / Σ_k e^(scale·p[k] − m) for j < n, m the largest
// scale·p[j], the sum in double (as ggml's soft_max); with f16, each result rounded to f16.
// e^x is a polynomial within 2 ulp of f32's, and e^(−86) for anything smaller.
// to_f16 / from_f16: n values rounded to f16 (to nearest even: quant::f32_to_fp16's bits)
// and back, for an f16 KV cache: its appends, and its chunks of keys and values widened to
// f32 for the loops above. from_q8_0: n values (whole blocks) of a q8_0 KV cache widened,
// d · q as quant::dequantize gives them.
// swiglu: y[i] = g[i] / (1 + e^(−g[i])) · u[i], the FFN's gate, with softmax's exp (its one
// other user here): a 512-token prompt step of the 1.5B takes 128 M of them, and std::exp
// one at a time was a fifth of that step's work outside the weight products (dev VM).
struct AttentionKernels {
  void (*scores)(const AttentionChunk& c, float* p, int64_t p_stride) = nullptr;
  void (*weigh)(const AttentionChunk& c, const float* p, int64_t p_stride, float* out) = nullptr;
  void (*softmax)(float* p, int64_t n, float scale, bool f16) = nullptr;
  void (*to_f16)(const float* x, uint16_t* y, int64_t n) = nullptr;
  void (*from_f16)(const uint16_t* x, float* y, int64_t n) = nullptr;
  void (*from_q8_0)(const uint8_t* x, float* y, int64_t n) = nullptr;
  void (*swiglu)(const float* g, const float* u, float* y, int64_t n) = nullptr;
};

// The kernels of `isa` for heads of head_dim, or none (null functions): the portable set,
// or a head_dim that is not a multiple of the kernels' width.
AttentionKernels attention_kernels(Isa isa, int64_t head_dim);
AttentionKernels avx2_attention_kernels(int64_t head_dim);    // attention_avx2.cpp
AttentionKernels avx512_attention_kernels(int64_t head_dim);  // attention_avx512.cpp

}  // namespace brickc::cpu::simd
