// Opens a model on the device `--device` asks for (cpu, cuda or auto: the GPU when one
// works): what run, chat and bench share, so that every command picks devices alike.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "frontend/gguf/reader.h"
#include "runtime/cpu/forward.h"
#include "runtime/session.h"

namespace brickc::tools {

struct BackendOptions {
  std::string device = "auto";  // cpu | cuda | auto
  int threads = 1;              // CPU threads
  int64_t n_ctx = 4096;
  cpu::Activations activations = cpu::Activations::kF32;  // CPU direct engine only
  std::string engine = "direct";                           // CPU: direct | graph
  cpu::Qwen2Model::LogitsFn each;  // sees the logits of every evaluated position
  // Time every brick of each step (Decoder::last_brick_us): the GPU stamps %globaltimer in
  // its kernels, the CPU runs the graph engine.
  bool profile = false;
};

struct Backend {
  std::string device;  // "cpu" or "cuda"
  std::string label;   // for summaries: "cpu (16 threads)", "cuda:0 NVIDIA H100 80GB HBM3"
  std::unique_ptr<runtime::Decoder> decoder;
  std::unique_ptr<cpu::Qwen2Model> cpu_model;  // owned here when the decoder wraps one
};

// Errors: --device cuda where CUDA is unusable says why; auto falls back to the CPU.
Backend open_backend(const gguf::File& file, const BackendOptions& o);

}  // namespace brickc::tools
