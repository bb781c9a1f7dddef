// The lowering of few-token steps (a server's batch; codegen/ptx/lower.cpp: gemm_dq) against
// the graph it comes from: a QKV brick's matrices take one launch per run of one format,
// whose grid covers the run's rows in order; a product split over K has zeroed arrival
// counters and no reduction launch after it. The GPU side is test/gpu/batch_test.cpp and
// token_steps_test.cpp, the PTX side test/lit/ptx/batch-kernels.test.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "codegen/ptx/lower.h"
#include "runtime/decode_graph.h"
#include "test/unit/synth_model.h"

namespace brickc::ptx {
namespace {

TEST(TokenPlan, QkvMatricesOfOneFormatShareALaunch) {
  // test-small's Q4_K_M mix gives some layers a Q6_K v (llama.cpp's choice), so both a
  // run of three and runs of two and one occur.
  const gguf::File& file = testing::synth_model("test-small", synth::QuantMix::Q4_K_M);
  const ir::Graph g = runtime::decode_graph(file, 256, std::nullopt, "h200", {16, true, 4});
  const KernelPlan plan = lower(g);
  int uniform = 0, mixed = 0;
  for (size_t b = 0; b < g.bricks().size(); ++b) {
    const ir::Brick& brick = g.bricks()[b];
    if (brick.kind != ir::BrickKind::Qkv && brick.kind != ir::BrickKind::RmsnormQkv) continue;
    const size_t w0 = brick.kind == ir::BrickKind::Qkv ? 1 : 2;
    std::vector<int64_t> want;  // rows of each run of one format, in order
    for (size_t m = 0; m < 3; ++m) {
      const ir::ValueId w = brick.operands[w0 + m];
      const int64_t rows = g.type(w).shape.dims[1];
      if (m > 0 && g.type(w).elem == g.type(brick.operands[w0 + m - 1]).elem)
        want.back() += rows;
      else
        want.push_back(rows);
    }
    (want.size() == 1 ? uniform : mixed) += 1;
    std::vector<int64_t> got;
    for (const Launch& l : plan.launches)
      if (l.brick == b && plan.kernels[l.kernel].name.starts_with("gemm_dq_"))
        got.push_back(static_cast<int64_t>(l.grid[0]) * 128);
    EXPECT_EQ(got, want) << g.value(brick.results[0]).name;
  }
  EXPECT_GT(uniform, 0);
  EXPECT_GT(mixed, 0);
}

TEST(TokenPlan, SplitProductsCountArrivalsInZeroedScratch) {
  const gguf::File& file = testing::synth_model("test-small", synth::QuantMix::Q4_K_M);
  const ir::Graph g = runtime::decode_graph(file, 256, std::nullopt, "h200", {16, true, 4});
  const KernelPlan plan = lower(g);
  int split = 0;
  for (const Launch& l : plan.launches) {
    const std::string& name = plan.kernels[l.kernel].name;
    EXPECT_FALSE(name.starts_with("gemm_reduce")) << name;
    if (!name.starts_with("gemm_dq_")) continue;
    ASSERT_GE(l.args.size(), 11u);
    const Arg& counters = l.args[10];
    if (l.grid[1] == 1) {
      EXPECT_EQ(counters.kind, Arg::Kind::kNull) << name;
      continue;
    }
    ++split;
    ASSERT_EQ(counters.kind, Arg::Kind::kScratch) << name;
    const Scratch& s = plan.scratch[static_cast<size_t>(counters.i)];
    EXPECT_TRUE(s.zeroed) << name;
    EXPECT_GE(s.bytes, static_cast<uint64_t>(l.grid[0]) * 4) << name;  // a counter per row block
  }
  EXPECT_GT(split, 0);
}

}  // namespace
}  // namespace brickc::ptx
