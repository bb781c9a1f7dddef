#include "tools/brickc/backend.h"

#include <fmt/core.h>

#include <algorithm>

#include "ir/error.h"
#include "runtime/cpu/batch_model.h"
#include "runtime/cpu/executor.h"
#include "runtime/cpu/qwen2_decoder.h"
#include "runtime/cuda/batch_model.h"
#include "runtime/cuda/driver.h"
#include "runtime/cuda/model.h"

namespace brickc::tools {
namespace {

// Rows per step of a batch model: a decode token for each sequence and prompt chunks beside
// them; every row's logits are kept (64 rows of a 152k vocabulary: 39 MB).
int64_t batch_rows(int parallel) { return std::max<int64_t>(64, parallel); }

Backend open_cpu(const gguf::File& file, const BackendOptions& o) {
  Backend b;
  b.device = "cpu";
  const bool llama_cpu = o.activations != cpu::Activations::kF32;
  const bool bricks = o.profile || o.verify || o.brick_steps || o.plant_fault;
  if (o.engine == "megakernel") fail("--engine megakernel runs on the GPU (--device cuda)");
  if (llama_cpu && (o.engine != "direct" && o.engine != "auto"))
    fail("--activations llama-cpu is an option of --engine direct, not of --engine {}", o.engine);
  if (llama_cpu && bricks)
    fail("--activations llama-cpu runs --engine direct, which has no bricks to time or verify");
  if (o.parallel > 1 && (o.engine == "direct" || llama_cpu))
    fail("--parallel {} runs the int8 or the graph engine; --engine direct takes one sequence",
         o.parallel);
  const bool graph_engine = !(o.engine == "direct" || llama_cpu) || bricks;
  if (!graph_engine && o.cache != runtime::CacheTypes{})
    fail("--cache-type-k/v q8_0 runs the int8 or the graph engine; --engine direct and "
         "--activations llama-cpu keep an f32 cache");
  if (!graph_engine) {
    b.label = fmt::format("cpu ({} threads, direct f32)", o.threads);
    b.cpu_model = std::make_unique<cpu::Qwen2Model>(
        file, cpu::ForwardOptions{o.threads, o.n_ctx, o.activations});
    b.decoder = std::make_unique<cpu::Qwen2Decoder>(*b.cpu_model, o.each);
    return b;
  }
  // direct has no bricks: timing or verifying them runs its graph twin, the f32 graph.
  const bool int8 = o.engine == "int8" || o.engine == "auto";
  cpu::GraphModelOptions g;
  g.n_threads = o.threads;
  g.n_ctx = o.n_ctx;
  g.n_ubatch = o.n_ubatch;
  g.plant_fault = o.plant_fault;
  g.kernels = int8 ? cpu::Kernels::kInt8 : cpu::Kernels::kReference;
  g.cache = o.cache;
  const std::string kernels =
      int8 ? fmt::format("int8 {}", cpu::simd::name(cpu::simd::best_isa())) : "graph f32";
  const std::string batch = o.parallel > 1 ? fmt::format(", {} sequences", o.parallel) : "";
  b.label = fmt::format("cpu ({} threads, {}{})", o.threads, kernels, batch);
  b.kv_k = cpu::held_cache_type(g.kernels, o.cache.k);
  b.kv_v = cpu::held_cache_type(g.kernels, o.cache.v);
  if (o.parallel > 1) {
    if (bricks) fail("--parallel {} has no per-brick timing or verification", o.parallel);
    b.batch = std::make_unique<cpu::BatchModel>(file, g, o.parallel, batch_rows(o.parallel));
    return b;
  }
  b.decoder = std::make_unique<cpu::GraphModel>(file, g, o.each);
  return b;
}

Backend open_cuda(const gguf::File& file, const BackendOptions& o) {
  if (o.engine == "int8" || o.engine == "direct" || o.activations != cpu::Activations::kF32)
    fail("--engine {} and --activations choose CPU engines; they do not apply to --device cuda",
         o.engine);
  cuda::ModelOptions m;
  // auto takes the per-brick graph: it decodes faster than the megakernel on the H200
  // (bench/results/gpu-h200/megakernel.md).
  m.megakernel = o.engine == "megakernel";
  m.n_ctx = o.n_ctx;
  m.n_ubatch = o.n_ubatch;
  m.cache = o.cache;
  m.task_timeout_s = o.task_timeout_s;
  m.each = o.each;
  m.trace = o.profile;
  m.plant_fault = o.plant_fault;
  Backend b;
  b.device = "cuda";
  b.kv_k = o.cache.k;
  b.kv_v = o.cache.v;
  if (o.parallel > 1) {
    if (o.engine == "megakernel" || o.profile || o.verify || o.brick_steps || o.plant_fault)
      fail("--parallel {} runs the GPU's batch graph: no megakernel, per-brick timing or "
           "verification", o.parallel);
    auto batch = std::make_unique<cuda::BatchModel>(file, m, o.parallel, batch_rows(o.parallel));
    b.label = batch->device_label();
    b.batch = std::move(batch);
    return b;
  }
  auto model = cuda::open_model(file, m);
  b.label = model->device_label();
  b.decoder = std::move(model);
  return b;
}

Backend open_device(const gguf::File& file, const BackendOptions& o) {
  if (o.parallel < 1) fail("--parallel {}: at least one sequence", o.parallel);
  if (o.device == "cpu") return open_cpu(file, o);
  if (o.device != "cuda" && o.device != "auto")
    fail("unknown --device '{}': expected cpu, cuda or auto", o.device);
  const auto& p = cuda::probe();
  // auto: the GPU when one works, unless a CPU-only engine was asked for, or K and V of
  // different types, which only the CPU holds.
  const bool gpu_engine = o.engine == "auto" || o.engine == "megakernel" || o.engine == "graph";
  const bool gpu = o.device == "cuda" ||
                   (p.usable() && gpu_engine && o.activations == cpu::Activations::kF32 &&
                    o.cache.k == o.cache.v);
  if (!gpu) return open_cpu(file, o);
  if (!p.usable()) fail("CUDA unavailable: {}", p.why_unusable());
  return open_cuda(file, o);
}

}  // namespace

Backend open_backend(const gguf::File& file, const BackendOptions& o) {
  Backend b = open_device(file, o);
  if (o.verify) {
    b.verifier = std::make_unique<runtime::Verifier>(file, o.threads);
    b.verifier->attach(*b.decoder);
  }
  return b;
}

}  // namespace brickc::tools
