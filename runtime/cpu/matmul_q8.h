// The int8 engine's matrix products (llama.cpp's CPU scheme): the activations are quantized
// once per product group to the weights' vec_dot type (Q8_0 or Q8_K), the rows of all the
// group's matrices are split over the pool, and each row is dotted with every token by a
// SIMD kernel (simd/qdot.h); with the amx set, a prompt step's rows go 16 at a time to the
// tile unit instead (simd/tiles.h). Weights stay in their GGUF blocks, or in the layout
// repacked at load where this processor's kernels have one (simd/rows8.h); f16/bf16/f32
// weights take the f32 reference product.
#pragma once
#include <cstdint>
#include <span>

#include "runtime/cpu/bricks.h"
#include "runtime/cpu/simd/qdot.h"
#include "runtime/cpu/thread_pool.h"

namespace brickc::cpu {

// y[t·w.rows + r] = W[r] · x[t·cols ..] (+ bias[r]), as cpu::matmul.
struct MatmulPart {
  const Matrix* w = nullptr;
  float* y = nullptr;
  const float* bias = nullptr;
};

// Every part (at most kMaxMatmulParts: a QKV brick's three) against the same n_tokens
// rows of x (each w->cols long), in one pool job.
inline constexpr size_t kMaxMatmulParts = 3;
void matmul_q8(ThreadPool& pool, simd::Isa isa, std::span<const MatmulPart> parts,
               const float* x, int64_t n_tokens);

}  // namespace brickc::cpu
