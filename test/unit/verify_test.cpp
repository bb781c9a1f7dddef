// --verify on the CPU backend (runtime/verify): a verified decode passes every check and
// leaves the logits as an unverified one; a planted wrong kernel in any brick is named,
// and only that brick; Jidoka turns the first failure into an error; the brick specs of
// --plant-fault resolve as documented.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "ir/error.h"
#include "runtime/cpu/executor.h"
#include "runtime/verify.h"
#include "test/unit/synth_model.h"

namespace brickc::runtime {
namespace {

constexpr int64_t kCtx = 32;

const gguf::File& tiny_model() { return testing::synth_model("test-tiny", synth::QuantMix::Q4_0); }

std::vector<int32_t> random_tokens(std::mt19937& rng, size_t n) {
  std::vector<int32_t> t(n);
  for (auto& x : t) x = static_cast<int32_t>(rng() % 4096);
  return t;
}

cpu::GraphModelOptions options() {
  cpu::GraphModelOptions o;
  o.n_ctx = kCtx;
  o.n_threads = 2;
  return o;
}

TEST(Verify, PassesTheReferenceAndLeavesTheLogitsAlone) {
  std::mt19937 rng(std::random_device{}());
  const std::vector<int32_t> tokens = random_tokens(rng, 6);
  cpu::GraphModel plain(tiny_model(), options()), checked(tiny_model(), options());
  Verifier v(tiny_model(), 2);
  v.attach(checked);
  for (size_t i = 0; i < tokens.size(); ++i) {
    plain.decode(tokens[i]);
    checked.decode(tokens[i]);
    const auto a = plain.logits(), b = checked.logits();
    ASSERT_EQ(std::vector<float>(a.begin(), a.end()), std::vector<float>(b.begin(), b.end()))
        << "position " << i;
  }
  size_t results = 0;
  for (const ir::Brick& b : checked.executor().graph().bricks()) results += b.results.size();
  EXPECT_EQ(v.stats().steps, static_cast<int64_t>(tokens.size()));
  EXPECT_EQ(v.stats().checks, static_cast<int64_t>(results * tokens.size()));
  EXPECT_EQ(v.stats().failures, 0);
  ASSERT_TRUE(v.stats().worst.has_value());
  EXPECT_EQ(v.stats().worst->max_abs, 0.0) << describe(*v.stats().worst);
}

// A prompt is one T-token step (the prefill graph), checked brick by brick like a decode
// step: one step, every result of every brick.
TEST(Verify, ChecksTTokenSteps) {
  std::mt19937 rng(std::random_device{}());
  cpu::GraphModel m(tiny_model(), options());
  Verifier v(tiny_model(), 2);
  v.attach(m);
  m.prefill(random_tokens(rng, 5));
  m.decode(7);
  EXPECT_EQ(v.stats().steps, 2);
  EXPECT_GT(v.stats().checks, 0);
  EXPECT_EQ(v.stats().failures, 0);
}

TEST(Verify, NamesAPlantedFaultAndOnlyIt) {
  std::mt19937 rng(std::random_device{}());
  cpu::GraphModel probe_model(tiny_model(), options());
  const cpu::GraphExecutor& probe = probe_model.executor();
  const size_t n_bricks = probe.graph().bricks().size();
  for (int trial = 0; trial < 6; ++trial) {
    const size_t planted = rng() % n_bricks;
    cpu::GraphModelOptions o = options();
    o.plant_fault = "%" + probe.graph().value(probe.graph().bricks()[planted].results[0]).name;
    cpu::GraphModel m(tiny_model(), o);
    Verifier v(tiny_model(), 2);
    v.set_stop_on_failure(false);
    v.attach(m);
    const int steps = 3;  // decode steps: the fault is planted in the decode graph
    for (int32_t t : random_tokens(rng, steps)) m.decode(t);
    const ir::Brick& b = m.executor().graph().bricks()[planted];
    SCOPED_TRACE("planted in brick " + std::to_string(planted) + " " +
                 std::string(ir::keyword(b.kind)));
    // The fault corrupts the first result once per step; downstream bricks read the
    // executor's own (wrong) inputs, so they agree with the reference.
    EXPECT_EQ(v.stats().failures, steps);
    for (const BrickResult& r : v.stats().failed) {
      EXPECT_EQ(r.brick, planted);
      EXPECT_EQ(r.value, m.executor().graph().value(b.results[0]).name);
      EXPECT_EQ(r.layer, b.layer);
    }
  }
}

TEST(Verify, JidokaStopsAtTheFirstFailure) {
  cpu::GraphModelOptions o = options();
  o.plant_fault = "rmsnorm_qkv@1";
  cpu::GraphModel m(tiny_model(), o);
  Verifier v(tiny_model(), 2);
  v.attach(m);
  try {
    m.decode(5);
    FAIL() << "a planted fault passed --verify";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("rmsnorm_qkv %"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(layer 1) at position 0"), std::string::npos) << msg;
    EXPECT_NE(msg.find("> tolerance"), std::string::npos) << msg;
  }
}

TEST(Verify, DetachGivesTheStepsBack) {
  cpu::GraphModel m(tiny_model(), options());
  Verifier v(tiny_model(), 2);
  v.attach(m);
  m.decode(1);
  Verifier::detach(m);
  m.decode(2);
  EXPECT_EQ(v.stats().steps, 1);
}

TEST(FindBrick, ResolvesValuesAndKindsAtLayers) {
  cpu::GraphModel m(tiny_model(), options());
  const ir::Graph& g = m.executor().graph();
  for (size_t i = 0; i < g.bricks().size(); ++i) {
    const ir::Brick& b = g.bricks()[i];
    EXPECT_EQ(g.find_brick("%" + g.value(b.results.back()).name), i);
    const std::string spec = std::string(ir::keyword(b.kind)) +
                             (b.layer >= 0 ? "@" + std::to_string(b.layer) : "");
    const size_t first = g.find_brick(spec);
    EXPECT_LE(first, i);
    EXPECT_EQ(g.bricks()[first].kind, b.kind);
    EXPECT_EQ(g.bricks()[first].layer, b.layer);
  }
  EXPECT_THROW(g.find_brick("%no.such.value"), Error);
  EXPECT_THROW(g.find_brick("matvec_add@x"), Error);
  EXPECT_THROW(g.find_brick("matvec_add@99"), Error);
  EXPECT_THROW(g.find_brick("not_a_kind@0"), Error);
  EXPECT_THROW(g.find_brick("%tok"), Error);  // an input: no brick defines it
}

}  // namespace
}  // namespace brickc::runtime
