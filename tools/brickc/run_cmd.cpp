// `brickc run`: greedy generation from a prompt of token ids. Prints the generated ids on
// stdout and a one-line speed summary on stderr; --dump-logits keeps every position's logits.
#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "frontend/gguf/reader.h"
#include "frontend/qwen2/config.h"
#include "ir/error.h"
#include "runtime/cpu/bricks.h"
#include "runtime/cpu/forward.h"
#include "runtime/cuda/driver.h"
#include "runtime/npy.h"
#include "tools/brickc/commands.h"

namespace brickc::tools {
namespace {

struct RunOptions {
  std::string model;
  std::string prompt_tokens;
  int n_predict = 32;
  std::string device = "auto";
  int threads = std::max(1u, std::thread::hardware_concurrency());
  int64_t n_ctx = 0;  // 0: min(4096, the model's context_length)
  std::string dump_logits;
  std::string activations = "f32";
};

std::vector<int32_t> parse_token_ids(const std::string& s) {
  std::vector<int32_t> ids;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t end = s.find(',', pos);
    if (end == std::string::npos) end = s.size();
    std::string_view item(s.data() + pos, end - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    int32_t id = 0;
    const auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), id);
    if (item.empty() || ec != std::errc() || p != item.data() + item.size() || id < 0)
      fail("--prompt-tokens: '{}' is not a token id (expected comma-separated integers >= 0)",
           item);
    ids.push_back(id);
    pos = end + 1;
  }
  return ids;
}

// The CUDA backend does not exist yet: cuda is an error that says why, auto means cpu.
std::string pick_device(const std::string& requested) {
  if (requested != "cuda") return "cpu";
  const auto& p = cuda::probe();
  if (!p.usable()) fail("CUDA unavailable: {}", p.why_unusable());
  fail("the CUDA backend is not built yet; use --device cpu");
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void run(const RunOptions& o) {
  const std::string device = pick_device(o.device);
  const std::vector<int32_t> prompt = parse_token_ids(o.prompt_tokens);
  const auto file = gguf::File::open(o.model);
  const qwen2::Config cfg = qwen2::read_config(*file);
  if (o.n_ctx > static_cast<int64_t>(cfg.n_ctx_train))
    fail("-c {} exceeds the model's context_length {}", o.n_ctx, cfg.n_ctx_train);
  const int64_t n_ctx = o.n_ctx > 0 ? o.n_ctx : std::min<int64_t>(4096, cfg.n_ctx_train);
  const int64_t needed = static_cast<int64_t>(prompt.size()) + o.n_predict;
  if (needed > n_ctx)
    fail(
        "prompt ({} tokens) + generation ({} tokens) = {} tokens exceed the context length {} "
        "(-c)",
        prompt.size(), o.n_predict, needed, n_ctx);
  for (size_t i = 0; i < prompt.size(); ++i)
    if (static_cast<uint32_t>(prompt[i]) >= cfg.n_vocab)
      fail("--prompt-tokens: token id {} (at index {}) is out of range: {} has {} tokens",
           prompt[i], i, o.model, cfg.n_vocab);

  const auto activations =
      o.activations == "llama-cpu" ? cpu::Activations::kLlamaCpu : cpu::Activations::kF32;
  cpu::Qwen2Model model(*file, {o.threads, n_ctx, activations});
  // One row per evaluated position: every prompt position, then each generated token
  // that was fed back, i.e. n_prompt + n_generated - 1 rows.
  std::optional<NpyWriter> dump;
  if (!o.dump_logits.empty()) dump.emplace(o.dump_logits, cfg.n_vocab);
  cpu::Qwen2Model::LogitsFn each;
  if (dump) each = [&](int64_t, std::span<const float> l) { dump->append(l); };

  auto t0 = std::chrono::steady_clock::now();
  std::span<const float> logits = model.prefill(prompt, each);
  const double t_prefill = seconds_since(t0);

  std::vector<int32_t> generated;
  t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < o.n_predict; ++i) {
    generated.push_back(cpu::argmax(logits.data(), static_cast<int64_t>(logits.size())));
    if (i + 1 == o.n_predict) break;
    logits = model.decode(generated.back());
    if (dump) dump->append(logits);
  }
  const double t_decode = seconds_since(t0);
  if (dump) dump->close();

  std::string line;
  for (size_t i = 0; i < generated.size(); ++i)
    line += (i ? " " : "") + std::to_string(generated[i]);
  fmt::print("{}\n", line);
  const int64_t n_decoded = std::max(o.n_predict - 1, 0);
  const std::string decode_rate =
      n_decoded > 0 ? fmt::format("{:.2f} tok/s", n_decoded / t_decode) : "n/a";
  fmt::print(stderr,
             "brickc run: prompt {} tokens, generated {} tokens, prefill {:.2f} tok/s, "
             "decode {}, device {} ({} threads)\n",
             prompt.size(), generated.size(), prompt.size() / t_prefill, decode_rate, device,
             o.threads);
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("run", "Generate tokens greedily from a prompt of token ids");
  auto o = std::make_shared<RunOptions>();
  cmd->add_option("-m,--model", o->model, "GGUF model file")->required();
  cmd->add_option("--prompt-tokens", o->prompt_tokens, "Prompt as comma-separated token ids")
      ->required();
  cmd->add_option("-n,--n-predict", o->n_predict, "Tokens to generate")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--device", o->device,
                  "cpu, cuda or auto (auto: cpu until the CUDA backend exists)")
      ->check(CLI::IsMember({"cpu", "cuda", "auto"}))
      ->capture_default_str();
  cmd->add_option("-t,--threads", o->threads, "CPU threads")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("-c,--ctx-size", o->n_ctx,
                  "Context length (default: 4096 or the model's context_length if smaller)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--dump-logits", o->dump_logits,
                  "Write the logits of every evaluated position (float32 .npy, "
                  "[n_prompt + n_generated - 1, n_vocab])");
  cmd->add_option("--activations", o->activations,
                  "f32 (the reference), or llama-cpu: round each matmul's input as llama.cpp's "
                  "CPU backend does (Q8_0/Q8_K/F16), to compare with it")
      ->check(CLI::IsMember({"f32", "llama-cpu"}))
      ->capture_default_str();
  cmd->callback([o] { run(*o); });
}

}  // namespace brickc::tools
