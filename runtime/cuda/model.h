// A Qwen2 GGUF decoded on the GPU: the optimized decode step lowered to kernels, weights
// uploaded once, an f16 or q8_0 KV cache, and the step captured as one CUDA graph replayed
// per token; prompts run through a T-token step's graph that shares the weights and the
// cache.
// The generation loop's Decoder for --device cuda.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "frontend/gguf/reader.h"
#include "ir/graph.h"
#include "runtime/brick_stepper.h"
#include "runtime/decode_graph.h"

namespace brickc::cuda {

struct ModelOptions {
  int device = 0;
  int64_t n_ctx = 4096;                // KV cache positions; at most the model's context_length
  // Prompt tokens per T-token step: prompts of two or more tokens run through a second,
  // T-token graph (tensor-core GEMMs, flash attention) in chunks of up to this many; 1
  // sends them token by token through the decode graph.
  int64_t n_ubatch = 512;
  std::optional<std::string> passes;   // pass list "a,b"; nullopt: the default pipeline
  // How the KV cache holds K and V: f16 or q8_0, both of one type (the kernels take one).
  runtime::CacheTypes cache;
  bool use_graph = true;               // false: launch each kernel eagerly (tests, debugging)
  // Decode steps as one persistent kernel (kernels/megakernel.cuh) instead of a graph of
  // per-brick kernels; prompts of two or more tokens take the T-token graph either way.
  bool megakernel = false;
  double task_timeout_s = 1.0;  // ExecutorOptions::task_timeout_s
  // Kernels stamp %globaltimer and their SM: last_brick_us() gives each brick's time in the
  // last step (earliest block start to latest block end, summed over its launches),
  // last_brick_times() also how much of it the SMs were busy.
  bool trace = false;
  // A brick (ir::Graph::find_brick's spec) whose kernels end with a wrong one in both
  // graphs, for showing that --verify catches it.
  std::optional<std::string> plant_fault;
  // Sees the logits of every evaluated position (reads them back: slow, for --dump-logits).
  std::function<void(int64_t, std::span<const float>)> each;
};

class Model : public runtime::SteppedDecoder {
 public:
  virtual std::string device_label() const = 0;  // "cuda:0 NVIDIA H200 (megakernel)"
  virtual size_t device_bytes() const = 0;       // GPU memory this model holds
};

// The device profile (passes/device_profile.h) the budgets are assigned from on a GPU of
// this name: the H200's on an H200, else the H100's.
std::string budget_profile(const std::string& device_name);

// Errors name what failed: no usable GPU (and why), out of GPU memory (needed/available),
// an NVRTC log, the failing CUDA call.
std::unique_ptr<Model> open_model(const gguf::File& file, const ModelOptions& o);

}  // namespace brickc::cuda
