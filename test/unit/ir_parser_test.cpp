// The parser: syntax errors name the position and what was expected; no input makes it
// crash or hang (mutated IR text is fed through parse, verify and print).
#include <gtest/gtest.h>

#include <cstdio>
#include <random>

#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "test/unit/ir_test_graphs.h"

namespace brickc::ir {
namespace {

std::string error_of(std::string_view text) {
  auto r = parse(text);
  EXPECT_FALSE(r.ok()) << text;
  return r.ok() ? "" : format(r.errors[0], "t");
}

TEST(IrParser, SyntaxErrors) {
  EXPECT_EQ(error_of("input %x : f32[4]\n%y = matmul %x : f32[4]"),
            "t:2:6: error: unknown brick kind 'matmul'");
  EXPECT_EQ(error_of("input %x : f33[4]"), "t:1:12: error: unknown element type 'f33'");
  EXPECT_EQ(error_of("input %x : f32[0]"),
            "t:1:16: error: bad shape: dimension 0 must be positive");
  EXPECT_EQ(error_of("input %x : f32[1048576, 1048576, 2]"),
            "t:1:34: error: bad shape: more than 2^40 elements");
  EXPECT_EQ(error_of("input %x : f32[99999999999999999999]"),
            "t:1:16: error: integer 99999999999999999999 is out of range");
  EXPECT_EQ(error_of("input %x : f32[4]\n%y = add %x, %z : f32[4]"),
            "t:2:14: error: undefined value: %z is never defined");
  EXPECT_EQ(error_of("input %x : f32[4]\n%y = add %x, %x : f32[4]\n  %y = add %x, %x : f32[4]"),
            "t:3:3: error: redefinition: add: %y is already defined at 2:1");
  EXPECT_EQ(error_of("input %x : f32[4]\nweight %x : f32[4]"),
            "t:2:8: error: redefinition: weight: %x is already defined at 1:7");
  EXPECT_EQ(error_of("input %x : f32[4]\n%y = add %x, %x {eps = 1e} : f32[4]"),
            "t:2:24: error: malformed number '1e': the exponent has no digits");
  EXPECT_EQ(error_of("input %x : f32[4]\n%y, %z = add %x, %x : f32[4]"),
            "t:2:1: error: add names 2 results but gives 1 type");
  EXPECT_EQ(error_of("layer 0 {\n input %x : f32[4]\n}"),
            "t:2:2: error: declarations go outside layer blocks");
  EXPECT_EQ(error_of("input %x : f32[4] $"), "t:1:19: error: unexpected character '$'");
  EXPECT_EQ(error_of("weight %w : f32[4] = \"abc"), "t:1:22: error: unterminated string");
  EXPECT_EQ(error_of("input %x : f32[4]\ngraph @g"),
            "t:2:1: error: the graph header must be the first line");
  EXPECT_EQ(error_of("graph @g {kv_len = 1.5}"), "t:1:20: error: kv_len must be an integer");
  EXPECT_EQ(error_of("input %x : f32[4]\n%y = add %x, %x {eps = 1e39} : f32[4]"),
            "t:2:24: error: number 1e39 is out of range for f32");
}

TEST(IrParser, ForwardReferencesAreResolvedAndThenVerified) {
  // Weights may be declared after their use; a brick result may not be used before it.
  auto r = parse(
      "input %x : f32[256]\n%y = rmsnorm %x, %w {eps = 1e-5} : f32[256]\nweight %w : f32[256]\n");
  ASSERT_TRUE(r.ok()) << format(r.errors, "t");
  EXPECT_TRUE(verify(r.graph).empty());
  EXPECT_EQ(r.graph.value(*r.graph.find("w")).kind, ValueKind::Weight);
}

TEST(IrParser, IntegerWrittenForARealAttribute) {
  auto r = parse(
      "input %x : f32[128]\ninput %p : i32[1]\n%y = rope %x, %p {head_dim = 64, theta = 1000000} : "
      "f32[128]");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.graph.bricks()[0].attrs.at("theta"), Attr{1e6f});
  EXPECT_NE(print(r.graph).find("{head_dim = 64, theta = 1000000.0}"), std::string::npos);
}

// Random byte edits of a valid graph: whatever parses and verifies must print to a fixed
// point; nothing may crash. The seed is printed so a failure can be replayed.
TEST(IrParser, MutatedTextNeverCrashes) {
  const std::string valid = print(testing::qwen2_step());
  const unsigned seed = std::random_device{}();
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  std::mt19937 rng(seed);
  const std::string alphabet = "%@{}[],:=\"\\/-.0123456789eqkvf_ \n";
  int accepted = 0;
  for (int round = 0; round < 300; ++round) {
    std::string text = valid;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      size_t at = rng() % text.size();
      switch (rng() % 3) {
        case 0:
          text[at] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          text.erase(at, 1 + rng() % 8);
          break;
        default:
          text.insert(at, 1, static_cast<char>(rng() % 256));
          break;
      }
    }
    auto r = parse(text);
    if (!r.ok() || !verify(r.graph).empty()) continue;
    ++accepted;
    std::string once = print(r.graph);
    auto again = parse(once);
    ASSERT_TRUE(again.ok()) << format(again.errors, "reprinted");
    EXPECT_EQ(print(again.graph), once);
  }
  std::printf("mutations accepted (still valid IR): %d of 300\n", accepted);
}

}  // namespace
}  // namespace brickc::ir
