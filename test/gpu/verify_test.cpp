// --verify on the GPU: a verified prompt (one T-token step) and decode pass every brick
// check and leave the logits exactly as a graph replay computes them (with an f16 and a
// q8_0 KV cache); a planted wrong kernel (codegen/ptx/kernels/plant_fault.cuh) of every
// result type is named, and only it, in the T-token step and in each decode step.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "runtime/cuda/model.h"
#include "runtime/verify.h"
#include "test/gpu/gpu_test_util.h"

namespace brickc {
namespace {

using synth::QuantMix;

constexpr int64_t kCtx = 64;
constexpr int kSteps = 6;

const gguf::File& model() { return testing::synth_model("qwen2.5-coder-0.5b", QuantMix::Q4_K_M, 2); }

std::vector<int32_t> random_tokens(size_t n) {
  std::mt19937 rng(std::random_device{}());
  std::vector<int32_t> t(n);
  for (auto& x : t) x = static_cast<int32_t>(rng() % 151936);
  return t;
}

// A prompt of kSteps tokens, then kSteps tokens decoded one at a time.
void run(runtime::Decoder& d, const std::vector<int32_t>& tokens) {
  d.prefill(std::span(tokens).first(kSteps));
  for (size_t i = kSteps; i < tokens.size(); ++i) d.decode(tokens[i]);
}

// The verifier's reference runs the GPU's graph, so it holds the same cache types.
void check_passes(runtime::CacheTypes cache) {
  SCOPED_TRACE(testing::cache_label(cache));
  const std::vector<int32_t> tokens = random_tokens(2 * kSteps);
  cuda::ModelOptions mo;
  mo.n_ctx = kCtx;
  mo.cache = cache;
  std::vector<std::vector<float>> want;
  mo.each = [&](int64_t, std::span<const float> l) { want.emplace_back(l.begin(), l.end()); };
  run(*cuda::open_model(model(), mo), tokens);

  int mismatches = 0;
  mo.each = [&](int64_t pos, std::span<const float> l) {
    mismatches += !std::equal(l.begin(), l.end(), want.at(static_cast<size_t>(pos)).begin());
  };
  auto gpu = cuda::open_model(model(), mo);
  runtime::Verifier v(model(), static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  v.attach(*gpu);
  run(*gpu, tokens);
  std::printf("  %s", runtime::format_verify(v.stats()).c_str());
  EXPECT_EQ(v.stats().steps, 1 + kSteps);
  EXPECT_EQ(v.stats().failures, 0);
  EXPECT_EQ(mismatches, 0) << "verified steps changed the logits";
}

TEST(GpuVerify, PassesAndLeavesTheLogitsAlone) {
  BRICKC_REQUIRE_GPU();
  check_passes({});
}

TEST(GpuVerify, PassesOnAQ8_0Cache) {
  BRICKC_REQUIRE_GPU();
  check_passes(testing::kQ8_0Cache);
}

// One spec per kind of planted fault: f32, q8_1 and f16 results, the argmax key.
struct Plant {
  std::string spec;
  std::optional<std::string> passes;
};

TEST(GpuVerify, NamesAPlantedWrongKernel) {
  BRICKC_REQUIRE_GPU();
  const std::string unfused_rope = "canonicalize,merge-qkv,quantize-activations,plan-memory,assign-budgets";
  const std::vector<Plant> plants = {{"matvec_add@1", {}},
                                     {"rmsnorm_gate_up_swiglu@0", {}},
                                     {"attention@1", {}},
                                     {"kv_append@0", unfused_rope},
                                     {"argmax", {}}};
  for (const Plant& p : plants) {
    SCOPED_TRACE(p.spec);
    cuda::ModelOptions mo;
    mo.n_ctx = kCtx;
    mo.passes = p.passes;
    mo.plant_fault = p.spec;
    auto gpu = cuda::open_model(model(), mo);
    runtime::Verifier v(model(), 4);
    v.set_stop_on_failure(false);
    v.attach(*gpu);
    // One T-token step and two decode steps, each with the planted kernel.
    const auto tokens = random_tokens(5);
    gpu->prefill(std::span(tokens).first(3));
    gpu->decode(tokens[3]);
    gpu->decode(tokens[4]);
    ASSERT_FALSE(v.stats().failed.empty());
    std::printf("  %s: %s\n", p.spec.c_str(), runtime::describe(v.stats().failed[0]).c_str());
    EXPECT_EQ(v.stats().failures, 3);
    const std::string kind = p.spec.substr(0, p.spec.find('@'));
    for (const runtime::BrickResult& r : v.stats().failed) EXPECT_EQ(r.kind, kind);
  }
}

}  // namespace
}  // namespace brickc
