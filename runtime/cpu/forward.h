// The Qwen2 model on the CPU in f32, built from the bricks: weights bound in the file's
// mapping (rows dequantized as they are used), an f32 KV cache, batched prefill and
// token-by-token decode. The reference that every other backend is checked against.
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "frontend/gguf/reader.h"
#include "frontend/qwen2/config.h"
#include "runtime/cpu/bricks.h"
#include "runtime/cpu/thread_pool.h"

namespace brickc::cpu {

// kF32 keeps every activation in f32: the reference. kLlamaCpu rounds each matmul's input
// to the type llama.cpp's CPU backend converts it to (Q8_0, Q8_K or F16 by weight type),
// so that the two can be compared on quantized files without that rounding in between.
enum class Activations { kF32, kLlamaCpu };

struct ForwardOptions {
  int n_threads = 1;
  int64_t n_ctx = 4096;  // KV cache positions; at most the model's context_length
  Activations activations = Activations::kF32;
};

class Qwen2Model {
 public:
  // `file` must outlive the model: weights are read from its mapping.
  Qwen2Model(const gguf::File& file, const ForwardOptions& opt);

  const qwen2::Config& config() const { return cfg_; }
  int64_t n_ctx() const { return n_ctx_; }
  int64_t n_past() const { return n_past_; }  // positions already in the KV cache
  void reset() { n_past_ = 0; }
  void rewind(int64_t n) { n_past_ = n; }  // keeps positions 0 .. n-1 (n <= n_past())

  // Called with (position, logits[n_vocab]) for each evaluated position in order.
  using LogitsFn = std::function<void(int64_t, std::span<const float>)>;

  // Evaluates `tokens` at positions n_past() .. and returns the logits of the last one.
  // Each weight matrix is read once per batch of up to kBatch tokens. With `each`, the
  // logits of every position are computed and passed to it.
  std::span<const float> prefill(std::span<const int32_t> tokens, const LogitsFn& each = {});
  // One token at position n_past(); its logits.
  std::span<const float> decode(int32_t token);

  static constexpr int64_t kBatch = 64;

 private:
  struct Layer {
    Matrix wq, wk, wv, wo, w_gate, w_up, w_down;
    std::vector<float> attn_norm, bq, bk, bv, ffn_norm;
  };
  void check_tokens(std::span<const int32_t> tokens) const;
  // matmul, with the activations rounded first under Activations::kLlamaCpu.
  void project(const Matrix& w, const float* x, int64_t n, float* y, const float* bias = nullptr);
  // Runs n <= kBatch tokens; logits for all of them (all_logits) or for the last one only.
  void eval_batch(const int32_t* tokens, int64_t n, bool all_logits);

  qwen2::Config cfg_;
  int64_t n_ctx_ = 0, n_past_ = 0;
  Activations activations_;
  ThreadPool pool_;
  Matrix token_embd_, output_;
  std::vector<float> output_norm_;
  std::vector<Layer> layers_;
  std::vector<float> k_cache_, v_cache_;  // [layer][position][kv_dim]
  // Activations for one batch, token-major.
  std::vector<float> x_, h_, q_, k_, v_, att_, ffn_a_, ffn_b_, logits_, rounded_;
};

}  // namespace brickc::cpu
