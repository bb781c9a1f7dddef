// The tensors of a qwen2 GGUF file: names and ggml shapes from the config, in the order
// llama.cpp's quantizer writes them. quant_mix.h then picks each one's type.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "frontend/qwen2/config.h"
#include "ir/dtype.h"

namespace brickc::synth {

struct TensorSpec {
  std::string name;
  std::vector<int64_t> ne;  // ggml order: ne[0] is the contiguous row length
  DType type = DType::F32;

  int64_t n_rows() const;
};

// Non-layer tensors first, then layer by layer, names sorted within a group: the order
// of llama_model_loader's weights_map (weight_name_comparer), which is the order of
// every file llama-quantize writes. output.weight only where the config is untied.
std::vector<TensorSpec> qwen2_tensors(const qwen2::Config& c);

}  // namespace brickc::synth
