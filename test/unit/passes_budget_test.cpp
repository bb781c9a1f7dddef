// Budget assignment: every brick's budget is the roofline time of its cost on the profile
// (recomputed here from ir::cost and the profile's numbers), and the note's step total and
// tok/s are the sum and its inverse.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "ir/cost.h"
#include "ir/error.h"
#include "passes/device_profile.h"
#include "passes/pass_manager.h"
#include "passes/registry.h"
#include "test/unit/ir_test_graphs.h"

namespace brickc::passes {
namespace {

TEST(Budget, RooflinePerBrickAndStepTotal) {
  std::mt19937 rng(std::random_device{}());
  const double bw = std::uniform_real_distribution<double>(5, 5000)(rng);
  for (std::optional<double> override_bw : {std::optional<double>{}, std::optional{bw}}) {
    for (const auto& profile : device_profiles()) {
      ir::Graph g = ir::testing::qwen2_step({.n_layer = 3, .kv_len = 700});
      PassOptions o{std::string(profile.name), override_bw};
      PassManager({find_pass("assign-budgets")}, o).run(g);
      const double gbs = override_bw.value_or(profile.bandwidth_gbs);
      double step = 0;
      for (const auto& b : g.bricks()) {
        const ir::Cost c = *ir::cost(g, b);
        const double want = std::max(c.bytes() / (gbs * 1e3), c.flops / (profile.peak_gflops * 1e3)) +
                            profile.boundary_us;
        ASSERT_TRUE(b.budget_us.has_value());
        EXPECT_NEAR(*b.budget_us, want, 0.0005) << ir::keyword(b.kind) << " on " << profile.name;
        step += *b.budget_us;
      }
      ASSERT_FALSE(g.notes.empty());
      const std::string& note = g.notes.back().second;
      EXPECT_NE(note.find(fmt::format("step {:.2f} us = {:.1f} tok/s", step, 1e6 / step)),
                std::string::npos)
          << note;
    }
  }
}

TEST(Budget, UnknownProfileListsKnownOnes) {
  try {
    device_profile("a100");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("known: " + device_profile_names()), std::string::npos);
  }
  EXPECT_THROW(device_profile("cpu", -1.0), Error);
}

}  // namespace
}  // namespace brickc::passes

namespace brickc::passes {
namespace {

// A T-token step's matrix product is held to the tensor-core rate: a 4096 x 4096 f16 matvec
// over 512 tokens on h100-sxm does 2 * 4096² * 512 = 17.18 GFLOP, 21.75 µs at 790 TFLOP/s,
// against 50.3 MB (the weight 33.55 MB once, x and y 8.39 MB each), 16.8 µs at 3 TB/s: the
// budget is 21.75 + 1 µs (at the FP32 rate it would be 257 µs).
TEST(Budget, TTokenMatrixProductsAtTheTensorCoreRate) {
  ir::Graph g;
  g.n_tokens = 512;
  g.kv_len = 512;
  ir::Builder b(g);
  auto x = b.input("x", ir::TensorType{DType::F32, ir::Shape{{4096, 512}}});
  auto w = b.weight("w", ir::TensorType{DType::F16, ir::Shape{{4096, 4096}}});
  b.output(b.matvec("y", x, w));
  PassManager({find_pass("assign-budgets")}, PassOptions{"h100-sxm", {}}).run(g);
  ASSERT_TRUE(g.bricks()[0].budget_us.has_value());
  EXPECT_NEAR(*g.bricks()[0].budget_us, 17179869184.0 / 790e6 + 1.0, 0.001);
  EXPECT_NE(g.notes.back().second.find("790000 GFLOP/s on tensor cores"), std::string::npos)
      << g.notes.back().second;
}

}  // namespace
}  // namespace brickc::passes
