// Opens a model on the device `--device` asks for (cpu, cuda or auto: the GPU when one
// works): what run, chat and bench share, so that every command picks devices alike.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "frontend/gguf/reader.h"
#include "runtime/batch_decoder.h"
#include "runtime/decode_graph.h"
#include "runtime/cpu/forward.h"
#include "runtime/session.h"
#include "runtime/verify.h"

namespace brickc::tools {

struct BackendOptions {
  std::string device = "auto";  // cpu | cuda | auto
  int threads = 1;              // CPU threads
  int64_t n_ctx = 4096;
  // Prompt tokens evaluated together in one T-token step (-ub, llama.cpp's micro-batch);
  // longer prompts run in chunks of this many.
  int64_t n_ubatch = 512;
  double task_timeout_s = 1.0;  // cuda::ModelOptions::task_timeout_s
  // How the KV cache holds K and V: on the CPU's graph engines, or on the GPU with K and V
  // of one type.
  runtime::CacheTypes cache;
  cpu::Activations activations = cpu::Activations::kF32;  // CPU direct engine only
  // auto (the GPU's default engine when the device allows one, else int8), a GPU engine
  // (megakernel, graph) or a CPU engine (int8, graph, direct): --engine's help.
  std::string engine = "auto";
  cpu::Qwen2Model::LogitsFn each;  // sees the logits of every evaluated position
  // Time every brick of each step (Decoder::last_brick_us): the GPU stamps %globaltimer in
  // its kernels, the CPU runs a graph engine (int8, or graph for the f32 reference).
  bool profile = false;
  // Check every brick of every step against the CPU reference brick (runtime/verify.h);
  // a failure stops the step with an error.
  bool verify = false;
  // A decoder that can run its bricks one at a time, for a Verifier attached later (the
  // CPU runs a graph engine); implied by verify.
  bool brick_steps = false;
  // A brick (ir::Graph::find_brick's spec) made a wrong kernel, to show that --verify
  // catches it.
  std::optional<std::string> plant_fault;
  // Sequences decoded together (serve --parallel): above 1 the model is a batch model (the
  // CPU's or the GPU's) and Backend::decoder is null.
  int parallel = 1;
};

struct Backend {
  std::string device;  // "cpu" or "cuda"
  std::string label;   // for summaries: "cpu (16 threads)", "cuda:0 NVIDIA H200 (megakernel)"
  // How K and V are held: on the GPU and in the CPU's int8 engine the cache types asked
  // for; in the CPU's f32 ones f32, or q8_0 where asked.
  DType kv_k = DType::F32, kv_v = DType::F32;
  std::unique_ptr<runtime::Decoder> decoder;
  std::unique_ptr<cpu::Qwen2Model> cpu_model;  // owned here when the decoder wraps one
  std::unique_ptr<runtime::Verifier> verifier;  // with verify: checks the decoder's steps
  std::unique_ptr<runtime::BatchDecoder> batch;  // with parallel > 1, instead of the decoder
};

// Errors: --device cuda where CUDA is unusable says why; auto falls back to the CPU.
Backend open_backend(const gguf::File& file, const BackendOptions& o);

}  // namespace brickc::tools
