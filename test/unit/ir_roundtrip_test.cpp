// Printer and parser agree: builder → printer → parser → printer is a fixed point, and the
// parsed graph has the same bricks, values and attributes as the built one.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "ir/error.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "test/unit/ir_test_graphs.h"

namespace brickc::ir {
namespace {

Graph parse_ok(const std::string& text) {
  auto r = parse(text);
  EXPECT_TRUE(r.ok()) << format(r.errors, "<text>") << "\n" << text;
  return std::move(r.graph);
}

// Same values (by name, kind, type, tensor), bricks, attributes, layers, outputs.
void expect_same(const Graph& a, const Graph& b) {
  ASSERT_EQ(a.name, b.name);
  ASSERT_EQ(a.kv_len, b.kv_len);
  ASSERT_EQ(a.bricks().size(), b.bricks().size());
  auto same_value = [&](ValueId x, ValueId y) {
    const Value& va = a.value(x);
    const Value& vb = b.value(y);
    EXPECT_EQ(va.name, vb.name);
    EXPECT_EQ(va.kind, vb.kind) << va.name;
    EXPECT_EQ(va.type, vb.type) << va.name;
    EXPECT_EQ(va.tensor, vb.tensor) << va.name;
  };
  for (size_t i = 0; i < a.bricks().size(); ++i) {
    const Brick& x = a.bricks()[i];
    const Brick& y = b.bricks()[i];
    EXPECT_EQ(x.kind, y.kind) << "brick " << i;
    EXPECT_EQ(x.layer, y.layer) << "brick " << i;
    EXPECT_EQ(x.attrs, y.attrs) << "brick " << i;
    EXPECT_EQ(x.budget_us, y.budget_us) << "brick " << i;
    ASSERT_EQ(x.operands.size(), y.operands.size());
    ASSERT_EQ(x.results.size(), y.results.size());
    for (size_t k = 0; k < x.operands.size(); ++k) same_value(x.operands[k], y.operands[k]);
    for (size_t k = 0; k < x.results.size(); ++k) same_value(x.results[k], y.results[k]);
  }
  ASSERT_EQ(a.outputs.size(), b.outputs.size());
  for (size_t k = 0; k < a.outputs.size(); ++k) same_value(a.outputs[k], b.outputs[k]);
}

TEST(IrRoundTrip, BuiltQwen2GraphIsValid) {
  auto g = testing::qwen2_step();
  auto ds = verify(g);
  EXPECT_TRUE(ds.empty()) << format(ds, "qwen2");
  // 14 bricks per layer, embed before, norm + lm_head + argmax after.
  EXPECT_EQ(g.bricks().size(), 2u * 14 + 4);
}

TEST(IrRoundTrip, PrintParsePrintIsAFixedPoint) {
  auto g = testing::qwen2_step();
  const std::string first = print(g);
  Graph parsed = parse_ok(first);
  EXPECT_TRUE(verify(parsed).empty());
  expect_same(g, parsed);
  EXPECT_EQ(print(parsed), first);
}

TEST(IrRoundTrip, AnyLayerCountAndFusedKinds) {
  testing::Qwen2Shape s;
  s.n_layer = 5;
  auto g = testing::qwen2_step(s);
  // A fusion-like rewrite of layer 0's FFN, as a pass would do it: the brick list changes,
  // ids of untouched values stay valid.
  Builder b(g);
  auto& bricks = g.bricks();
  auto find = [&](std::string_view result) { return g.producer(*g.find(result)).value(); };
  const Brick gate = bricks[find("gate.0")];
  const Brick up = bricks[find("up.0")];
  ValueId old_act = bricks[find("act.0")].results[0];
  b.set_layer(0);
  const std::string name = g.unique_name("act.0");
  EXPECT_EQ(name, "act.0.1");
  ValueId fused = b.gate_up_swiglu(name, gate.operands[0], gate.operands[1], up.operands[1]);
  Brick fused_brick = g.bricks().back();
  g.bricks().pop_back();
  g.replace_all_uses(old_act, fused);
  size_t at = find("gate.0");
  bricks.erase(bricks.begin() + at, bricks.begin() + at + 3);  // gate, up, swiglu
  bricks.insert(bricks.begin() + at, fused_brick);
  auto ds = verify(g);
  ASSERT_TRUE(ds.empty()) << format(ds, "fused");

  EXPECT_EQ(g.users(fused), std::vector<size_t>{at + 1});  // the down projection
  EXPECT_TRUE(g.users(old_act).empty());
  EXPECT_FALSE(g.producer(*g.find("w.ffn_up.0")));

  const std::string first = print(g);
  EXPECT_NE(first.find("%act.0.1 = gate_up_swiglu %h2.0, %w.ffn_gate.0, %w.ffn_up.0"),
            std::string::npos);
  EXPECT_NE(first.find("layer 4 {"), std::string::npos);
  Graph parsed = parse_ok(first);
  expect_same(g, parsed);
  EXPECT_EQ(print(parsed), first);
}

TEST(IrRoundTrip, EveryKindKeywordReadsBack) {
  for (BrickKind k : all_brick_kinds()) {
    EXPECT_EQ(brick_kind_from_keyword(keyword(k)), k);
    const auto& s = signature(k);
    EXPECT_EQ(s.operand_names.size(), static_cast<size_t>(s.operand_counts.back())) << keyword(k);
  }
  EXPECT_EQ(all_brick_kinds().size(), 18u);  // 11 kinds + 7 composites
  EXPECT_FALSE(brick_kind_from_keyword("matmul"));
}

TEST(IrRoundTrip, AttributesReadAsTheirKindNeeds) {
  auto r = parse(
      "input %x : f32[128]\ninput %p : i32[1]\n"
      "%y = rope %x, %p {head_dim = 64, theta = 1000000} : f32[128]\n");
  ASSERT_TRUE(r.ok());
  const Brick& rope = r.graph.bricks()[0];
  EXPECT_EQ(rope.int_attr("head_dim"), 64);
  EXPECT_EQ(rope.float_attr("theta"), 1e6f);
  EXPECT_THROW(rope.float_attr("eps"), Error);
  EXPECT_THROW(rope.int_attr("theta"), Error);
}

TEST(IrRoundTrip, RealAttributesAndBudgetsReadBackBitExact) {
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<uint32_t> bits;
  Graph g;
  Builder b(g);
  auto x = b.input("x", f32(256));
  auto w = b.weight("w", f32(256));
  std::vector<float> eps;
  std::vector<double> budgets;
  for (int i = 0; i < 2000; ++i) {
    // Any finite float: random bit patterns cover subnormals and every exponent.
    float e;
    do {
      uint32_t u = bits(rng);
      std::memcpy(&e, &u, 4);
    } while (!std::isfinite(e));
    eps.push_back(e);
    budgets.push_back(std::ldexp(static_cast<double>(bits(rng)), -20));
    b.rmsnorm(fmt::format("y{}", i), x, w, e);
    g.bricks().back().budget_us = budgets.back();
  }
  Graph parsed = parse_ok(print(g));
  ASSERT_EQ(parsed.bricks().size(), eps.size());
  for (size_t i = 0; i < eps.size(); ++i) {
    float got = std::get<float>(parsed.bricks()[i].attrs.at("eps"));
    EXPECT_EQ(std::memcmp(&got, &eps[i], 4), 0) << "eps " << eps[i] << " read back as " << got;
    EXPECT_EQ(parsed.bricks()[i].budget_us, budgets[i]);
  }
}

TEST(IrRoundTrip, TensorNamesWithQuotesAndControlBytes) {
  Graph g;
  Builder b(g);
  const std::string odd = "blk.0.\"odd\\name\"\x01\xff";
  b.weight("w", f32(32), odd);
  Graph parsed = parse_ok(print(g));
  EXPECT_EQ(parsed.value(*parsed.find("w")).tensor, odd);
}

TEST(IrRoundTrip, BudgetIsPrintedOnlyWhenSet) {
  Graph g;
  Builder b(g);
  auto x = b.input("x", f32(256));
  auto y = b.add("y", x, x);
  EXPECT_EQ(print(g).find("budget_us"), std::string::npos);
  g.bricks().back().budget_us = 2.5;
  EXPECT_NE(print(g).find("%y = add %x, %x {budget_us = 2.5} : f32[256]"), std::string::npos);
  (void)y;
}

}  // namespace
}  // namespace brickc::ir
