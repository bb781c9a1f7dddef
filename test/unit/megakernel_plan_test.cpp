// The megakernel's plan (codegen/ptx/megakernel.h) against invariants of the graph it
// comes from: a task waits only for earlier tasks; it waits for the last launch of every
// brick that produced one of its operands, and for nothing else but its own brick's
// earlier launch; the dispatch has one case per kernel; task placement covers each task's
// virtual grid once; decode attention runs one block an SM as its own grid only. The PTX
// side is test/lit/ptx/megakernel.test, the GPU side test/gpu/megakernel_test.cpp.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "codegen/ptx/megakernel.h"
#include "ir/error.h"
#include "runtime/decode_graph.h"
#include "test/unit/synth_model.h"

namespace brickc::ptx {
namespace {

void check_plan(const ir::Graph& g, const KernelPlan& plan) {
  ASSERT_TRUE(plan.megakernel);
  const Megakernel& mk = *plan.megakernel;
  ASSERT_EQ(mk.deps.size(), plan.launches.size());
  std::map<uint32_t, size_t> producer;  // value -> brick
  for (size_t b = 0; b < g.bricks().size(); ++b)
    for (ir::ValueId r : g.bricks()[b].results) producer[r.index] = b;
  std::map<size_t, size_t> last;  // brick -> its last launch so far
  for (size_t i = 0; i < plan.launches.size(); ++i) {
    const Launch& l = plan.launches[i];
    std::set<size_t> want;
    if (last.contains(l.brick)) want.insert(last[l.brick]);
    for (ir::ValueId o : g.bricks()[l.brick].operands)
      if (auto p = producer.find(o.index); p != producer.end() && p->second != l.brick) {
        ASSERT_TRUE(last.contains(p->second)) << "task " << i << " reads a brick not yet launched";
        want.insert(last[p->second]);
      }
    const std::set<size_t> got(mk.deps[i].begin(), mk.deps[i].end());
    EXPECT_EQ(got, want) << "task " << i << " (" << plan.kernels[l.kernel].name << ")";
    for (size_t d : mk.deps[i]) EXPECT_LT(d, i) << "task " << i << " waits for a later task";
    EXPECT_LE(l.smem, mk.smem);
    last[l.brick] = i;
  }
  for (size_t k = 0; k < plan.kernels.size(); ++k)
    EXPECT_NE(plan.source.find("case " + std::to_string(k) + ": " + plan.kernels[k].template_call +
                               "(a, blk); return;"),
              std::string::npos)
        << plan.kernels[k].name;
  EXPECT_NE(plan.source.find("void __launch_bounds__(kThreads, 2) " + mk.name + "("),
            std::string::npos);

  for (unsigned blocks : {1u, 7u, 264u}) {
    const std::vector<TaskPlacement> place = place_tasks(plan, blocks);
    ASSERT_EQ(place.size(), plan.launches.size());
    for (size_t i = 0; i < place.size(); ++i) {
      const Launch& l = plan.launches[i];
      EXPECT_LT(place[i].first, blocks);
      EXPECT_EQ(place[i].arrivals, std::min(place[i].nx * place[i].ny, blocks));
      EXPECT_EQ(place[i].ny, l.grid[1]);
      if (l.work_blocks > 0) {  // a grid-stride kernel: at most one virtual block per block
        EXPECT_EQ(place[i].nx, std::min<int64_t>(l.work_blocks, blocks));
      } else {
        EXPECT_EQ(place[i].nx, l.grid[0]);
      }
      if (i > 0) {
        EXPECT_EQ(place[i].first, (place[i - 1].first + place[i - 1].nx * place[i - 1].ny) % blocks);
      }
    }
  }
}

TEST(MegakernelPlan, WaitsForExactlyTheProducers) {
  for (auto mix : {synth::QuantMix::Q4_K_M, synth::QuantMix::F16}) {
    const gguf::File& file = testing::synth_model("test-tiny", mix);
    const ir::Graph g = runtime::decode_graph(file, 64, std::nullopt, "h200");
    LowerOptions o;
    o.megakernel = true;
    check_plan(g, lower(g, o));
    // Unfused bricks (standalone rmsnorm, swiglu, add) and a planted fault, which is a
    // second launch of its brick.
    const ir::Graph u = runtime::decode_graph(
        file, 64, "canonicalize,merge-qkv,quantize-activations,plan-memory,assign-budgets", "h200");
    o.plant_fault = u.find_brick("swiglu@0");
    check_plan(u, lower(u, o));
  }
}

// Decode attention's (KV head, split) blocks all fit at once one an SM, and as its own grid
// a launch asks for more than half an SM's shared memory so that no two share one; as a
// task it has only its ring, and the megakernel keeps two blocks an SM.
TEST(MegakernelPlan, DecodeAttentionRunsOneBlockAnSmOnlyAsItsOwnGrid) {
  const gguf::File& file = testing::synth_model("test-tiny", synth::QuantMix::Q4_K_M);
  const ir::Graph g = runtime::decode_graph(file, 64, std::nullopt, "h200");
  for (unsigned sms : {132u, 78u, 16u}) {
    LowerOptions o;
    o.megakernel = true;
    o.sms = sms;
    const KernelPlan plan = lower(g, o);
    const Megakernel& mk = *plan.megakernel;
    EXPECT_LE(2 * (mk.smem + 1024), o.smem_per_sm);
    int attention = 0;
    for (const Launch& l : plan.launches) {
      if (!plan.kernels[l.kernel].name.starts_with("attention_")) {
        EXPECT_EQ(l.smem_alone, 0u) << plan.kernels[l.kernel].name;
        continue;
      }
      ++attention;
      EXPECT_LE(l.grid[0] * l.grid[1], sms);
      EXPECT_GT(l.grid[1], sms / l.grid[0] / 2) << "splits for one block an SM, not two";
      EXPECT_GT(2 * (l.smem_alone + 1024), o.smem_per_sm);
      EXPECT_LE(l.smem_alone, 227u * 1024);  // what one block may have on sm_90
      EXPECT_LE(l.smem, mk.smem);
    }
    EXPECT_GT(attention, 0);
  }
}

TEST(MegakernelPlan, RefusesTokenSteps) {
  const gguf::File& file = testing::synth_model("test-tiny", synth::QuantMix::Q4_K_M);
  const ir::Graph g = runtime::decode_graph(file, 64, std::nullopt, "h200", {8, false});
  LowerOptions o;
  o.megakernel = true;
  try {
    lower(g, o);
    ADD_FAILURE() << "an 8-token graph got a megakernel";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not 8-token steps"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace brickc::ptx
