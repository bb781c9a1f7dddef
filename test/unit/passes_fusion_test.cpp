// Each fusion pass alone and the default pipeline on imported Qwen2 steps: which bricks
// remain per layer, that fused bricks keep their operands and result names, that the
// graph stays valid, and which activations become int8 (only before int8 weights).
#include <gtest/gtest.h>

#include <random>

#include "frontend/gguf/reader.h"
#include "frontend/qwen2/importer.h"
#include "ir/verifier.h"
#include "passes/pass_manager.h"
#include "passes/registry.h"
#include "test/unit/tiny_qwen2.h"

namespace brickc::passes {
namespace {

using ir::BrickKind;

ir::Graph imported(const brickc::testing::TinyShape& s = {}) {
  const std::string path = brickc::testing::temp_path("m.gguf");
  brickc::testing::tiny_qwen2(s, std::random_device{}()).write(path);
  return qwen2::import_qwen2(*gguf::File::open(path));
}

void run(ir::Graph& g, std::string_view passes) {
  PassManager pm(parse_pipeline(passes));
  pm.verify_each = true;
  pm.run(g);
  EXPECT_TRUE(ir::verify(g).empty());
}

std::vector<BrickKind> layer_kinds(const ir::Graph& g, int layer) {
  std::vector<BrickKind> k;
  for (const auto& b : g.bricks())
    if (b.layer == layer) k.push_back(b.kind);
  return k;
}

int count(const ir::Graph& g, BrickKind k) {
  int n = 0;
  for (const auto& b : g.bricks()) n += b.kind == k;
  return n;
}

const ir::Brick& defining(const ir::Graph& g, std::string_view name) {
  auto v = g.find(name);
  EXPECT_TRUE(v.has_value()) << name;
  return g.bricks().at(*g.producer(*v));
}

TEST(Fusion, MergeQkv) {
  ir::Graph g = imported();
  run(g, "merge-qkv");
  EXPECT_EQ(count(g, BrickKind::Qkv), 2);
  EXPECT_EQ(count(g, BrickKind::Matvec), 2 * 4);  // o, gate, up, down
  const ir::Brick& b = defining(g, "k.1");
  ASSERT_EQ(b.kind, BrickKind::Qkv);
  ASSERT_EQ(b.operands.size(), 7u);
  EXPECT_EQ(g.value(b.operands[2]).tensor, "blk.1.attn_k.weight");
  EXPECT_EQ(g.value(b.operands[6]).tensor, "blk.1.attn_v.bias");
  EXPECT_EQ(g.value(b.results[2]).name, "v.1");
}

TEST(Fusion, GateUpSwiglu) {
  ir::Graph g = imported();
  run(g, "fuse-gate-up-swiglu");
  EXPECT_EQ(count(g, BrickKind::Swiglu), 0);
  const ir::Brick& b = defining(g, "act.0");
  ASSERT_EQ(b.kind, BrickKind::GateUpSwiglu);
  EXPECT_EQ(g.value(b.operands[0]).name, "h2.0");
  EXPECT_EQ(g.value(b.operands[1]).tensor, "blk.0.ffn_gate.weight");
  EXPECT_EQ(g.value(b.operands[2]).tensor, "blk.0.ffn_up.weight");
}

TEST(Fusion, RopeKvAppendWithAndWithoutQkv) {
  for (std::string_view passes : {"fuse-rope-kv-append", "merge-qkv,fuse-rope-kv-append"}) {
    ir::Graph g = imported();
    run(g, passes);
    EXPECT_EQ(count(g, BrickKind::Rope), 0) << passes;
    EXPECT_EQ(count(g, BrickKind::KvAppend), 0) << passes;
    const ir::Brick& b = defining(g, "kc.1");
    ASSERT_EQ(b.kind, BrickKind::RopeKvAppend);
    EXPECT_EQ(g.value(b.operands[0]).name, "q.1");
    EXPECT_EQ(g.value(b.operands[1]).name, "k.1");
    EXPECT_EQ(g.value(b.results[0]).name, "qr.1");
    EXPECT_EQ(b.float_attr("theta"), 10000.0f);
  }
}

TEST(Fusion, MatvecAdd) {
  ir::Graph g = imported();
  run(g, "fuse-matvec-add");
  EXPECT_EQ(count(g, BrickKind::Add), 0);
  const ir::Brick& b = defining(g, "x2.0");
  ASSERT_EQ(b.kind, BrickKind::MatvecAdd);
  EXPECT_EQ(g.value(b.operands[0]).name, "act.0");
  EXPECT_EQ(g.value(b.operands[2]).name, "x1.0");
}

// In the imported graph only the output norm has one reader (the head); once q, k, v
// merge and gate/up fuse, every norm has one reader and runs in its prologue.
TEST(Fusion, RmsnormFusesIntoItsOnlyReader) {
  ir::Graph g = imported();
  run(g, "fuse-rmsnorm-matvec");
  EXPECT_EQ(count(g, BrickKind::RmsnormMatvec), 0);  // layer norms feed 2 or 3 matvecs
  EXPECT_EQ(count(g, BrickKind::Rmsnorm), 4);
  EXPECT_EQ(count(g, BrickKind::RmsnormLmHead), 1);
  run(g, "fuse-gate-up-swiglu,merge-qkv,fuse-rmsnorm-matvec");
  EXPECT_EQ(count(g, BrickKind::Rmsnorm), 0);
  EXPECT_EQ(count(g, BrickKind::RmsnormQkv), 2);
  EXPECT_EQ(count(g, BrickKind::RmsnormGateUpSwiglu), 2);
  EXPECT_TRUE(ir::verify(g).empty());
  const ir::Brick& qkv = defining(g, "q.0");
  ASSERT_EQ(qkv.kind, BrickKind::RmsnormQkv);
  ASSERT_EQ(qkv.operands.size(), 8u);  // x, norm weight, 3 weights, 3 biases
  EXPECT_EQ(g.value(qkv.operands[1]).name, "w.attn_norm.0");
  EXPECT_EQ(qkv.results.size(), 3u);
}

TEST(Fusion, DefaultPipelineLayerShape) {
  ir::Graph g = imported();
  std::vector<const PassInfo*> all;
  for (auto n : default_pipeline()) all.push_back(find_pass(n));
  PassManager(all).run(g);
  EXPECT_TRUE(ir::verify(g).empty());
  const std::vector<BrickKind> want = {BrickKind::RmsnormQkv,   BrickKind::RopeKvAppend,
                                       BrickKind::Attention,    BrickKind::MatvecAdd,
                                       BrickKind::RmsnormGateUpSwiglu, BrickKind::MatvecAdd};
  EXPECT_EQ(layer_kinds(g, 0), want);
  EXPECT_EQ(layer_kinds(g, 1), want);
  EXPECT_EQ(count(g, BrickKind::RmsnormLmHead), 1);
  // The fused FFN still hands int8 to ffn_down (q4_0).
  EXPECT_EQ(g.type(*g.find("act.1")).elem, DType::Q8_1);
  for (const auto& b : g.bricks()) EXPECT_TRUE(b.budget_us.has_value());
}

// Tiny model: attn q8_0, ffn gate/up f16, ffn_down q4_0, embedding (the tied head) q8_0.
TEST(Fusion, QuantizeActivationsOnlyBeforeInt8Weights) {
  ir::Graph g = imported();
  run(g, "merge-qkv,fuse-gate-up-swiglu,quantize-activations");
  auto elem = [&](std::string_view n) { return g.type(*g.find(n)).elem; };
  EXPECT_EQ(elem("h.0"), DType::Q8_1);     // read by qkv (q8_0)
  EXPECT_EQ(elem("h2.0"), DType::F32);     // read by gate_up_swiglu (f16)
  EXPECT_EQ(elem("act.1"), DType::Q8_1);   // read by ffn_down (q4_0)
  EXPECT_EQ(elem("h.out"), DType::Q8_1);   // read by the tied head (q8_0)
  EXPECT_EQ(elem("logits"), DType::F32);
}

TEST(Fusion, CanonicalizeKeepsAppendsDropsDeadBricks) {
  ir::Graph g = imported();
  g.outputs.pop_back();  // only %next: logits stay live through argmax
  const size_t before = g.bricks().size();
  run(g, "canonicalize");
  EXPECT_EQ(g.bricks().size(), before);
  g.outputs.clear();  // nothing returned: only the cache appends and what feeds them stay
  run(g, "canonicalize");
  EXPECT_EQ(count(g, BrickKind::KvAppend), 2);
  EXPECT_EQ(count(g, BrickKind::LmHead), 0);
  EXPECT_EQ(count(g, BrickKind::Attention), 1);  // layer 0's output feeds layer 1's k, v
}

}  // namespace
}  // namespace brickc::passes
