// Steps over several sequences on the GPU (cuda::BatchModel, what `serve --parallel` runs):
// three sequences mixed as continuous batching mixes them (prompt chunks beside single
// decode tokens, sequences joining late, caches long enough for attention to split) give
// every row the logits the f32 CPU reference (with the same cache types) gives that
// sequence alone (mean KL, top-1) and the device's argmax of each row its logits' first
// largest, and each sequence run by itself in a fresh batch model, in another cache slot,
// gets bit for bit the logits it got among the others: a request's output does not depend
// on its neighbours. Both head widths: the 0.5B's (64, 14 query heads on 2) and the 7B's
// (128, 28 on 4).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "ir/error.h"
#include "runtime/cpu/executor.h"
#include "runtime/cuda/batch_model.h"
#include "test/gpu/gpu_test_util.h"

namespace brickc {
namespace {

using synth::QuantMix;
using testing::Logits;

constexpr int64_t kCtx = 512, kRows = 64;
constexpr int kSeqs = 3;

// One step: (sequence, how many of its next tokens), at most kRows tokens in all.
using Step = std::vector<std::pair<int, int>>;

// Random steps over sequences of the given lengths: each step takes a decode token or a
// prompt chunk from some of the unfinished sequences; sequence s joins at step s.
std::vector<Step> random_schedule(const std::vector<int>& lengths, std::mt19937& rng) {
  std::vector<int> left = lengths;
  std::vector<Step> steps;
  for (size_t n = 0; std::any_of(left.begin(), left.end(), [](int x) { return x > 0; }); ++n) {
    Step step;
    int rows = 0;
    for (int s = 0; s < kSeqs; ++s) {
      if (left[s] == 0 || static_cast<size_t>(s) > n || rng() % 4 == 0) continue;
      const int want = rng() % 2 ? 1 : 1 + static_cast<int>(rng() % 40);
      const int k = std::min({want, left[s], static_cast<int>(kRows) - rows});
      if (k == 0) continue;
      step.emplace_back(s, k);
      rows += k;
      left[s] -= k;
    }
    if (!step.empty()) steps.push_back(std::move(step));
  }
  return steps;
}

// Runs `steps` on a fresh batch model, sequence s in cache slot slot[s]; every row's
// logits by sequence and position.
std::vector<Logits> run_batch(const gguf::File& f, const std::vector<std::vector<int32_t>>& tokens,
                              const std::vector<Step>& steps, const std::vector<int>& slot,
                              runtime::CacheTypes cache) {
  cuda::ModelOptions o;
  o.n_ctx = kCtx;
  o.cache = cache;
  cuda::BatchModel m(f, o, kSeqs, kRows);
  EXPECT_EQ(m.max_rows(), kRows);
  std::vector<Logits> out(kSeqs);
  for (const Step& step : steps) {
    std::vector<int32_t> tok, seq;
    std::vector<int> owner;
    for (auto [s, k] : step)
      for (int i = 0; i < k; ++i) {
        tok.push_back(tokens[s][out[s].size() + static_cast<size_t>(i)]);
        seq.push_back(slot[s]);
        owner.push_back(s);
      }
    // Rows of one sequence are consecutive and in order, so the next row of s is the
    // position after the ones it has.
    m.step(tok, seq);
    for (size_t r = 0; r < tok.size(); ++r) {
      const auto l = m.logits(r);
      out[owner[r]].emplace_back(l.begin(), l.end());
      EXPECT_EQ(m.argmax(r), testing::first_max(out[owner[r]].back())) << "the device argmax of row " << r;
    }
  }
  for (int s = 0; s < kSeqs; ++s) EXPECT_EQ(m.n_past(slot[s]), static_cast<int64_t>(out[s].size()));
  return out;
}

// The f32 CPU reference's logits at every position of `tokens`, its cache holding K and V
// as `cache` asks (a q8_0 cache rounds them as the GPU's does).
Logits reference_logits(const gguf::File& f, std::span<const int32_t> tokens,
                        runtime::CacheTypes cache) {
  Logits out;
  cpu::GraphModelOptions o;
  o.n_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  o.n_ctx = kCtx;
  o.n_ubatch = kRows;
  o.cache = cache;
  cpu::GraphModel m(f, o, [&](int64_t, std::span<const float> l) { out.emplace_back(l.begin(), l.end()); });
  m.prefill(tokens);
  return out;
}

void check_model(const gguf::File& f, const std::vector<int>& lengths,
                 runtime::CacheTypes cache = {}) {
  const uint32_t seed = std::random_device{}();
  SCOPED_TRACE(::testing::Message() << f.path() << testing::cache_label(cache) << ", seed " << seed);
  std::mt19937 rng(seed);
  const auto n_vocab = static_cast<uint32_t>(f.tensor("token_embd.weight").ne[1]);
  std::vector<std::vector<int32_t>> tokens(kSeqs);
  for (int s = 0; s < kSeqs; ++s)
    for (int i = 0; i < lengths[s]; ++i) tokens[s].push_back(static_cast<int32_t>(rng() % n_vocab));
  const std::vector<Step> steps = random_schedule(lengths, rng);

  const std::vector<Logits> mixed = run_batch(f, tokens, steps, {0, 1, 2}, cache);
  // Top-1 over every row of the three sequences: a random model's near-ties make one
  // sequence's hundred rows too few to tell 99 % (one row is 0.7 %).
  double top1_rows = 0;
  size_t rows = 0;
  for (int s = 0; s < kSeqs; ++s) {
    ASSERT_EQ(mixed[s].size(), tokens[s].size());
    const Logits ref = reference_logits(f, tokens[s], cache);
    const testing::Agreement a = testing::agreement(ref, mixed[s]);
    std::printf("  %s%s sequence %d (%d tokens, %zu steps): vs CPU f32 mean KL %.3g, top-1 %.2f%%\n",
                f.path().c_str(), testing::cache_label(cache).c_str(), s, lengths[s], steps.size(),
                a.mean_kl, 100 * a.top1);
    EXPECT_LT(a.mean_kl, 1e-3) << "sequence " << s;
    top1_rows += a.top1 * static_cast<double>(ref.size());
    rows += ref.size();

    // Alone: only s's rows, in the same steps, in another slot.
    std::vector<Step> own;
    for (const Step& step : steps)
      for (auto [t, k] : step)
        if (t == s) own.push_back({{s, k}});
    std::vector<int> slot = {0, 1, 2};
    slot[s] = (s + 1) % kSeqs;
    slot[(s + 1) % kSeqs] = s;
    const Logits alone = run_batch(f, tokens, own, slot, cache)[s];
    ASSERT_EQ(alone.size(), mixed[s].size());
    for (size_t p = 0; p < alone.size(); ++p)
      ASSERT_EQ(std::memcmp(alone[p].data(), mixed[s][p].data(), alone[p].size() * 4), 0)
          << "sequence " << s << " position " << p << ": alone and batched logits differ";
  }
  std::printf("  every row (%zu): top-1 %.2f%%\n", rows, 100 * top1_rows / static_cast<double>(rows));
  EXPECT_GE(top1_rows / static_cast<double>(rows), 0.99);
}

TEST(GpuBatch, Qwen05EachSequenceAsAlone) {
  BRICKC_REQUIRE_GPU();
  check_model(testing::synth_model("qwen2.5-coder-0.5b", QuantMix::Q4_K_M, 2), {300, 140, 90});
}

TEST(GpuBatch, Qwen7BEachSequenceAsAlone) {
  BRICKC_REQUIRE_GPU();
  check_model(testing::synth_model("qwen2.5-coder-7b", QuantMix::Q4_K_M, 1), {150, 80, 40});
}

// A q8_0 cache: each sequence's rows rounded to its blocks in its own slot, against the
// reference holding the same cache type.
TEST(GpuBatch, Qwen05Q8_0CacheEachSequenceAsAlone) {
  BRICKC_REQUIRE_GPU();
  check_model(testing::synth_model("qwen2.5-coder-0.5b", QuantMix::Q4_K_M, 2), {300, 140, 90},
              testing::kQ8_0Cache);
}

// Errors name what is wrong: a sequence outside the batch, a full context.
TEST(GpuBatch, BadStepsAreErrors) {
  BRICKC_REQUIRE_GPU();
  const gguf::File& f = testing::synth_model("qwen2.5-coder-0.5b", QuantMix::Q4_K_M, 1);
  cuda::ModelOptions o;
  o.n_ctx = 64;
  cuda::BatchModel m(f, o, 2, 16);
  const std::vector<int32_t> tok = {1, 2}, bad = {0, 2};
  try {
    m.step(tok, bad);
    ADD_FAILURE() << "sequence 2 of 2 was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("sequence 2 is outside 0..1"), std::string::npos) << e.what();
  }
  const std::vector<int32_t> many(16, 3), zeros(16, 0);
  for (int i = 0; i < 4; ++i) m.step(many, zeros);
  try {
    m.step(tok, std::vector<int32_t>{1, 0});
    ADD_FAILURE() << "a token past the context was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("sequence 0 is full: its context holds 64 positions"),
              std::string::npos) << e.what();
  }
  m.rewind(0, 10);
  m.step(tok, std::vector<int32_t>{1, 0});
  EXPECT_EQ(m.n_past(0), 11);
  EXPECT_EQ(m.n_past(1), 1);
}

}  // namespace
}  // namespace brickc
