// The T-token (prefill) kernels against the CPU reference bricks on the same inputs
// (runtime/brick_check): real model shapes and every weight format, T = 2, 7, 64, 512 and
// n = 37 tokens in a 64-token graph; two steps so that the second one's attention reads the
// first one's cache positions as well as its own (causal). Results are poisoned before
// each step, so an unwritten row fails as NaN. Then whole models: prompts prefilled in
// T-token steps against the same prompts token by token on the GPU and on the CPU
// reference (mean KL, top-1 agreement over every prompt position).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "ir/error.h"
#include "runtime/brick_check.h"
#include "runtime/cpu/executor.h"
#include "runtime/cpu/forward.h"
#include "runtime/cuda/executor.h"
#include "runtime/cuda/model.h"
#include "runtime/decode_graph.h"
#include "test/gpu/gpu_test_util.h"
#include "test/unit/tiny_qwen2.h"

namespace brickc {
namespace {

using synth::QuantMix;

constexpr int64_t kCtx = 1536;

// Two steps of n random tokens (positions 0 .. n-1, then n .. 2n-1) through a T-token graph
// on both executors, brick by brick; every brick result within its tolerance. The cache,
// of the types `cache` asks for, is the decode graph's, as in cuda::Model.
void check_tokens(const gguf::File& file, int64_t t, int64_t n, runtime::CacheTypes cache = {}) {
  const runtime::StepShape shape{t, false};
  ir::Graph g = runtime::decode_graph(file, kCtx, std::nullopt, "h200", shape, cache);
  ir::Graph decode = runtime::decode_graph(file, kCtx, std::nullopt, "h200", {}, cache);
  cuda::Executor owner(testing::gpu_context(), file, decode, {.use_graph = false});
  cuda::ExecutorOptions eo;
  eo.use_graph = false;
  eo.share = &owner;
  cuda::Executor gpu(testing::gpu_context(), file, g, eo);
  cpu::GraphExecutor cpu(file, g, static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  const auto n_vocab = static_cast<uint32_t>(file.tensor("token_embd.weight").ne[1]);
  std::mt19937 rng(std::random_device{}());
  testing::BrickCheckLog log(
      fmt::format("{}, T = {}, n = {}{}", file.path(), t, n, testing::cache_label(cache)));
  for (int64_t pos : {int64_t{0}, n}) {
    std::vector<int32_t> tokens(static_cast<size_t>(n));
    for (auto& x : tokens) x = static_cast<int32_t>(rng() % n_vocab);
    gpu.poison();
    cpu.poison();
    log.add(runtime::check_step(gpu, cpu, tokens, pos));
  }
  log.print();
}

TEST(GpuTokenSteps, Qwen05Q4KM) {
  BRICKC_REQUIRE_GPU();
  const gguf::File& f = testing::synth_model("qwen2.5-coder-0.5b", QuantMix::Q4_K_M, 1);
  for (int64_t t : {2, 7, 64, 512}) check_tokens(f, t, t);
  check_tokens(f, 64, 37);
}

TEST(GpuTokenSteps, Qwen7BQ4KM) {
  BRICKC_REQUIRE_GPU();
  const gguf::File& f = testing::synth_model("qwen2.5-coder-7b", QuantMix::Q4_K_M, 1);
  check_tokens(f, 512, 512);
  check_tokens(f, 128, 77);
}

TEST(GpuTokenSteps, Qwen15Q8_0AndF16) {
  BRICKC_REQUIRE_GPU();
  check_tokens(testing::synth_model("qwen2.5-coder-1.5b", QuantMix::Q8_0, 1), 64, 64);
  check_tokens(testing::synth_model("qwen2.5-coder-0.5b", QuantMix::F16, 1), 64, 50);
  check_tokens(testing::synth_model("qwen2.5-coder-0.5b", QuantMix::Q4_0, 1), 64, 64);
}

// A q8_0 KV cache: the step's rows rounded to its blocks and read back by the causal
// attention, the second step's over the first's too; the 0.5B's positions are padded (128
// values in 144 bytes), the 7B's are not (512 in 544).
TEST(GpuTokenSteps, Q8_0Cache) {
  BRICKC_REQUIRE_GPU();
  const gguf::File& f = testing::synth_model("qwen2.5-coder-0.5b", QuantMix::Q4_K_M, 1);
  for (int64_t t : {2, 64, 512}) check_tokens(f, t, t, testing::kQ8_0Cache);
  check_tokens(f, 64, 37, testing::kQ8_0Cache);
  check_tokens(testing::synth_model("qwen2.5-coder-7b", QuantMix::Q4_K_M, 1), 128, 77,
               testing::kQ8_0Cache);
}

// The formats no quant mix uses (q4_1, q5_1, q5_K, q6_K tables) at 1.5B shapes.
TEST(GpuTokenSteps, OtherFormats) {
  BRICKC_REQUIRE_GPU();
  check_tokens(*testing::other_formats_model("token_formats.gguf", 1, kCtx), 64, 64);
}


using testing::Logits;

Logits gpu_logits(const gguf::File& f, const std::vector<int32_t>& prompt, int64_t ubatch) {
  Logits out;
  cuda::ModelOptions o;
  o.n_ctx = kCtx;
  o.n_ubatch = ubatch;
  o.each = [&](int64_t, std::span<const float> l) { out.emplace_back(l.begin(), l.end()); };
  auto m = cuda::open_model(f, o);
  m->prefill(prompt);
  return out;
}

// Whole models: every prompt position's logits from T-token prefill (chunks of 256, the
// last one partial) against token-by-token decode on the GPU and the f32 CPU reference.
TEST(GpuTokenSteps, WholeModelsMatchTokenByToken) {
  BRICKC_REQUIRE_GPU();
  std::mt19937 rng(std::random_device{}());
  for (auto [preset, layers] : {std::pair{"qwen2.5-coder-0.5b", 4u}, {"qwen2.5-coder-1.5b", 2u}}) {
    const gguf::File& f = testing::synth_model(preset, QuantMix::Q4_K_M, layers);
    const auto n_vocab = static_cast<uint32_t>(f.tensor("token_embd.weight").ne[1]);
    std::vector<int32_t> prompt(600);
    for (auto& x : prompt) x = static_cast<int32_t>(rng() % n_vocab);
    const Logits batched = gpu_logits(f, prompt, 256), single = gpu_logits(f, prompt, 1);
    Logits ref;
    cpu::Qwen2Model cpu(f, {static_cast<int>(std::max(1u, std::thread::hardware_concurrency())), kCtx});
    cpu.prefill(prompt, [&](int64_t, std::span<const float> l) { ref.emplace_back(l.begin(), l.end()); });
    ASSERT_EQ(batched.size(), prompt.size());
    for (const auto& [name, other] : {std::pair{"GPU token by token", &single}, {"CPU f32", &ref}}) {
      const testing::Agreement a = testing::agreement(*other, batched);
      std::printf("  %s: T-token prefill vs %s: mean KL %.3g, top-1 %.2f%% (%.2f%% more at a near "
                  "tie)\n", preset, name, a.mean_kl, 100 * a.top1, 100 * a.near_ties);
      EXPECT_LT(a.mean_kl, 1e-3) << preset << " vs " << name;
      EXPECT_GE(a.top1_or_tie(), 0.99) << preset << " vs " << name;
    }
  }
}

// Every prompt length from 1 to the whole context, in chunks of 64: the last position's
// logits agree with token-by-token decoding, and one token more than the context is an
// error naming both lengths.
TEST(GpuTokenSteps, EveryPromptLengthUpToTheContext) {
  BRICKC_REQUIRE_GPU();
  const gguf::File& f = testing::synth_model("qwen2.5-coder-0.5b", QuantMix::Q4_K_M, 1);
  constexpr int64_t kSmallCtx = 256;
  std::mt19937 rng(std::random_device{}());
  const auto n_vocab = static_cast<uint32_t>(f.tensor("token_embd.weight").ne[1]);
  std::vector<int32_t> prompt(kSmallCtx + 1);
  for (auto& x : prompt) x = static_cast<int32_t>(rng() % n_vocab);
  Logits single;
  cuda::ModelOptions o;
  o.n_ctx = kSmallCtx;
  o.n_ubatch = 1;
  o.each = [&](int64_t, std::span<const float> l) { single.emplace_back(l.begin(), l.end()); };
  cuda::open_model(f, o)->prefill(std::span(prompt).first(kSmallCtx));
  o.n_ubatch = 64;
  o.each = {};
  auto m = cuda::open_model(f, o);
  Logits last;  // the last position's logits of each length
  for (int64_t len = 1; len <= kSmallCtx; ++len) {
    m->reset();
    m->prefill(std::span(prompt).first(static_cast<size_t>(len)));
    const auto l = m->logits();
    ASSERT_TRUE(std::all_of(l.begin(), l.end(), [](float x) { return std::isfinite(x); })) << len;
    EXPECT_EQ(m->argmax(), testing::first_max(l)) << "the device argmax at length " << len;
    last.emplace_back(l.begin(), l.end());
  }
  const testing::Agreement a = testing::agreement(single, last);
  std::printf("  lengths 1..%lld: mean KL %.3g, top-1 %.2f%% (%.2f%% more at a near tie)\n",
              static_cast<long long>(kSmallCtx), a.mean_kl, 100 * a.top1, 100 * a.near_ties);
  EXPECT_LT(a.mean_kl, 1e-3);
  EXPECT_GE(a.top1_or_tie(), 0.99);
  m->reset();
  try {
    m->prefill(prompt);
    ADD_FAILURE() << "a prompt longer than the context was accepted";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("257 tokens"), std::string::npos) << msg;
    EXPECT_NE(msg.find("256"), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace brickc
