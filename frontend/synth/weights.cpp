#include "frontend/synth/weights.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "ir/error.h"

namespace brickc::synth {
namespace {

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001B3ull;
  return h;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Tuned with test/ref/test_synth_peaked.py and test_cpu_vs_llamacpp.py, which compares
// brickc's f32 logits with llama.cpp's on the same quantized file: llama.cpp rounds
// matmul inputs to 8 bits (~0.5 % relative error each), and a model whose logits amplify
// that noise fails the comparison however exact brickc is.
//
// The residual stream is mostly the token embedding (unit RMS, exact in both), with the
// layers adding a context-dependent part of total RMS kContext: each of the 2 n_layer
// branches adds kContext / sqrt(2 n_layer), so every layer's Jacobian stays close to the
// identity and the rounding noise of the branches reaches the logits scaled down by
// about kContext, at any depth. (Measured on 256-position prompts, llama.cpp on the file
// vs brickc f32: top-1 agreement 92-96 % with branches 3x the embedding, 99-99.6 % here,
// and 36 of 36 greedy 32-token continuations identical.)
constexpr float kContext = 0.15f;
// Attention scores q.k / sqrt(head_dim) with stddev about kQK^2 = 0.25: soft attention,
// whose weights barely move when Q and K are rounded.
constexpr float kQK = 0.5f;
// Logit spread: output rows have unit RMS values and output_norm weights have magnitude
// kLogitScale / sqrt(n_embd), so logits have stddev about kLogitScale. Their signs are
// random: with tied embeddings a positive output_norm makes every token's logit grow with
// its own embedding's share of the residual, and the model would echo its input token.
constexpr float kLogitScale = 3.5f;
// Embedding/output rows are values of one magnitude with random signs, so the final
// hidden state (mostly the embedding) has a small max/RMS ratio and Q8 rounds it with
// ~2x less relative error than a Gaussian one. The magnitudes are log-normal across rows:
// tokens with larger rows separate the top logit from the runner-up, so that rounding
// flips fewer argmaxes (with Gaussian rows: ~1.5 % top-1 flips under Q8_K from the last
// matmul alone), while the argmax still varies with the context.
constexpr float kRowLogSd = 0.5f;

}  // namespace

WeightInit weight_init(std::string_view name, const qwen2::Config& c) {
  const float inv_sqrt_embd = 1.0f / std::sqrt(static_cast<float>(c.n_embd));
  const float branch = kContext / std::sqrt(2.0f * static_cast<float>(c.n_layer));
  if (name == "token_embd.weight" || name == "output.weight")
    return {1.0f, 0, c.n_embd, kRowLogSd, true};
  if (name == "output_norm.weight") {
    const float g = kLogitScale * inv_sqrt_embd;
    return {g, 0.02f * g, 0, 0, true};
  }
  if (ends_with(name, "_norm.weight")) return {1.0f, 0.05f};
  if (ends_with(name, ".bias")) return {0, 0.05f};
  if (ends_with(name, "attn_q.weight") || ends_with(name, "attn_k.weight"))
    return {0, kQK * inv_sqrt_embd};
  if (ends_with(name, "attn_v.weight") || ends_with(name, "ffn_gate.weight") ||
      ends_with(name, "ffn_up.weight"))
    return {0, inv_sqrt_embd};  // unit-variance projections of a unit-RMS input
  if (ends_with(name, "attn_output.weight"))
    return {0, branch / std::sqrt(static_cast<float>(c.q_dim()))};
  if (ends_with(name, "ffn_down.weight"))
    // silu(g)*u of unit normals has RMS about 0.6; scale back to `branch`.
    return {0, branch / (0.6f * std::sqrt(static_cast<float>(c.n_ff)))};
  fail("internal: no weight distribution for tensor {}", name);
}

void fill_weights(uint64_t seed, std::string_view name, uint64_t chunk, WeightInit init,
                  float* dst, size_t n) {
  uint64_t state = seed ^ 0xA0761D6478BD642Full;
  state = splitmix64(state) ^ fnv1a(name);
  state = splitmix64(state) ^ chunk;
  splitmix64(state);
  // Box-Muller: two normals from two 24-bit uniforms; u1 > 0 keeps the log finite.
  auto normals = [&state] {
    constexpr float kTwoPi = 6.28318530717958647692f;
    const uint64_t r = splitmix64(state);
    const float u1 = (static_cast<float>(r >> 40) + 0.5f) * 0x1p-24f;
    const float u2 = static_cast<float>((r >> 16) & 0xFFFFFF) * 0x1p-24f;
    const float radius = std::sqrt(-2.0f * std::log(u1));
    return std::pair{radius * std::cos(kTwoPi * u2), radius * std::sin(kTwoPi * u2)};
  };
  // Chunks hold whole rows, so rows restart at multiples of row_len.
  const size_t row_len = init.row_len > 0 ? static_cast<size_t>(init.row_len) : n;
  for (size_t row = 0; row < n; row += row_len) {
    const size_t end = std::min(n, row + row_len);
    const float scale = init.row_len > 0 ? std::exp(init.row_log_sd * normals().first) : 1.0f;
    for (size_t i = row; i < end;) {
      const auto [a, b] = normals();
      if (init.random_sign) {
        dst[i++] = scale * std::copysign(init.mean + init.stddev * a, b);
        continue;
      }
      dst[i++] = scale * (init.mean + init.stddev * a);
      if (i < end) dst[i++] = scale * (init.mean + init.stddev * b);
    }
  }
}

}  // namespace brickc::synth
