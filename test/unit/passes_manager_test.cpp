// The pass manager: passes by name (an unknown one lists the valid ones), pipeline order,
// printing and verification after passes, and the default pipeline as a fixed point.
#include <gtest/gtest.h>

#include <random>

#include "frontend/gguf/reader.h"
#include "frontend/qwen2/importer.h"
#include "ir/error.h"
#include "ir/printer.h"
#include "passes/pass_manager.h"
#include "passes/registry.h"
#include "test/unit/ir_test_graphs.h"
#include "test/unit/tiny_qwen2.h"

namespace brickc::passes {
namespace {

std::vector<const PassInfo*> default_passes() {
  std::vector<const PassInfo*> p;
  for (auto n : default_pipeline()) p.push_back(find_pass(n));
  return p;
}

TEST(PassManager, UnknownPassListsValidOnes) {
  try {
    parse_pipeline("canonicalize,fuse-everything");
    FAIL() << "unknown pass accepted";
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("unknown pass 'fuse-everything'"), std::string::npos) << msg;
    for (const auto& p : registered_passes())
      EXPECT_NE(msg.find(std::string(p.name)), std::string::npos) << p.name << ": " << msg;
  }
}

TEST(PassManager, DefaultPipelineNamesRegisteredPasses) {
  for (auto n : default_pipeline()) EXPECT_NE(find_pass(n), nullptr) << n;
}

TEST(PassManager, RunsAndPrintsInOrder) {
  auto pipeline = parse_pipeline("fuse-matvec-add, canonicalize,assign-budgets");
  ASSERT_EQ(pipeline.size(), 3u);
  EXPECT_EQ(pipeline[0]->name, "fuse-matvec-add");
  EXPECT_EQ(pipeline[2]->name, "assign-budgets");
  ir::Graph g = ir::testing::qwen2_step();
  PassManager pm(pipeline);
  pm.print_after_all = true;
  std::vector<std::string> printed;
  pm.sink = [&](std::string_view s) { printed.emplace_back(s); };
  pm.run(g);
  ASSERT_EQ(printed.size(), 3u);
  EXPECT_EQ(printed[0].find("// -----// IR after fuse-matvec-add //----- //\n"), 0u);
  EXPECT_NE(printed[0].find("matvec_add"), std::string::npos);
  EXPECT_EQ(printed[0].find("budget_us"), std::string::npos);
  EXPECT_NE(printed[2].find("budget_us"), std::string::npos);
  ASSERT_EQ(pm.timings().size(), 3u);
  EXPECT_EQ(pm.timings()[1].name, "canonicalize");
  EXPECT_NE(pm.timing_report().find("total"), std::string::npos);
}

TEST(PassManager, PrintsAfterNamedPassOnly) {
  ir::Graph g = ir::testing::qwen2_step();
  PassManager pm(default_passes());
  pm.print_after = {"merge-qkv", "plan-memory"};
  std::vector<std::string> printed;
  pm.sink = [&](std::string_view s) { printed.emplace_back(s); };
  pm.run(g);
  ASSERT_EQ(printed.size(), 2u);
  EXPECT_NE(printed[0].find("IR after merge-qkv"), std::string::npos);
  EXPECT_NE(printed[1].find("IR after plan-memory"), std::string::npos);
}

TEST(PassManager, VerifyEachNamesTheBreakingPass) {
  static const PassInfo kBreak{"break-types", "test only", [](ir::Graph& g, const PassOptions&) {
                                 g.value(g.bricks().front().results[0]).type = ir::f32(3);
                               }};
  ir::Graph g = ir::testing::qwen2_step();
  PassManager pm({find_pass("canonicalize"), &kBreak});
  pm.verify_each = true;
  try {
    pm.run(g);
    FAIL() << "broken graph passed verification";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("invalid after pass break-types"), std::string::npos)
        << e.what();
  }
}

// Running the default pipeline again changes nothing, on a hand-built graph and on an
// imported one.
TEST(PassManager, DefaultPipelineIsAFixedPoint) {
  const std::string path = brickc::testing::temp_path("m.gguf");
  brickc::testing::tiny_qwen2({}, std::random_device{}()).write(path);
  auto f = gguf::File::open(path);
  for (ir::Graph g : {ir::testing::qwen2_step(), qwen2::import_qwen2(*f)}) {
    PassManager pm(default_passes());
    pm.verify_each = true;
    pm.run(g);
    const std::string once = ir::print(g);
    pm.run(g);
    EXPECT_EQ(ir::print(g), once);
  }
}

}  // namespace
}  // namespace brickc::passes
