// Memory planning, checked against the lifetimes computed here from the brick list: no two
// activations that are live at once share a buffer, every buffer holds its values, and
// the arena lies between the live peak and the no-reuse total.
#include <gtest/gtest.h>

#include "ir/verifier.h"
#include "passes/memory_plan.h"
#include "passes/pass_manager.h"
#include "passes/registry.h"
#include "test/unit/ir_test_graphs.h"

namespace brickc::passes {
namespace {

void check_plan(const ir::Graph& g) {
  const MemoryPlan p = plan_memory(g);
  const auto& bricks = g.bricks();
  // [def, last use] per planned value; outputs live past the last brick.
  std::vector<std::pair<size_t, size_t>> life(g.value_count(), {SIZE_MAX, 0});
  for (size_t i = 0; i < bricks.size(); ++i) {
    for (auto r : bricks[i].results) life[r.index] = {i, i};
    for (auto o : bricks[i].operands) life[o.index].second = std::max(life[o.index].second, i);
  }
  for (auto o : g.outputs) life[o.index].second = bricks.size();
  uint64_t total = 0;
  std::vector<uint32_t> planned;
  for (uint32_t v = 0; v < g.value_count(); ++v) {
    if (p.buffer_of[v] < 0) continue;
    planned.push_back(v);
    const uint64_t bytes = g.type(ir::ValueId{v}).bytes();
    total += bytes;
    EXPECT_GE(p.buffer_bytes[p.buffer_of[v]], bytes) << g.value(ir::ValueId{v}).name;
  }
  for (uint32_t a : planned)
    for (uint32_t b : planned) {
      if (a >= b || p.buffer_of[a] != p.buffer_of[b]) continue;
      // Sharing is allowed only if one's last use comes strictly before the other's def.
      bool disjoint = life[a].second < life[b].first || life[b].second < life[a].first;
      EXPECT_TRUE(disjoint) << "%" << g.value(ir::ValueId{a}).name << " and %"
                            << g.value(ir::ValueId{b}).name << " share buf" << p.buffer_of[a];
    }
  EXPECT_EQ(p.unplanned_bytes, total);
  EXPECT_LE(p.peak_live_bytes, p.arena_bytes);
  EXPECT_LE(p.arena_bytes, p.unplanned_bytes);
  uint64_t sum = 0;
  for (auto b : p.buffer_bytes) sum += b;
  EXPECT_EQ(sum, p.arena_bytes);
}

TEST(MemoryPlan, UnfusedAndFusedQwen2) {
  for (int64_t layers : {1, 4}) {
    ir::Graph g = ir::testing::qwen2_step({.n_layer = layers});
    check_plan(g);
    std::vector<const PassInfo*> all;
    for (auto n : default_pipeline()) all.push_back(find_pass(n));
    PassManager(all).run(g);
    check_plan(g);
    // Caches alias state: never planned.
    for (uint32_t v = 0; v < g.value_count(); ++v)
      if (g.type(ir::ValueId{v}).shape.dims.size() == 3)
        EXPECT_EQ(plan_memory(g).buffer_of[v], -1);
  }
}

TEST(MemoryPlan, ReuseMakesTheArenaIndependentOfDepth) {
  auto arena = [](int64_t layers) {
    return plan_memory(ir::testing::qwen2_step({.n_layer = layers})).arena_bytes;
  };
  EXPECT_EQ(arena(2), arena(8));
  EXPECT_LT(arena(8), plan_memory(ir::testing::qwen2_step({.n_layer = 8})).unplanned_bytes / 2);
}

}  // namespace
}  // namespace brickc::passes
