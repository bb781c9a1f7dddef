#include "frontend/synth/presets.h"

#include <fmt/format.h>

#include "ir/error.h"

namespace brickc::synth {
namespace {

qwen2::Config make(uint32_t layers, uint32_t embd, uint32_t ff, uint32_t heads,
                   uint32_t kv_heads, uint32_t head_dim, uint32_t vocab, bool tied) {
  qwen2::Config c;
  c.n_layer = layers;
  c.n_embd = embd;
  c.n_ff = ff;
  c.n_head = heads;
  c.n_head_kv = kv_heads;
  c.head_dim = head_dim;
  c.n_vocab = vocab;
  c.n_ctx_train = 32768;
  c.rope_theta = 1e6f;
  c.rms_eps = 1e-6f;
  c.tied = tied;
  return c;
}

}  // namespace

const std::vector<Preset>& presets() {
  // Real sizes: Qwen2.5-Coder tech report Table 1 / HF configs (gguf-qwen2.md §2).
  // Test sizes: ne0 = 256/512 keeps every K-quant block whole; test-fallback's 384 is,
  // like 0.5B's 896, a multiple of 32 but not of 256, so the shape fallback applies.
  static const std::vector<Preset> kPresets = {
      {"qwen2.5-coder-0.5b", make(24, 896, 4864, 14, 2, 64, 151936, true), 151936, false},
      {"qwen2.5-coder-1.5b", make(28, 1536, 8960, 12, 2, 128, 151936, true), 151936, false},
      {"qwen2.5-coder-3b", make(36, 2048, 11008, 16, 2, 128, 151936, true), 151936, false},
      {"qwen2.5-coder-7b", make(28, 3584, 18944, 28, 4, 128, 152064, false), 152064, false},
      {"qwen2.5-coder-14b", make(48, 5120, 13824, 40, 8, 128, 152064, false), 152064, false},
      {"qwen2.5-coder-32b", make(64, 5120, 27648, 40, 8, 128, 152064, false), 152064, false},
      {"test-tiny", make(2, 256, 768, 4, 2, 64, 151936, true), 4096, true},
      {"test-small", make(4, 512, 1536, 8, 2, 64, 151936, false), 8192, true},
      {"test-fallback", make(3, 384, 1024, 6, 2, 64, 151936, true), 4096, true},
  };
  return kPresets;
}

std::string preset_names() {
  std::string s;
  for (const auto& p : presets()) s += fmt::format("{}{}", s.empty() ? "" : ", ", p.name);
  return s;
}

const Preset& find_preset(std::string_view name) {
  for (const auto& p : presets())
    if (p.name == name) return p;
  fail("unknown model '{}': expected one of {}", name, preset_names());
}

}  // namespace brickc::synth
