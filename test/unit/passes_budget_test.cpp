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
