// The megakernel (kernels/megakernel.cuh) against the per-brick CUDA graph it is built
// from: the same kernel bodies on the same inputs, so every decode step's logits and argmax
// must be bit-identical; against the f32 CPU reference by mean KL and top-1 (>= 99 % pooled
// over a test's models, >= 96 % for each). A task whose
// producer never runs must end the step with an error naming it, not hang. Tracing gives
// every brick a time in both engines, and phases that hold what the kernels' order
// guarantees.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <random>

#include "ir/error.h"
#include "runtime/cpu/forward.h"
#include "runtime/cuda/executor.h"
#include "runtime/cuda/model.h"
#include "runtime/cuda/trace_span.h"
#include "runtime/decode_graph.h"
#include "test/gpu/gpu_test_util.h"
#include "test/unit/tiny_qwen2.h"

namespace brickc {
namespace {

using synth::QuantMix;
using testing::Logits;

constexpr int64_t kCtx = 512;
constexpr int kSteps = 96;

// Every decode step's logits, one token at a time (n_ubatch 1: no T-token graph), and the
// device's argmax of each step.
Logits decode_logits(const gguf::File& f, const std::vector<int32_t>& tokens, bool megakernel,
                     std::vector<int32_t>& argmax) {
  cuda::ModelOptions o;
  o.n_ctx = kCtx;
  o.n_ubatch = 1;
  o.megakernel = megakernel;
  auto m = cuda::open_model(f, o);
  Logits out;
  for (int32_t t : tokens) {
    m->decode(t);
    const auto l = m->logits();
    out.emplace_back(l.begin(), l.end());
    argmax.push_back(m->argmax());
  }
  return out;
}

// Agreement with the CPU reference, pooled over the models of a test: a near-tie may flip
// one of a model's 96 steps (the per-brick graph flips it alike: the logits are identical).
struct Pooled {
  double kl_sum = 0;
  int top1 = 0, n = 0;
};

void check_model(const gguf::File& f, Pooled& pool) {
  SCOPED_TRACE(f.path());
  const auto n_vocab = static_cast<uint32_t>(f.tensor("token_embd.weight").ne[1]);
  std::mt19937 rng(std::random_device{}());
  std::vector<int32_t> tokens(kSteps);
  for (auto& t : tokens) t = static_cast<int32_t>(rng() % n_vocab);
  std::vector<int32_t> arg_graph, arg_mega;
  const Logits graph = decode_logits(f, tokens, false, arg_graph);
  const Logits mega = decode_logits(f, tokens, true, arg_mega);
  ASSERT_EQ(mega.size(), graph.size());
  int differing = 0;
  for (size_t i = 0; i < mega.size(); ++i)
    differing += std::memcmp(mega[i].data(), graph[i].data(), mega[i].size() * 4) != 0;
  EXPECT_EQ(differing, 0) << "steps whose megakernel logits differ from the per-brick graph's";
  EXPECT_EQ(arg_mega, arg_graph);
  for (size_t i = 0; i < mega.size(); ++i) EXPECT_EQ(arg_mega[i], testing::first_max(mega[i])) << i;

  Logits ref;
  cpu::Qwen2Model cpu(f, {static_cast<int>(std::max(1u, std::thread::hardware_concurrency())), kCtx});
  cpu.prefill(tokens, [&](int64_t, std::span<const float> l) { ref.emplace_back(l.begin(), l.end()); });
  const testing::Agreement a = testing::agreement(ref, mega);
  std::printf("  %s: megakernel vs CPU f32 over %d steps: mean KL %.3g, top-1 %.2f%%\n",
              f.path().c_str(), kSteps, a.mean_kl, 100 * a.top1);
  EXPECT_LT(a.mean_kl, 1e-3);
  EXPECT_GE(a.top1, 0.96);
  pool.kl_sum += a.mean_kl * kSteps;
  pool.top1 += static_cast<int>(std::lround(a.top1 * kSteps));
  pool.n += kSteps;
}

void check_pooled(const Pooled& p) {
  std::printf("  pooled over %d steps: mean KL %.3g, top-1 %.2f%%\n", p.n, p.kl_sum / p.n,
              100.0 * p.top1 / p.n);
  EXPECT_LT(p.kl_sum / p.n, 1e-3);
  EXPECT_GE(static_cast<double>(p.top1) / p.n, 0.99);
}

TEST(GpuMegakernel, MatchesThePerBrickGraphBitForBit) {
  BRICKC_REQUIRE_GPU();
  Pooled pool;
  check_model(testing::synth_model("qwen2.5-coder-0.5b", QuantMix::Q4_K_M, 2), pool);
  check_model(testing::synth_model("qwen2.5-coder-0.5b", QuantMix::Q4_0, 1), pool);
  check_model(testing::synth_model("qwen2.5-coder-1.5b", QuantMix::Q8_0, 1), pool);
  check_model(testing::synth_model("qwen2.5-coder-0.5b", QuantMix::F16, 1), pool);
  check_model(testing::synth_model("qwen2.5-coder-7b", QuantMix::Q4_K_M, 1), pool);
  check_pooled(pool);
}

// The formats no quant mix uses (q4_1, q5_1, q5_K, q6_K) in one model.
TEST(GpuMegakernel, OtherFormats) {
  BRICKC_REQUIRE_GPU();
  Pooled pool;
  check_model(*testing::other_formats_model("megakernel_formats.gguf", 2, kCtx), pool);
  check_pooled(pool);
}

// A task planted to wait for a counter no task bumps: the step fails within about the
// bound, naming the task and the counter; without the plant the same graph decodes.
TEST(GpuMegakernel, AMissingProducerIsAnErrorNotAHang) {
  BRICKC_REQUIRE_GPU();
  const gguf::File& f = testing::synth_model("qwen2.5-coder-0.5b", QuantMix::Q4_K_M, 1);
  ir::Graph g = runtime::decode_graph(f, kCtx, std::nullopt, "h200");
  cuda::ExecutorOptions eo;
  eo.megakernel = true;
  eo.task_timeout_s = 0.2;
  eo.hang_task = 5;
  cuda::Executor exec(testing::gpu_context(), f, g, eo);
  const int32_t tok = 17;
  const auto t0 = std::chrono::steady_clock::now();
  try {
    exec.step({&tok, 1}, 0);
    exec.argmax();
    ADD_FAILURE() << "a task without its producer finished";
  } catch (const Error& e) {
    const std::string msg = e.what();
    std::printf("  %s\n", msg.c_str());
    EXPECT_NE(msg.find("task 5 ("), std::string::npos) << msg;
    EXPECT_NE(msg.find("a counter no task bumps"), std::string::npos) << msg;
    EXPECT_NE(msg.find("waited more than 0.2 s"), std::string::npos) << msg;
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(s, 5.0) << "the fault took " << s << " s to surface";
  EXPECT_GE(s, 0.2);

  cuda::ExecutorOptions ok = eo;
  ok.hang_task.reset();
  cuda::Executor good(testing::gpu_context(), f, g, ok);
  for (int64_t pos = 0; pos < 4; ++pos) {
    good.step({&tok, 1}, pos);
    EXPECT_GE(good.argmax(), 0);
  }
}

// Tracing, in the megakernel as in the per-brick graph: every brick of a step gets a time.
// Its phases (cuda/trace_span.h): prologue and tail lie within the brick's time and no
// block waited longer than the step; in the per-brick graph a kernel's blocks start only
// after its predecessor ended (griddepcontrol.wait), so no handoff is negative. A step's
// bricks and handoffs add up to its first start to its last end (each handoff spans the
// gap from one brick's end to the next one's start), which the host's clock around the
// step contains.
TEST(GpuTrace, PhasesOfEachBrickInBothEngines) {
  BRICKC_REQUIRE_GPU();
  const gguf::File& f = testing::synth_model("qwen2.5-coder-0.5b", QuantMix::Q4_K_M, 2);
  for (bool megakernel : {false, true}) {
    SCOPED_TRACE(megakernel ? "megakernel" : "graph");
    cuda::ModelOptions o;
    o.n_ctx = kCtx;
    o.n_ubatch = 1;
    o.megakernel = megakernel;
    o.trace = true;
    auto m = cuda::open_model(f, o);
    for (int32_t t : {1, 2, 3}) m->decode(t);
    (void)m->argmax();  // the step is done before the clock starts
    const auto t0 = std::chrono::steady_clock::now();
    m->decode(4);
    const runtime::Decoder::BrickTimes t = m->last_brick_times();  // waits for the step
    const double wall_us =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
    const size_t n = m->profiled_graph()->bricks().size();
    ASSERT_EQ(t.us.size(), n);
    ASSERT_EQ(t.phases.size(), n);
    double span_us = 0, prologues = 0;
    for (size_t b = 0; b < n; ++b) {
      EXPECT_GT(t.us[b], 0.0) << "brick " << b << " has no time";
      EXPECT_LT(t.us[b], 10000.0) << "brick " << b;
      const bench::BrickPhases& p = t.phases[b];
      EXPECT_LE(p.lead_us, wall_us) << "brick " << b;  // the entry stamp widened right
      EXPECT_LE(p.prologue_us, t.us[b] + 1e-3) << "brick " << b;
      EXPECT_LE(p.tail_us, t.us[b] + 1e-3) << "brick " << b;
      if (!megakernel) {
        EXPECT_GE(p.handoff_us, 0.0) << "brick " << b;
      }
      span_us += t.us[b] + p.handoff_us;
      prologues += p.prologue_us;
    }
    EXPECT_EQ(t.phases[0].handoff_us, 0.0);
    EXPECT_GT(prologues, 0.0) << "the matrix bricks stamp their prologues";
    EXPECT_GT(span_us, 0.0);
    EXPECT_LE(span_us, wall_us);
    // The same step block by block (bench --trace-blocks): each launch's blocks, stamped in
    // order, give back the bricks' times.
    const std::vector<bench::LaunchStamps> stamps = m->last_launch_stamps();
    ASSERT_FALSE(stamps.empty());
    std::vector<double> us(n, 0.0);
    for (const bench::LaunchStamps& l : stamps) {
      ASSERT_LT(l.brick, n);
      ASSERT_EQ(l.slots.size() % cuda::kTraceSlots, 0u) << l.kernel;
      for (size_t i = 0; i < l.slots.size(); i += cuda::kTraceSlots) {
        const uint64_t* s = &l.slots[i];
        if (!cuda::block_ran(s)) continue;
        EXPECT_LE(s[0], s[1]) << l.kernel;
        EXPECT_LE(s[1], s[2]) << l.kernel;
        EXPECT_LE(s[2], s[3]) << l.kernel;
      }
      us[l.brick] += cuda::launch_span(l.slots, 0).us;
    }
    for (size_t b = 0; b < n; ++b) EXPECT_DOUBLE_EQ(us[b], t.us[b]) << "brick " << b;
  }
}

}  // namespace
}  // namespace brickc
