// bench --trace-blocks' JSON (runtime/bench/block_trace): each launch's brick and kernel,
// its blocks' stamps in ns from the step's earliest entry, skipped blocks as null, on stamps
// whose answers are worked out by hand.
#include "runtime/bench/block_trace.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "ir/brick.h"
#include "test/unit/ir_test_graphs.h"

namespace {

using namespace brickc;

TEST(BlockTrace, StampsFromTheStepsFirstEntry) {
  const ir::Graph g = ir::testing::qwen2_step();
  ASSERT_GE(g.bricks().size(), 3u);
  // Two launches: brick 2 with two blocks, the second skipped (start after end, as
  // Trace::skip stamps it), and brick 0 with one block whose entry (1000) is the step's
  // earliest stamp among the blocks that ran; the skipped block's 0 counts nowhere.
  std::vector<bench::LaunchStamps> launches = {
      {2, "kernel_b", {5000, 6000, 6500, 9000, 3, /**/ 0, ~0ull, 0, 0, 1}},
      {0, "kernel_a", {1000, 1200, 1200, 4000, 7}},
  };
  const nlohmann::json j = nlohmann::json::parse(bench::block_trace_json(g, launches));
  EXPECT_EQ(j["schema"], "brickc-trace-blocks/1");
  ASSERT_EQ(j["launches"].size(), 2u);
  const nlohmann::json& b = j["launches"][0];
  EXPECT_EQ(b["brick"], 2);
  EXPECT_EQ(b["kind"], std::string(ir::keyword(g.bricks()[2].kind)));
  EXPECT_EQ(b["value"], g.value(g.bricks()[2].results[0]).name);
  EXPECT_EQ(b["kernel"], "kernel_b");
  ASSERT_EQ(b["blocks"].size(), 2u);
  EXPECT_EQ(b["blocks"][0], nlohmann::json({4000, 5000, 5500, 8000, 3}));
  EXPECT_TRUE(b["blocks"][1].is_null());
  const nlohmann::json& a = j["launches"][1];
  EXPECT_EQ(a["kernel"], "kernel_a");
  EXPECT_EQ(a["blocks"][0], nlohmann::json({0, 200, 200, 3000, 7}));
}

}  // namespace
