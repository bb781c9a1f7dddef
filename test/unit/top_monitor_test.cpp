// brickc top's generator (runtime/top/monitor) on a synthesized test-tiny model on the CPU:
// the step counts, the window (and its cache length, which bytes and budgets are costed at),
// restarts when the context fills, verified steps (and a planted wrong kernel caught by
// them), a generator error captured instead of thrown, and stopping joins the thread.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "ir/cost.h"
#include "ir/error.h"
#include "runtime/cpu/executor.h"
#include "runtime/top/frame.h"
#include "runtime/top/monitor.h"
#include "test/unit/synth_model.h"

namespace brickc::top {
namespace {

using std::chrono::seconds;

const gguf::File& tiny_model() { return testing::synth_model("test-tiny", synth::QuantMix::Q4_0); }

std::unique_ptr<cpu::GraphModel> model(int64_t n_ctx, std::optional<std::string> fault = {}) {
  cpu::GraphModelOptions o;
  o.n_ctx = n_ctx;
  o.n_threads = 2;
  o.plant_fault = fault;
  return std::make_unique<cpu::GraphModel>(tiny_model(), o);
}

MonitorOptions options() {
  MonitorOptions o;
  o.model = "test-tiny";
  o.device = "cpu";
  o.warmup = 0;
  o.verify_every = 0;
  o.prompt_tokens = 8;
  return o;
}

// A decoder that fails at its `fail_at`-th decode, or that times no bricks.
class Faulty : public runtime::Decoder {
 public:
  Faulty(runtime::Decoder& d, int fail_at, bool timed) : d_(d), fail_at_(fail_at), timed_(timed) {}
  int64_t n_ctx() const override { return d_.n_ctx(); }
  int64_t n_past() const override { return d_.n_past(); }
  void prefill(std::span<const int32_t> t) override { d_.prefill(t); }
  void decode(int32_t token) override {
    if (++decodes_ == fail_at_) fail("planted failure at decode {}", decodes_);
    d_.decode(token);
  }
  void reset() override { d_.reset(); }
  void rewind(int64_t n) override { d_.rewind(n); }
  std::span<const float> logits() override { return d_.logits(); }
  const ir::Graph* profiled_graph() const override {
    return timed_ ? d_.profiled_graph() : nullptr;
  }
  std::vector<double> last_brick_us() override { return d_.last_brick_us(); }

 private:
  runtime::Decoder& d_;
  int fail_at_, decodes_ = 0;
  bool timed_;
};

TEST(TopMonitor, KeepsAWindowOfTimedSteps) {
  auto m = model(256);
  MonitorOptions o = options();
  o.window = 8;
  o.max_samples = 12;
  Monitor mon(*m, tiny_model(), o);
  const Snapshot s = mon.wait_for_samples(12, seconds(60));
  ASSERT_TRUE(s.error.empty()) << s.error;
  EXPECT_FALSE(s.running) << "max_samples stops the generator";
  EXPECT_EQ(s.steps, 12);
  EXPECT_EQ(s.samples, 12);
  EXPECT_EQ(s.restarts, 0);
  ASSERT_TRUE(s.profile.has_value());
  EXPECT_EQ(s.profile->steps, 8u);
  EXPECT_EQ(s.step_us.size(), 8u);
  ASSERT_EQ(s.profile->rows.size(), m->executor().graph().bricks().size());
  for (const auto& row : s.profile->rows) {
    EXPECT_EQ(row.us.n, 8u) << row.kind;
    EXPECT_GE(row.us.min, 0.0) << row.kind;
  }
  for (double us : s.step_us) EXPECT_GT(us, 0.0);
  EXPECT_EQ(s.model, "test-tiny");
  // Bytes and budgets are a step's at the window's mean cache length: 8 prompt positions,
  // then step i attends 8 + i, so the last 8 of 12 steps attend 13 .. 20, 16 on average
  // (rounded down).
  EXPECT_EQ(s.profile->kv_len, 16);
  // Each attention brick reads 15 positions more of K and V than at the graph's own single
  // position: f16 [head_dim, n_kv_heads, ctx] caches.
  const ir::Graph& g = m->executor().graph();
  int checked = 0;
  for (const auto& row : s.profile->rows) {
    const ir::Brick& b = g.bricks()[row.brick];
    if (b.kind != ir::BrickKind::Attention) continue;
    const auto& dims = g.type(b.operands[1]).shape.dims;
    const uint64_t position = 2 * static_cast<uint64_t>(dims[0] * dims[1]) * 2;
    EXPECT_EQ(row.bytes - ir::cost(g, b)->bytes(), 15 * position) << row.value;
    ++checked;
  }
  EXPECT_EQ(checked, 2) << "test-tiny has two layers";
}

TEST(TopMonitor, StartsOverWhenTheContextIsFull) {
  // 8 prompt positions of 16: a restart before every 8th step after the first.
  auto m = model(16);
  MonitorOptions o = options();
  o.max_samples = 20;
  Monitor mon(*m, tiny_model(), o);
  const Snapshot s = mon.wait_for_samples(20, seconds(60));
  ASSERT_TRUE(s.error.empty()) << s.error;
  EXPECT_EQ(s.steps, 20);
  EXPECT_EQ(s.restarts, (20 - 1) / (16 - 8));
}

TEST(TopMonitor, VerifiesEveryNthStepWithoutTimingIt) {
  auto m = model(256);
  MonitorOptions o = options();
  o.warmup = 2;
  o.verify_every = 4;
  o.max_samples = 6;
  Monitor mon(*m, tiny_model(), o);
  const Snapshot s = mon.wait_for_samples(6, seconds(60));
  ASSERT_TRUE(s.error.empty()) << s.error;
  // 2 warm-up steps, then verified, 3 timed, verified, 3 timed.
  EXPECT_EQ(s.steps, 2 + 8);
  EXPECT_EQ(s.verify.steps, 2);
  EXPECT_GT(s.verify.checks, 0);
  EXPECT_EQ(s.verify.failures, 0);
  EXPECT_TRUE(s.non_finite.empty());
  EXPECT_EQ(s.profile->steps, 6u);
}

TEST(TopMonitor, TheAssertionsPanelNamesAPlantedFault) {
  auto m = model(64, "rmsnorm_gate_up_swiglu@1");
  MonitorOptions o = options();
  o.verify_every = 2;
  o.max_samples = 2;
  Monitor mon(*m, tiny_model(), o);
  const Snapshot s = mon.wait_for_samples(2, seconds(60));
  ASSERT_TRUE(s.error.empty()) << s.error;
  EXPECT_EQ(s.verify.failures, s.verify.steps) << "one wrong result per verified step";
  ASSERT_FALSE(s.verify.failed.empty());
  EXPECT_EQ(s.verify.failed[0].kind, "rmsnorm_gate_up_swiglu");
  View v;
  v.panel = Panel::kAssertions;
  bool fail_row = false;
  for (const std::string& line : render(s, v, 100, 40))
    if (line.rfind("  rmsnorm_gate_up_swiglu ", 0) == 0)
      fail_row = line.find("FAIL") != std::string::npos;
  EXPECT_TRUE(fail_row);
}

TEST(TopMonitor, CapturesAGeneratorError) {
  auto m = model(256);
  Faulty f(*m, 5, true);
  Monitor mon(f, tiny_model(), options());
  const Snapshot s = mon.wait_for_samples(1000, seconds(60));
  EXPECT_FALSE(s.running);
  EXPECT_NE(s.error.find("planted failure at decode 5"), std::string::npos) << s.error;
  EXPECT_EQ(s.steps, 4);
}

TEST(TopMonitor, RefusesADecoderThatDoesNotTimeItsBricks) {
  auto m = model(256);
  Faulty f(*m, -1, false);
  EXPECT_THROW(Monitor(f, tiny_model(), options()), Error);
  EXPECT_THROW(Monitor(*model(9), tiny_model(), options()), Error) << "8-token prompt, 9 positions";
}

TEST(TopMonitor, StopJoinsTheGenerator) {
  auto m = model(256);
  Monitor mon(*m, tiny_model(), options());
  EXPECT_TRUE(mon.wait_for_samples(3, seconds(60)).running);
  mon.stop();
  const Snapshot a = mon.snapshot();
  EXPECT_FALSE(a.running);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(mon.snapshot().steps, a.steps) << "no step after stop()";
  mon.stop();    // idempotent
  m->decode(1);  // the decoder is the caller's again
}

}  // namespace
}  // namespace brickc::top
