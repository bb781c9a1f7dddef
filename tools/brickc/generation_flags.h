// What `brickc run` and `brickc chat` share: the model, device, context and sampling flags
// (llama.cpp's names and defaults), the checks on them, and the one-line speed summary.
#pragma once
#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "frontend/qwen2/config.h"
#include "runtime/decode_graph.h"
#include "runtime/sampling/sampler.h"
#include "runtime/session.h"

namespace brickc::tools {

// --cache-type-k and --cache-type-v (llama.cpp's names): how the KV cache holds K and V.
void add_cache_flags(CLI::App* cmd, runtime::CacheTypes& c);

struct GenerationFlags {
  std::string model;
  std::string device = "auto";
  int threads = 1;
  std::string engine = "auto";
  int64_t n_ctx = 0;  // 0: min(4096, the model's context_length)
  int64_t n_ubatch = 512;  // prompt tokens per T-token step
  double task_timeout_s = 1.0;  // --engine megakernel: longest wait of a task for its inputs
  runtime::CacheTypes cache;
  int64_t n_predict = -1;
  sampling::SamplerParams sampler;
  int64_t seed = -1;
  CLI::Option* temp = nullptr;  // to tell a given --temp from the default
  CLI::Option* n = nullptr;
};

// --device (cpu, cuda, auto), -t and --engine, as every command that opens a backend has them.
void add_device_flags(CLI::App* cmd, std::string& device, int& threads, std::string& engine,
                      const std::string& threads_help =
                          "CPU threads (default: the physical cores this process may use)");

// Adds -m, --device, -t, -c, --ubatch-size, --task-timeout, the cache types, -n (described
// by n_help) and the sampling flags.
void add_generation_flags(CLI::App* cmd, GenerationFlags& f, const std::string& n_help);

// -c checked against the model, or its default.
int64_t context_length(const GenerationFlags& f, const qwen2::Config& cfg);
// The sampler's parameters, the seed resolved (-1: random) and checked.
sampling::SamplerParams sampler_params(const GenerationFlags& f);

// The whole file; an error naming it (as `what`) when it cannot be read.
std::string read_prompt_file(const std::string& path, std::string_view what = "prompt file");

// "prompt N tokens, generated M tokens, prefill X tok/s, decode Y tok/s, device D, first
// token Z ms, stop: R"; D is the backend's label.
std::string speed_summary(const runtime::GenerateStats& s, const std::string& device);

}  // namespace brickc::tools
