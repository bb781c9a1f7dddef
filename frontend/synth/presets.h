// Named model configurations for `brickc synth`: the six Qwen2.5-Coder sizes with their
// published hyperparameters (gguf-qwen2.md §2) and small test models for CI.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "frontend/qwen2/config.h"

namespace brickc::synth {

struct Preset {
  std::string_view name;
  qwen2::Config config;  // n_vocab: the embedding rows with the real Qwen2.5 vocabulary
  // Embedding rows when the vocabulary is generated instead: the real sizes keep their
  // exact shapes (the generated tokens are padded with [PAD] rows), test models shrink.
  uint32_t n_vocab_generated;
  bool is_test;  // a small CI model, not a real Qwen2.5-Coder size
};

const std::vector<Preset>& presets();
// Error listing the valid names when `name` is unknown.
const Preset& find_preset(std::string_view name);
std::string preset_names();  // "qwen2.5-coder-0.5b, ..., test-tiny, ..."

}  // namespace brickc::synth
