// Every GPU kernel against the CPU reference brick on the same inputs (runtime/brick_check):
// real model shapes (0.5B to 7B, one or two layers), every weight format, f16 and q8_0 KV
// caches, the default pipeline and unfused ones, several positions so that attention reads
// a growing cache.
// Brick results are poisoned before each step, so an unwritten output fails as NaN.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "runtime/brick_check.h"
#include "runtime/cpu/executor.h"
#include "runtime/cuda/executor.h"
#include "runtime/decode_graph.h"
#include "test/gpu/gpu_test_util.h"
#include "test/unit/tiny_qwen2.h"

namespace brickc {
namespace {

using synth::QuantMix;

constexpr int64_t kCtx = 64;
constexpr int kPositions = 6;

// Runs kPositions steps of random tokens through both executors, brick by brick, and
// expects every brick result within its tolerance. Prints the worst error per brick kind.
void check_model(const gguf::File& file, const std::optional<std::string>& passes,
                 runtime::CacheTypes cache = {}) {
  ir::Graph g = runtime::decode_graph(file, kCtx, passes, "h100-sxm", {}, cache);
  cuda::Executor gpu(testing::gpu_context(), file, g, {.use_graph = false});
  cpu::GraphExecutor cpu(file, g, static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  const int64_t n_vocab = file.tensor("token_embd.weight").ne[1];
  std::mt19937 rng(std::random_device{}());
  testing::BrickCheckLog log(file.path() + (passes ? ", passes " + *passes : "") +
                             testing::cache_label(cache));
  for (int64_t pos = 0; pos < kPositions; ++pos) {
    gpu.poison();
    cpu.poison();
    const auto tok = static_cast<int32_t>(rng() % static_cast<uint32_t>(n_vocab));
    log.add(runtime::check_step(gpu, cpu, tok, pos));
  }
  log.print();
}

TEST(GpuBricks, Qwen05Q4_0) {
  BRICKC_REQUIRE_GPU();
  check_model(testing::synth_model("qwen2.5-coder-0.5b", QuantMix::Q4_0, 1), std::nullopt);
}

TEST(GpuBricks, Qwen05Q4KM) {
  BRICKC_REQUIRE_GPU();
  check_model(testing::synth_model("qwen2.5-coder-0.5b", QuantMix::Q4_K_M, 2), std::nullopt);
}

TEST(GpuBricks, Qwen15Q4KM) {
  BRICKC_REQUIRE_GPU();
  check_model(testing::synth_model("qwen2.5-coder-1.5b", QuantMix::Q4_K_M, 2), std::nullopt);
}

TEST(GpuBricks, Qwen15Q8_0) {
  BRICKC_REQUIRE_GPU();
  check_model(testing::synth_model("qwen2.5-coder-1.5b", QuantMix::Q8_0, 1), std::nullopt);
}

TEST(GpuBricks, Qwen3BQ4KM) {
  BRICKC_REQUIRE_GPU();
  check_model(testing::synth_model("qwen2.5-coder-3b", QuantMix::Q4_K_M, 1), std::nullopt);
}

TEST(GpuBricks, Qwen7BQ4KM) {
  BRICKC_REQUIRE_GPU();
  check_model(testing::synth_model("qwen2.5-coder-7b", QuantMix::Q4_K_M, 1), std::nullopt);
}

// A q8_0 KV cache: rope_kv_append rounds K and V to its blocks, attention reads them back;
// 2 KV heads of 6 query heads each (1.5B) and 4 of 7 (7B). The 0.5B's positions (128
// values, 136 bytes) are the ones padded: AttentionOverALongQ8_0Cache.
TEST(GpuBricks, Qwen15Q4KMQ8_0Cache) {
  BRICKC_REQUIRE_GPU();
  check_model(testing::synth_model("qwen2.5-coder-1.5b", QuantMix::Q4_K_M, 1), std::nullopt,
              testing::kQ8_0Cache);
}

TEST(GpuBricks, Qwen7BQ4KMQ8_0Cache) {
  BRICKC_REQUIRE_GPU();
  check_model(testing::synth_model("qwen2.5-coder-7b", QuantMix::Q4_K_M, 1), std::nullopt,
              testing::kQ8_0Cache);
}

TEST(GpuBricks, Qwen05F16) {
  BRICKC_REQUIRE_GPU();
  check_model(testing::synth_model("qwen2.5-coder-0.5b", QuantMix::F16, 1), std::nullopt);
}

// The formats no quant mix uses (q4_1, q5_1, q5_K) at 1.5B shapes.
TEST(GpuBricks, OtherFormats) {
  BRICKC_REQUIRE_GPU();
  check_model(*testing::other_formats_model("formats.gguf", 1, 256), std::nullopt);
}

// Decode attention over a long cache: random K/V rows written into the GPU's cache (the
// reference gets the same rows), then single steps at lengths that take one KV split, two,
// many, and the most the grid has with more than one tile each (kernels/attention.cuh: a
// split per tile of 64 positions up to 128 splits on the H200's 132 SMs, then splits of
// whole tiles: at 12,346 positions 97 splits of 128, or 49 of 256 on the 7B's 64), on both
// sides of the length where blocks stop taking one query head each and the tensor-core
// path takes over (1,152 positions on the 0.5B's 7 heads per KV head and 128 splits; 576
// on the 7B's 7 and 64, 1,024 on the 3B's 8 and 128), with one group of splits merged and
// several (more than 8 splits), the last group whole (1,024 on the 7B) and not (1,152 on
// the 0.5B). Each path and merge stores the output as q8_1 (the o-proj reads it with int8
// dots).
void check_long_cache(const char* preset, runtime::CacheTypes cache) {
  constexpr int64_t kLongCtx = 16384;
  const gguf::File& file = testing::synth_model(preset, QuantMix::Q4_K_M, 1);
  ir::Graph g = runtime::decode_graph(file, kLongCtx, std::nullopt, "h100-sxm", {}, cache);
  cuda::Executor gpu(testing::gpu_context(), file, g, {.use_graph = false});
  cpu::GraphExecutor cpu(file, g, static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  std::mt19937 rng(std::random_device{}());
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (size_t v = 0; v < g.value_count(); ++v) {
    const ir::ValueId id{static_cast<uint32_t>(v)};
    if (g.value(id).kind != ir::ValueKind::State || g.type(id).shape.dims.size() != 3) continue;
    std::vector<float> rows(static_cast<size_t>(g.type(id).shape.elements()));
    for (float& x : rows) x = normal(rng);
    gpu.write(id, 0, rows);
  }
  const int64_t n_vocab = file.tensor("token_embd.weight").ne[1];
  testing::BrickCheckLog log(file.path() + ", long cache" + testing::cache_label(cache));
  for (const int64_t pos : {int64_t{63}, int64_t{64}, int64_t{200}, int64_t{575}, int64_t{576},
                            int64_t{1000}, int64_t{1023}, int64_t{1024}, int64_t{1151},
                            int64_t{1152}, int64_t{8191}, int64_t{12345}, kLongCtx - 1}) {
    gpu.poison();
    cpu.poison();
    log.add(runtime::check_step(gpu, cpu, static_cast<int32_t>(rng() % n_vocab), pos));
  }
  log.print();
}

TEST(GpuBricks, AttentionOverALongCache) {
  BRICKC_REQUIRE_GPU();
  for (const char* preset : {"qwen2.5-coder-0.5b", "qwen2.5-coder-3b", "qwen2.5-coder-7b"})
    check_long_cache(preset, {});
}

// The same over a q8_0 cache: the 0.5B's positions padded to 144 bytes, the 7B's not.
TEST(GpuBricks, AttentionOverALongQ8_0Cache) {
  BRICKC_REQUIRE_GPU();
  for (const char* preset : {"qwen2.5-coder-0.5b", "qwen2.5-coder-7b"})
    check_long_cache(preset, testing::kQ8_0Cache);
}

// Unfused graphs: standalone rmsnorm, matvec, qkv, rope, kv_append, swiglu, add, lm_head;
// with quantize-activations, rmsnorm, swiglu and attention emit q8_1.
TEST(GpuBricks, UnfusedPipelines) {
  BRICKC_REQUIRE_GPU();
  const gguf::File& f = testing::synth_model("qwen2.5-coder-1.5b", QuantMix::Q4_K_M, 1);
  check_model(f, "canonicalize");
  check_model(f, "quantize-activations");
  check_model(f, "merge-qkv,fuse-gate-up-swiglu,fuse-matvec-add,quantize-activations");
}

}  // namespace
}  // namespace brickc
