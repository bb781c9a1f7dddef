// runtime/bench/protocol: run_bench on a scripted Decoder that records every call: the
// prompt it gets, that each decode feeds back the previous argmax, that warm-up
// repetitions run but are not reported, that each repetition starts from an empty cache
// (filled to the depth, untimed, with -d), and that the reported rates and summaries
// follow from the recorded step times.
#include "runtime/bench/protocol.h"

#include <gtest/gtest.h>

#include <chrono>
#include <numeric>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "ir/error.h"

namespace bb = brickc::bench;
namespace rt = brickc::runtime;

namespace {

using namespace std::chrono_literals;

class ScriptedDecoder : public rt::Decoder {
 public:
  ScriptedDecoder(int64_t n_ctx, int32_t n_vocab) : n_ctx_(n_ctx), n_vocab_(n_vocab) {}
  int64_t n_ctx() const override { return n_ctx_; }
  int64_t n_past() const override { return n_past_; }
  void prefill(std::span<const int32_t> tokens) override {
    prefill_at.push_back(n_past_);
    prefills.emplace_back(tokens.begin(), tokens.end());
    n_past_ += static_cast<int64_t>(tokens.size());
    if (n_past_ > n_ctx_) ++overflows;
    std::this_thread::sleep_for(prefill_delay + per_token_delay * tokens.size());
    evaluated = true;
  }
  void decode(int32_t token) override {
    // Greedy decoding feeds back exactly what argmax() last returned, and never decodes
    // before reading a token.
    if (!last_argmax || token != *last_argmax) ++wrong_feedback;
    last_argmax.reset();
    ++decodes;
    decode_at.push_back(n_past_);
    ++n_past_;
    if (n_past_ > n_ctx_) ++overflows;
    std::this_thread::sleep_for(decode_delay);
    evaluated = true;
  }
  void reset() override {
    ++resets;
    n_past_ = 0;
    last_argmax.reset();
  }
  void rewind(int64_t) override { ADD_FAILURE() << "the benchmark never keeps part of a cache"; }
  std::span<const float> logits() override {
    ADD_FAILURE() << "the benchmark must not read logits (the GPU reads back one int)";
    return {};
  }
  int32_t argmax() override {
    ++argmaxes;
    if (!evaluated) ++argmax_without_eval;
    evaluated = false;
    // Any deterministic, position-dependent valid id.
    last_argmax = static_cast<int32_t>((n_past_ * 7919 + 13) % n_vocab_);
    return *last_argmax;
  }

  std::chrono::microseconds prefill_delay{0}, decode_delay{0};
  std::chrono::microseconds per_token_delay{0};  // more per prefilled token
  std::vector<std::vector<int32_t>> prefills;
  std::vector<int64_t> prefill_at, decode_at;  // n_past at each call
  int resets = 0, decodes = 0, argmaxes = 0, wrong_feedback = 0, overflows = 0;
  int argmax_without_eval = 0;

 private:
  int64_t n_ctx_, n_past_ = 0;
  int32_t n_vocab_;
  std::optional<int32_t> last_argmax;
  bool evaluated = false;
};

TEST(BenchProtocol, CallsRepsWarmupAndFeedback) {
  constexpr int32_t kVocab = 1000;
  ScriptedDecoder d(64, kVocab);
  d.prefill_delay = 2ms;
  d.decode_delay = 300us;
  bb::BenchSettings s;
  s.n_prompt = 24;
  s.n_gen = 5;
  s.reps = 3;
  s.warmup = 2;
  const bb::BenchResult r = bb::run_bench(d, s, kVocab, 42);
  const int runs = s.warmup + s.reps;

  // Per repetition: the prompt, then generation from an empty cache, starting with one
  // token (the prompt's first), as llama-bench's pp and tg tests.
  ASSERT_EQ(d.prefills.size(), static_cast<size_t>(2 * runs));
  for (size_t i = 0; i < d.prefills.size(); ++i) {
    EXPECT_EQ(d.prefill_at[i], 0) << "prefill " << i << " did not start from an empty cache";
    if (i % 2 == 1) {
      EXPECT_EQ(d.prefills[i], std::vector<int32_t>{d.prefills[0][0]});
      continue;
    }
    ASSERT_EQ(d.prefills[i].size(), static_cast<size_t>(s.n_prompt));
    EXPECT_EQ(d.prefills[i], d.prefills[0]) << "every repetition sees the same prompt";
    for (int32_t t : d.prefills[i]) EXPECT_TRUE(t >= 0 && t < kVocab) << t;
  }
  // Random ids: not all the same.
  EXPECT_GT(std::set<int32_t>(d.prefills[0].begin(), d.prefills[0].end()).size(), 1u);
  EXPECT_EQ(d.decodes, runs * (s.n_gen - 1));
  EXPECT_EQ(d.argmaxes, runs * (s.n_gen + 1));
  EXPECT_EQ(d.wrong_feedback, 0);
  EXPECT_EQ(d.argmax_without_eval, 0);
  EXPECT_EQ(d.overflows, 0);
  EXPECT_GE(d.resets, runs);
  EXPECT_EQ(d.n_past(), 0) << "the cache is left empty";

  ASSERT_EQ(r.reps.size(), static_cast<size_t>(s.reps));
  ASSERT_EQ(r.prefill_tps.size(), static_cast<size_t>(s.reps));
  ASSERT_EQ(r.decode_tps.size(), static_cast<size_t>(s.reps));
  ASSERT_EQ(r.ttft_ms.size(), static_cast<size_t>(s.reps));
  ASSERT_EQ(r.token_ms.size(), static_cast<size_t>(s.reps * s.n_gen));
  for (int i = 0; i < s.reps; ++i) {
    const bb::RepTiming& t = r.reps[i];
    ASSERT_EQ(t.step_s.size(), static_cast<size_t>(s.n_gen));
    // sleep_for sleeps at least as long as asked: the clocks enclose the calls.
    EXPECT_GE(t.ttft_s, 2e-3);
    for (int k = 0; k < s.n_gen; ++k) {
      EXPECT_GE(t.step_s[k], 300e-6);
      EXPECT_DOUBLE_EQ(r.token_ms[i * s.n_gen + k], t.step_s[k] * 1e3);
    }
    const double decode_s = std::accumulate(t.step_s.begin(), t.step_s.end(), 0.0);
    EXPECT_DOUBLE_EQ(r.decode_tps[i], s.n_gen / decode_s);
    EXPECT_DOUBLE_EQ(r.prefill_tps[i], s.n_prompt / t.ttft_s);
    EXPECT_DOUBLE_EQ(r.ttft_ms[i], t.ttft_s * 1e3);
  }
  EXPECT_DOUBLE_EQ(r.decode.median, bb::summarize(r.decode_tps).median);
  EXPECT_DOUBLE_EQ(r.prefill.mean, bb::summarize(r.prefill_tps).mean);
  EXPECT_DOUBLE_EQ(r.ttft.max, bb::summarize(r.ttft_ms).max);
  EXPECT_DOUBLE_EQ(r.token_latency.p99, bb::summarize(r.token_ms).p99);
  EXPECT_EQ(r.token_latency.n, static_cast<size_t>(s.reps * s.n_gen));
}

// -d: each pp and tg test starts from a cache filled with `depth` random tokens (the same
// every time), and only what follows is timed: the prompt at positions depth.., the decode
// steps at depth..depth+n_gen-1.
TEST(BenchProtocol, DepthFillsTheCacheBeforeTheClock) {
  constexpr int32_t kVocab = 1000;
  bb::BenchSettings s;
  s.n_prompt = 4;
  s.n_gen = 3;
  s.reps = 2;
  s.warmup = 1;
  s.depth = 40;
  ScriptedDecoder d(s.depth + s.n_prompt + s.n_gen, kVocab);
  // Filling the cache takes 40 x 5 ms; a timed prefill of the prompt 4 x 5 ms.
  d.per_token_delay = 5ms;
  const bb::BenchResult r = bb::run_bench(d, s, kVocab, 42);
  const int runs = s.warmup + s.reps;

  // Per repetition: context, prompt, context, the first generated token.
  ASSERT_EQ(d.prefills.size(), static_cast<size_t>(4 * runs));
  const std::vector<int32_t>& context = d.prefills[0];
  ASSERT_EQ(context.size(), static_cast<size_t>(s.depth));
  EXPECT_GT(std::set<int32_t>(context.begin(), context.end()).size(), 1u) << "random ids";
  for (size_t i = 0; i < d.prefills.size(); ++i) {
    switch (i % 4) {
      case 0:
      case 2:
        EXPECT_EQ(d.prefill_at[i], 0) << "the context fills an empty cache (call " << i << ")";
        EXPECT_EQ(d.prefills[i], context) << "the same context every time (call " << i << ")";
        break;
      case 1:
        EXPECT_EQ(d.prefill_at[i], s.depth) << "the prompt follows the context";
        EXPECT_EQ(d.prefills[i].size(), static_cast<size_t>(s.n_prompt));
        break;
      case 3:
        EXPECT_EQ(d.prefill_at[i], s.depth) << "generation starts after the context";
        EXPECT_EQ(d.prefills[i].size(), 1u);
        break;
    }
  }
  // Without a depth the same seed gives the same prompt: the context is drawn after it.
  ScriptedDecoder flat(64, kVocab);
  bb::BenchSettings s0 = s;
  s0.depth = 0;
  s0.reps = 1;
  s0.warmup = 0;
  bb::run_bench(flat, s0, kVocab, 42);
  EXPECT_EQ(flat.prefills[0], d.prefills[1]);

  ASSERT_EQ(d.decode_at.size(), static_cast<size_t>(runs * (s.n_gen - 1)));
  for (size_t i = 0; i < d.decode_at.size(); ++i)
    EXPECT_EQ(d.decode_at[i], s.depth + 1 + static_cast<int64_t>(i % (s.n_gen - 1)));
  EXPECT_EQ(d.wrong_feedback, 0);
  EXPECT_EQ(d.argmax_without_eval, 0) << "each fill is read back before the clock starts";
  EXPECT_EQ(d.overflows, 0);
  EXPECT_EQ(d.n_past(), 0) << "the cache is left empty";

  ASSERT_EQ(r.reps.size(), static_cast<size_t>(s.reps));
  for (const bb::RepTiming& t : r.reps) {
    EXPECT_GE(t.ttft_s, 20e-3);
    // The 200 ms fill is outside both clocks (the margin absorbs a loaded machine).
    EXPECT_LT(t.ttft_s, 150e-3);
    ASSERT_EQ(t.step_s.size(), static_cast<size_t>(s.n_gen));
    EXPECT_LT(t.step_s[0], 150e-3);
  }
}

TEST(BenchProtocol, SeedChoosesThePrompt) {
  bb::BenchSettings s;
  s.n_prompt = 32;
  s.n_gen = 1;
  s.reps = 1;
  s.warmup = 0;
  ScriptedDecoder a(64, 50000), b(64, 50000), c(64, 50000);
  bb::run_bench(a, s, 50000, 7);
  bb::run_bench(b, s, 50000, 7);
  bb::run_bench(c, s, 50000, 8);
  EXPECT_EQ(a.prefills[0], b.prefills[0]);
  EXPECT_NE(a.prefills[0], c.prefills[0]);
}

TEST(BenchProtocol, ContextExactlyFullIsAllowed) {
  bb::BenchSettings s;
  s.n_prompt = 10;
  s.n_gen = 6;
  s.reps = 1;
  s.warmup = 0;
  ScriptedDecoder d(16, 100);
  bb::run_bench(d, s, 100, 1);
  EXPECT_EQ(d.overflows, 0);
}

TEST(BenchProtocol, Errors) {
  ScriptedDecoder d(16, 100);
  bb::BenchSettings s;
  s.n_prompt = 12;
  s.n_gen = 5;
  try {
    bb::run_bench(d, s, 100, 1);
    FAIL() << "expected an error";
  } catch (const brickc::Error& e) {
    EXPECT_STREQ(e.what(),
                 "bench: prompt (12 tokens) + generation (5 tokens) = 17 positions exceed the "
                 "context length 16");
  }
  EXPECT_TRUE(d.prefills.empty()) << "nothing runs when the settings are wrong";
  s.n_prompt = 4;
  s.reps = 0;
  EXPECT_THROW(bb::run_bench(d, s, 100, 1), brickc::Error);
  s.reps = 1;
  s.warmup = -1;
  EXPECT_THROW(bb::run_bench(d, s, 100, 1), brickc::Error);
  s.warmup = 0;
  s.n_gen = 0;
  EXPECT_THROW(bb::run_bench(d, s, 100, 1), brickc::Error);
  s.n_gen = 1;
  EXPECT_THROW(bb::run_bench(d, s, 0, 1), brickc::Error);
  s.depth = -1;
  EXPECT_THROW(bb::run_bench(d, s, 100, 1), brickc::Error);
  s.depth = 12;  // 12 + 4 + 1 > 16
  try {
    bb::run_bench(d, s, 100, 1);
    FAIL() << "expected an error";
  } catch (const brickc::Error& e) {
    EXPECT_STREQ(e.what(),
                 "bench: depth (12 tokens) + prompt (4 tokens) + generation (1 tokens) = 17 "
                 "positions exceed the context length 16");
  }
  EXPECT_TRUE(d.prefills.empty());
}

}  // namespace

// --stat-check: a rate's CV above 5 % or a latency p99 above 2 x p50 is named; a steady
// result passes. The summaries are computed here from fresh random samples.
TEST(BenchProtocol, StabilityProblems) {
  std::mt19937 rng(std::random_device{}());
  std::normal_distribution<double> steady(1000.0, 5.0), noisy(1000.0, 150.0);
  std::vector<double> good(20), bad(20), lat(200);
  for (double& v : good) v = steady(rng);
  for (double& v : bad) v = noisy(rng);
  for (double& v : lat) v = 1.0 + std::uniform_real_distribution<double>(0.0, 0.05)(rng);

  bb::BenchResult r;
  r.prefill = bb::summarize(good);
  r.decode = bb::summarize(good);
  r.token_latency = bb::summarize(lat);
  EXPECT_TRUE(bb::stability_problems(r).empty());

  r.decode = bb::summarize(bad);  // CV about 15 %
  auto p = bb::stability_problems(r);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p[0].find("decode tok/s varies"), std::string::npos) << p[0];

  lat.back() = lat.at(100) = lat.at(50) = 10.0;  // a tail past 2 x p50 at p99
  r.token_latency = bb::summarize(lat);
  ASSERT_GT(r.token_latency.p99, 2 * r.token_latency.p50);
  p = bb::stability_problems(r);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_NE(p[1].find("p99"), std::string::npos) << p[1];
}
