// The CPU reference bricks: one function per transformer operation of the Qwen2 forward
// pass, in f32, matching llama.cpp's CPU numerics where that is cheap (gguf-qwen2.md §3).
// Plain loops the compiler vectorizes at -O2; no model knowledge, no allocation of results.
#pragma once
#include <cstdint>

#include "ir/dtype.h"
#include "runtime/cpu/simd/attention.h"
#include "runtime/cpu/thread_pool.h"

namespace brickc::cpu {

// A weight matrix as stored in the file: `rows` rows of `cols` elements of `type`,
// row-major, each row `row_bytes` long. ggml's ne = [cols, rows].
struct Matrix {
  DType type = DType::F32;
  const uint8_t* data = nullptr;
  int64_t cols = 0, rows = 0;
  uint64_t row_bytes = 0;
  // The int8 engine's copy of the rows repacked eight at a time (simd/rows8.h), or null.
  const uint8_t* rows8 = nullptr;
};

// Dot product in f32 with 8 independent partial sums (so that it vectorizes). matmul forms
// every sum in this same order, whatever the number of tokens or threads, so prefill and
// decode agree exactly.
float dot(const float* a, const float* b, int64_t n);

// out[0..cols) = row `token` of the table, dequantized (the embedding lookup).
void embed(const Matrix& table, int32_t token, float* out);

// y = x / sqrt(mean(x²) + eps) * w, the sum of squares in double as ggml's CPU op does.
void rmsnorm(const float* x, const float* w, float* y, int64_t n, float eps);

// y[t·rows + r] = W[r] · x[t·cols ..] (+ bias[r]) for t < n_tokens. Each weight row is
// dequantized once and dotted with every token; rows are split over the pool.
void matmul(ThreadPool& pool, const Matrix& w, const float* x, int64_t n_tokens, float* y,
            const float* bias = nullptr);

// The type llama.cpp's CPU backend converts a matmul's activations to before its dot
// products with weights of type `weight` (its vec_dot_type, gguf-qwen2.md §3); F32 when
// it uses them as they are.
DType llama_cpu_activation_type(DType weight);

// y = x after a round trip through type t (quantized per block, dequantized): the values
// llama.cpp's dot products see. n must be a multiple of t's block size.
void round_activations(DType t, const float* x, float* y, int64_t n);

// NEOX RoPE in place on n_heads heads of head_dim at position pos: pairs (i, i + d/2)
// rotated by pos·base^(-2i/d), the angle built by repeated f32 multiplication as ggml does.
void rope_neox(float* x, int64_t n_heads, int64_t head_dim, int64_t pos, float theta_base);

struct AttentionConfig {
  int64_t n_head = 0, n_head_kv = 0, head_dim = 0;
  // Round the softmax output to f16 before it weights V, as llama.cpp's attention does
  // with its f16 V cache (no flash attention); false for the f32 reference.
  bool f16_probabilities = false;
  // The int8 engine's SIMD scores and weighted sums; without them, the reference's loops.
  simd::AttentionKernels kernels{};
};

// One layer's KV cache as attention reads it: key (or value) j of kv head g is the
// head_dim values at value offset g·head_stride + j·pos_stride from k (v), as f32, f16 bits
// or q8_0 blocks (the offset / 32 blocks of 34 bytes; head_dim a multiple of 32). Qwen2Model
// keeps f32 rows of positions ([position][kv head][head_dim]); the executor keeps each kv
// head's positions together ([kv head][position][head_dim]), which a decode step reads
// about 3x as fast as every other 512 bytes of rows (one thread of the dev VM: 24-30
// against 8.9 GB/s), in f16 for the int8 engine.
// Bytes of q8_0 blocks holding n values (n a multiple of 32): an offset into a q8_0 cache.
constexpr int64_t q8_0_bytes(int64_t n) { return n / 32 * 34; }

struct KvView {
  const void* k = nullptr;
  const void* v = nullptr;
  int64_t pos_stride = 0, head_stride = 0;  // in values
  DType k_type = DType::F32, v_type = DType::F32;  // F32, F16 or Q8_0
};

// n values to f16 bits (round to nearest even) and back, with the kernels' F16C where
// `kernels` has them (an f16 KV cache's appends and reads).
void to_f16(const simd::AttentionKernels& kernels, const float* x, uint16_t* y, int64_t n);
void from_f16(const simd::AttentionKernels& kernels, const uint16_t* x, float* y, int64_t n);
// n values (whole q8_0 blocks at x) widened to f32, with the kernels' SIMD where they have it.
void from_q8_0(const simd::AttentionKernels& kernels, const uint8_t* x, float* y, int64_t n);

// Causal GQA attention for n_tokens queries at positions pos0 .. pos0+n_tokens-1.
// q, out: [n_tokens][n_head·head_dim]; the cache holds at least positions
// 0 .. pos0+n_tokens-1. Query head h reads kv head h / (n_head/n_head_kv); scale
// 1/sqrt(head_dim); softmax in f32.
void attention(ThreadPool& pool, const AttentionConfig& s, const float* q, int64_t n_tokens,
               int64_t pos0, const KvView& cache, float* out);

// y = silu(gate) ⊙ up, silu(g) = g / (1 + e^-g).
void swiglu(const float* gate, const float* up, float* y, int64_t n);

// y = a + b (y may alias a or b).
void add(const float* a, const float* b, float* y, int64_t n);

// Index of the largest value; the first one among ties (llama.cpp's greedy rule). NaNs
// are never chosen (0 when nothing else is there). Fixed chunks of x over the pool: a
// scan of the 0.5B's 151,936 logits took 134 us on one thread, 1.7 % of its step on 16.
int32_t argmax(ThreadPool& pool, const float* x, int64_t n);

}  // namespace brickc::cpu
