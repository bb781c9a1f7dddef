#include "frontend/synth/weights.h"

#include <cmath>
#include <cstdlib>

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

// Tuned with test/ref/test_synth_peaked.py (llama.cpp's logits on synthetic models).
// Logit spread over the vocabulary: output rows have stddev kLogitScale / sqrt(n_embd), so
// with a unit-RMS final hidden state the logits have stddev about kLogitScale.
constexpr float kLogitScale = 6.0f;
// Each layer's attention and FFN outputs add up to about this much RMS to the residual.
// It must dwarf the embedding (RMS kLogitScale / sqrt(n_embd)): with tied embeddings a
// residual still close to the input embedding makes the model echo its input token
// (measured: 59% of argmaxes at 1.0, 2% at 3.0 on test-tiny). Growth over layers is a
// random walk, sqrt(2 n_layer) * kBranchScale, harmless under RMSNorm.
constexpr float kBranchScale = 3.0f;

}  // namespace

static float tune(const char* k, float d) { const char* v = std::getenv(k); return v ? std::strtof(v, nullptr) : d; }  // TUNE-TEMP
WeightInit weight_init(std::string_view name, const qwen2::Config& c) {
  const float kLogitScale = tune("T_EMB", 6.0f), kBranchScale = tune("T_BR", 3.0f), kQK = tune("T_QK", 1.0f), kONorm = tune("T_ONORM", 1.0f), kNormSd = tune("T_NSD", 0.05f), kBias = tune("T_BIAS", 0.05f);  // TUNE-TEMP
  if (name == "output_norm.weight") return {kONorm, tune("T_OSD", kNormSd * kONorm)};  // TUNE-TEMP
  if (ends_with(name, "attn_q.weight") || ends_with(name, "attn_k.weight")) return {0, kQK / std::sqrt(static_cast<float>(c.n_embd))};  // TUNE-TEMP
  const float embd = static_cast<float>(c.n_embd);
  const float inv_sqrt_embd = 1.0f / std::sqrt(embd);
  if (name == "token_embd.weight" || name == "output.weight")
    return {0, kLogitScale * inv_sqrt_embd, c.n_embd, tune("T_ROWSD", 0.0f)};
  if (ends_with(name, "_norm.weight")) return {1.0f, kNormSd};
  if (ends_with(name, ".bias")) return {0, kBias};
  if (ends_with(name, "attn_q.weight") || ends_with(name, "attn_k.weight") ||
      ends_with(name, "attn_v.weight") || ends_with(name, "ffn_gate.weight") ||
      ends_with(name, "ffn_up.weight"))
    return {0, inv_sqrt_embd};  // unit-variance projections of a unit-RMS input
  if (ends_with(name, "attn_output.weight"))
    return {0, kBranchScale / std::sqrt(static_cast<float>(c.q_dim()))};
  if (ends_with(name, "ffn_down.weight"))
    // silu(g)*u of unit normals has RMS about 0.6; scale back to kBranchScale.
    return {0, kBranchScale / (0.6f * std::sqrt(static_cast<float>(c.n_ff)))};
  fail("internal: no weight distribution for tensor {}", name);
}

void fill_weights(uint64_t seed, std::string_view name, uint64_t chunk, WeightInit init,
                  float* dst, size_t n) {
  uint64_t state = seed ^ 0xA0761D6478BD642Full;
  state = splitmix64(state) ^ fnv1a(name);
  state = splitmix64(state) ^ chunk;
  splitmix64(state);
  // Box-Muller: two normals from two 24-bit uniforms; u1 > 0 keeps the log finite.
  constexpr float kTwoPi = 6.28318530717958647692f;
  float row_scale = 1;
  for (size_t i = 0; i < n; i += 2) {
    if (init.row_len > 0 && i % init.row_len == 0) {
      const uint64_t r = splitmix64(state);
      const float u1 = (static_cast<float>(r >> 40) + 0.5f) * 0x1p-24f;
      const float u2 = static_cast<float>((r >> 16) & 0xFFFFFF) * 0x1p-24f;
      row_scale = std::exp(init.row_log_sd * std::sqrt(-2.0f * std::log(u1)) * std::cos(kTwoPi * u2));
    }
    const uint64_t r = splitmix64(state);
    const float u1 = (static_cast<float>(r >> 40) + 0.5f) * 0x1p-24f;
    const float u2 = static_cast<float>((r >> 16) & 0xFFFFFF) * 0x1p-24f;
    const float radius = std::sqrt(-2.0f * std::log(u1)) * init.stddev * row_scale;
    const float angle = kTwoPi * u2;
    dst[i] = init.mean + radius * std::cos(angle);
    if (i + 1 < n) dst[i + 1] = init.mean + radius * std::sin(angle);
  }
}

}  // namespace brickc::synth
