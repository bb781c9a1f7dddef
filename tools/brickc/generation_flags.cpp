#include "tools/brickc/generation_flags.h"

#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "ir/error.h"
#include "runtime/cpu/cores.h"

namespace brickc::tools {

void add_device_flags(CLI::App* cmd, std::string& device, int& threads, std::string& engine,
                      const std::string& threads_help) {
  cmd->add_option("--device", device, "cpu, cuda or auto (auto: the GPU when one works, else the CPU)")
      ->check(CLI::IsMember({"cpu", "cuda", "auto"}))
      ->capture_default_str();
  cmd->add_option("-t,--threads", threads, threads_help)
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--engine", engine,
                  "auto (the GPU's default when --device allows one, else int8); on the GPU: "
                  "megakernel (a decode step is one persistent kernel) or graph (a CUDA graph "
                  "of per-brick kernels); on the CPU: int8 (the optimized Brick IR with int8 "
                  "SIMD matmuls, llama.cpp's CPU numerics), graph (the same IR in f32: the "
                  "reference) or direct (Qwen2Model in f32, no IR)")
      ->check(CLI::IsMember({"auto", "megakernel", "graph", "int8", "direct"}))
      ->capture_default_str();
}

void add_cache_flags(CLI::App* cmd, runtime::CacheTypes& c) {
  // IsMember checks the name before the callback maps it.
  auto flag = [&](const char* name, DType& t, const std::string& help) {
    cmd->add_option_function<std::string>(
           name, [&t](const std::string& s) { t = s == "q8_0" ? DType::Q8_0 : DType::F16; }, help)
        ->check(CLI::IsMember({"f16", "q8_0"}))
        ->default_str("f16");
  };
  flag("--cache-type-k", c.k,
       "How the KV cache holds K: f16, or q8_0 (8-bit blocks of 32: half the bytes a long "
       "context's attention reads; on the GPU, with V of the same type)");
  flag("--cache-type-v", c.v, "How the KV cache holds V: f16 or q8_0, as --cache-type-k");
}

void add_generation_flags(CLI::App* cmd, GenerationFlags& f, const std::string& n_help) {
  f.threads = cpu::physical_cores();
  cmd->add_option("-m,--model", f.model, "GGUF model file")->required();
  f.n = cmd->add_option("-n,--n-predict", f.n_predict, n_help)
            ->check(CLI::Range(int64_t{-1}, int64_t{1} << 40));
  cmd->add_option("-c,--ctx-size", f.n_ctx,
                  "Context length (default: 4096 or the model's context_length if smaller)")
      ->check(CLI::PositiveNumber);
  add_device_flags(cmd, f.device, f.threads, f.engine);
  add_cache_flags(cmd, f.cache);
  cmd->add_option("--ubatch-size", f.n_ubatch,
                  "Prompt tokens evaluated together in one step (llama.cpp's -ub); 1: token by "
                  "token")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20))
      ->capture_default_str();
  cmd->add_option("--task-timeout", f.task_timeout_s,
                  "Seconds a task of --engine megakernel may wait for its inputs before the "
                  "step fails naming it (a hang); tools that slow kernels a hundredfold, such "
                  "as compute-sanitizer's racecheck, need more")
      ->check(CLI::Range(1e-3, 3600.0))
      ->capture_default_str();

  auto& s = f.sampler;
  const std::string g = "Sampling (llama.cpp's names and defaults)";
  f.temp = cmd->add_option("--temp", s.temp, "Temperature; <= 0: greedy")
               ->capture_default_str()
               ->group(g);
  cmd->add_option("--top-k", s.top_k, "Top-k sampling; <= 0: off")->capture_default_str()->group(g);
  cmd->add_option("--top-p", s.top_p, "Top-p sampling; 1: off")->capture_default_str()->group(g);
  cmd->add_option("--min-p", s.min_p, "Min-p sampling; 0: off")->capture_default_str()->group(g);
  cmd->add_option("--repeat-penalty", s.penalty_repeat, "Penalty for repeated tokens; 1: off")
      ->capture_default_str()
      ->group(g);
  cmd->add_option("--repeat-last-n", s.penalty_last_n,
                  "Tokens the penalties look back on; 0: off, -1: all")
      ->capture_default_str()
      ->group(g);
  cmd->add_option("--frequency-penalty", s.penalty_freq, "Frequency penalty; 0: off")
      ->capture_default_str()
      ->group(g);
  cmd->add_option("--presence-penalty", s.penalty_present, "Presence penalty; 0: off")
      ->capture_default_str()
      ->group(g);
  cmd->add_option("--seed", f.seed, "Random seed; -1: a random one (printed in the summary)")
      ->check(CLI::Range(int64_t{-1}, int64_t{0xFFFFFFFF}))
      ->capture_default_str()
      ->group(g);
}

int64_t context_length(const GenerationFlags& f, const qwen2::Config& cfg) {
  if (f.n_ctx > static_cast<int64_t>(cfg.n_ctx_train))
    fail("-c {} exceeds the model's context_length {}", f.n_ctx, cfg.n_ctx_train);
  return f.n_ctx > 0 ? f.n_ctx : std::min<int64_t>(4096, cfg.n_ctx_train);
}

sampling::SamplerParams sampler_params(const GenerationFlags& f) {
  sampling::SamplerParams p = f.sampler;
  // llama.cpp stores the seed as uint32: -1 is LLAMA_DEFAULT_SEED, a random seed.
  p.seed = f.seed < 0 ? sampling::kRandomSeed : static_cast<uint32_t>(f.seed);
  p.validate();
  return p;
}

namespace {
struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
}  // namespace

std::string read_prompt_file(const std::string& path, std::string_view what) {
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
  if (!f) fail("cannot open {} '{}': {}", what, path, std::strerror(errno));
  std::string data;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0) data.append(buf, n);
  // A directory opens but cannot be read (EISDIR): an error, not an empty prompt.
  if (std::ferror(f.get())) fail("cannot read {} '{}': {}", what, path, std::strerror(errno));
  return data;
}

std::string speed_summary(const runtime::GenerateStats& s, const std::string& device) {
  const std::string decode =
      s.n_decoded > 0 ? fmt::format("{:.2f} tok/s", s.n_decoded / s.t_decode) : "n/a";
  return fmt::format(
      "prompt {} tokens, generated {} tokens, prefill {:.2f} tok/s, decode {}, device {}, first "
      "token {:.1f} ms, stop: {}",
      s.n_prompt, s.n_generated, s.n_prompt / std::max(s.t_prefill, 1e-9), decode, device,
      s.t_first_token * 1e3, runtime::describe(s.stop));
}

}  // namespace brickc::tools
