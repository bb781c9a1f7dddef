// The verifier on graphs built in memory (as passes make them) and on parsed text: each
// broken rule is found, named, and placed at the brick's line and column.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "ir/error.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "test/unit/ir_test_graphs.h"

namespace brickc::ir {
namespace {

std::string only_error(const Graph& g) {
  auto ds = verify(g);
  EXPECT_EQ(ds.size(), 1u) << format(ds, "g");
  return ds.empty() ? "" : ds[0].message;
}

Brick& defining(Graph& g, std::string_view result) {
  for (auto& b : g.bricks())
    for (ValueId r : b.results)
      if (g.value(r).name == result) return b;
  throw std::runtime_error("no such brick");
}

TEST(IrVerifier, WrongQuantTypeForAnOperand) {
  auto g = testing::qwen2_step();
  // A norm weight must stay f32 (llama.cpp never quantizes *_norm.weight).
  g.value(*g.find("w.attn_norm.1")).type.elem = DType::Q8_0;
  EXPECT_EQ(only_error(g),
            "wrong type: rmsnorm %h.1: norm weight %w.attn_norm.1 : q8_0[1536] must be f32");
}

TEST(IrVerifier, ActivationFormatIsNotAWeightFormat) {
  auto g = testing::qwen2_step();
  g.value(*g.find("w.ffn_up.0")).type.elem = DType::Q8_1;
  auto ds = verify(g);
  ASSERT_EQ(ds.size(), 2u);  // the declaration, then the matvec that reads it
  EXPECT_NE(ds[0].message.find("wrong type: weight %w.ffn_up.0 : q8_1[1536, 8960]"),
            std::string::npos);
  EXPECT_NE(ds[1].message.find("wrong type: matvec %up.0: weight"), std::string::npos);
}

TEST(IrVerifier, ShapeMismatch) {
  auto g = testing::qwen2_step();
  g.value(*g.find("w.ffn_down.1")).type.shape = Shape{{4864, 1536}};
  EXPECT_EQ(only_error(g),
            "shape mismatch: matvec %down.1: weight %w.ffn_down.1 : q4_K[4864, 1536] must have "
            "ne0 = 8960, the length of x %act.1");
}

TEST(IrVerifier, GqaHeadsMustShareKvHeadsEvenly) {
  testing::Qwen2Shape s;
  s.n_kv_head = 5;  // 12 query heads over 5 kv heads
  auto g = testing::qwen2_step(s);
  auto ds = verify(g);
  ASSERT_EQ(ds.size(), 2u);
  EXPECT_EQ(ds[0].message,
            "shape mismatch: attention %att.0: 12 query heads cannot share 5 kv heads evenly");
}

TEST(IrVerifier, KvLenBeyondTheCache) {
  auto g = testing::qwen2_step();
  g.kv_len = 5000;
  EXPECT_EQ(verify(g).size(), 2u);  // one per layer's attention
  EXPECT_NE(verify(g)[0].message.find("kv_len = 5000 exceeds the cache length 4096"),
            std::string::npos);
}

TEST(IrVerifier, UseBeforeDefinitionAfterAReorder) {
  auto g = testing::qwen2_step();
  auto& bricks = g.bricks();
  // A bad scheduling pass: the FFN down projection moved ahead of its input.
  auto down = std::find_if(bricks.begin(), bricks.end(),
                           [&](const Brick& b) { return g.value(b.results[0]).name == "down.0"; });
  std::rotate(down - 1, down, down + 1);
  EXPECT_EQ(only_error(g), "use before definition: matvec %down.0: %act.0 is defined later");
}

TEST(IrVerifier, RedefinitionByTwoBricks) {
  auto g = testing::qwen2_step();
  defining(g, "x1.1").results[0] = *g.find("x1.0");
  auto ds = verify(g);
  ASSERT_GE(ds.size(), 1u);
  EXPECT_EQ(ds[0].message, "redefinition: add %x1.0: %x1.0 is already defined");
}

TEST(IrVerifier, WrongOperandCountMissingAndUnknownAttribute) {
  auto g = testing::qwen2_step();
  defining(g, "q.0").operands.pop_back();  // drops v's bias
  defining(g, "h2.1").attrs.erase("eps");
  defining(g, "qr.1").attrs["eps"] = 1e-5f;
  auto ds = verify(g);
  ASSERT_EQ(ds.size(), 3u) << format(ds, "g");
  EXPECT_EQ(ds[0].message,
            "wrong operand count: qkv %q.0: expects 4 or 7 operands (x, q weight, k weight, "
            "v weight, q bias, k bias, v bias), found 6");
  EXPECT_EQ(ds[1].message, "unknown attribute: rope %qr.1: rope takes no attribute 'eps'");
  EXPECT_EQ(ds[2].message, "missing attribute: rmsnorm %h2.1: needs 'eps' (a number)");
}

TEST(IrVerifier, AttentionReadsTheAppendedCachesAndEachCacheIsAppendedOnce) {
  auto g = testing::qwen2_step();
  // Reading the state itself would miss this step's k and v.
  defining(g, "att.1").operands[1] = *g.find("kcache.1");
  // Appending layer 0's v into layer 1's cache as well.
  defining(g, "kc.1").operands[4] = *g.find("vcache.0");
  auto ds = verify(g);
  ASSERT_EQ(ds.size(), 2u) << format(ds, "g");
  EXPECT_EQ(ds[0].message,
            "cache use: attention %att.1: k cache %kcache.1 must be the k cache returned by "
            "kv_append or rope_kv_append (the cache including this step's position)");
  EXPECT_EQ(ds[1].message,
            "cache use: kv_append %kc.1: state %vcache.0 is already appended to by kv_append "
            "%kc.0; a step appends to each cache once");
}

TEST(IrVerifier, RealAttributesArePositiveAndBudgetsFinite) {
  auto g = testing::qwen2_step();
  defining(g, "h.0").attrs["eps"] = -1e-6f;
  defining(g, "h.1").budget_us = -2.0;
  auto ds = verify(g);
  ASSERT_EQ(ds.size(), 2u) << format(ds, "g");
  EXPECT_EQ(ds[0].message,
            "bad attribute: rmsnorm %h.0: 'eps' must be positive and finite, found -1e-06");
  EXPECT_EQ(ds[1].message,
            "bad attribute: rmsnorm %h.1: budget_us must be a finite number of µs, found -2");
}

TEST(IrVerifier, ResultTypeMustMatchTheOperands) {
  auto g = testing::qwen2_step();
  g.value(*g.find("logits")).type = f32(151000);
  auto ds = verify(g);
  ASSERT_GE(ds.size(), 1u);
  EXPECT_EQ(ds[0].message,
            "result type: lm_head %logits: result %logits must be f32[151936], found f32[151000]");
}

TEST(IrVerifier, Int8ActivationsFeedMatvecsOnly) {
  Graph g;
  Builder b(g);
  auto x = b.input("x", f32(256));
  auto nw = b.weight("nw", f32(256));
  auto w = b.weight("w", TensorType{DType::Q4_0, Shape{{256, 64}}});
  auto xq = b.rmsnorm("xq", x, nw, 1e-6f, kInt8Activations);
  b.matvec("y", xq, w);
  EXPECT_TRUE(verify(g).empty());
  b.add("z", xq, xq);
  EXPECT_EQ(only_error(g), "wrong type: add %z: a %xq : q8_1[256] must be f32");
}

TEST(IrVerifier, VerifyOrFailListsEveryProblem) {
  auto g = testing::qwen2_step();
  EXPECT_NO_THROW(verify_or_fail(g, "qwen2"));
  defining(g, "h2.0").attrs.clear();
  defining(g, "h2.1").attrs.clear();
  try {
    verify_or_fail(g, "after fuse");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "after fuse: error: missing attribute: rmsnorm %h2.0: needs 'eps' (a number)\n"
                 "after fuse: error: missing attribute: rmsnorm %h2.1: needs 'eps' (a number)");
  }
}

// What a buggy pass might do: random operand, result and attribute edits. The verifier
// must report rather than crash, and the printer must print whatever it is given.
TEST(IrVerifier, RandomRewritesAreReportedNotCrashed) {
  const unsigned seed = std::random_device{}();
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  std::mt19937 rng(seed);
  int caught = 0;
  for (int round = 0; round < 200; ++round) {
    auto g = testing::qwen2_step();
    auto& bricks = g.bricks();
    auto any_value = [&] { return ValueId{static_cast<uint32_t>(rng() % g.value_count())}; };
    for (int e = 0; e < 3; ++e) {
      Brick& b = bricks[rng() % bricks.size()];
      switch (rng() % 6) {
        case 0:
          if (!b.operands.empty()) b.operands[rng() % b.operands.size()] = any_value();
          break;
        case 1:
          if (!b.operands.empty()) b.operands.pop_back();
          break;
        case 2:
          b.operands.push_back(any_value());
          break;
        case 3:
          if (!b.results.empty()) b.results.pop_back();
          break;
        case 4:
          b.attrs["head_dim"] = static_cast<int64_t>(rng() % 5) - 1;
          break;
        default:
          std::swap(b, bricks[rng() % bricks.size()]);
          break;
      }
    }
    auto ds = verify(g);
    caught += !ds.empty();
    for (const auto& d : ds) EXPECT_FALSE(d.message.empty());
    EXPECT_FALSE(print(g).empty());
  }
  EXPECT_GT(caught, 150);  // a few edits may leave a valid graph (e.g. swapping equal kinds)
}

TEST(IrVerifier, ParsedDiagnosticsCarryLineAndColumn) {
  const char* text =
      "input %x : f32[256]\n"
      "weight %w : q4_K[256, 64]\n"
      "layer 0 {\n"
      "  %y = matvec %x, %w : f32[65]\n"
      "}\n";
  auto r = parse(text, 10);
  ASSERT_TRUE(r.ok());
  auto ds = verify(r.graph);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(
      format(ds[0], "f.brick"),
      "f.brick:13:3: error: result type: matvec %y: result %y must be f32[64], found f32[65]");
}

}  // namespace
}  // namespace brickc::ir
