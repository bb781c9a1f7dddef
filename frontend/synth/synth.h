// `brickc synth`: writes a qwen2 GGUF file with a real model's tensor names, shapes and
// llama.cpp per-tensor quant types, a real or generated vocabulary, and random weights.
// Tensors are generated and quantized in row chunks on several threads and streamed to
// disk in order, so memory stays small whatever the model size.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "frontend/qwen2/config.h"
#include "frontend/synth/quant_mix.h"
#include "frontend/synth/tensor_plan.h"

namespace brickc::synth {

struct Options {
  std::string model = "test-tiny";      // a preset name (presets.h)
  QuantMix mix = QuantMix::Q4_K_M;
  std::optional<uint32_t> layers;       // keep the first N layers
  std::optional<uint32_t> vocab_size;   // embedding rows; default from the preset
  std::string vocab_path;               // HF tokenizer.json; empty: generated vocabulary
  uint64_t seed = 0;
  unsigned threads = 0;                 // 0: hardware concurrency
};

// What a file will hold, without generating anything.
struct Plan {
  std::string model_name;
  qwen2::Config config;
  std::vector<TensorSpec> tensors;  // file order, with types
};
Plan make_plan(const Options& o);

// Called after each written chunk with (bytes written, total tensor bytes).
using Progress = std::function<void(uint64_t done, uint64_t total)>;

struct Summary {
  Plan plan;
  uint64_t tensor_bytes = 0;
};
Summary synthesize(const Options& o, const std::string& out_path,
                   const Progress& progress = nullptr);

}  // namespace brickc::synth
