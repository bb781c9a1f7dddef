// Steps over several sequences (a server's batch: the importer's n_seq, %seq per token) on
// the CPU executor: tokens of three sequences, mixed in steps as continuous batching mixes
// them (a prompt chunk of one beside single decode tokens of others, sequences joining
// late), give each sequence the logits it gets alone, token by token, in a one-sequence
// graph; with the f32 reference kernels and with the int8 engine. Wrong rows are errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "frontend/qwen2/importer.h"
#include "ir/error.h"
#include "passes/pass_manager.h"
#include "passes/registry.h"
#include "runtime/cpu/executor.h"
#include "test/unit/synth_model.h"

namespace brickc::cpu {
namespace {

constexpr int64_t kCtx = 64, kRows = 6;
constexpr int kSeqs = 3;

ir::Graph optimized(const gguf::File& f, const qwen2::ImportOptions& io) {
  ir::Graph g = qwen2::import_qwen2(f, io);
  std::string pipeline;
  for (auto n : passes::default_pipeline()) pipeline += std::string(n) + ",";
  passes::PassManager pm(passes::parse_pipeline(pipeline));
  pm.run(g);
  return g;
}

// One step of the schedule: (sequence, how many of its next tokens).
using Step = std::vector<std::pair<int, int>>;

class CpuBatch : public ::testing::TestWithParam<Kernels> {};

TEST_P(CpuBatch, EachSequenceGetsTheLogitsItGetsAlone) {
  const gguf::File& f = testing::synth_model("test-tiny", synth::QuantMix::Q4_K_M);
  const uint32_t seed = std::random_device{}();
  SCOPED_TRACE(::testing::Message() << "token seed " << seed);
  std::mt19937 rng(seed);
  const int32_t n_vocab = 4096;
  std::uniform_int_distribution<int32_t> token(0, n_vocab - 1);
  const std::vector<int> lengths = {9, 5, 7};
  std::vector<std::vector<int32_t>> tokens(kSeqs);
  for (int s = 0; s < kSeqs; ++s)
    for (int i = 0; i < lengths[s]; ++i) tokens[s].push_back(token(rng));

  // Alone: each sequence token by token through the decode graph, from an empty cache.
  std::vector<std::vector<std::vector<float>>> alone(kSeqs);
  {
    GraphExecutor one(f, optimized(f, {kCtx, 1}), 2, nullptr, GetParam());
    for (int s = 0; s < kSeqs; ++s) {
      one.clear_cache();
      for (int i = 0; i < lengths[s]; ++i) {
        one.step(std::span(&tokens[s][i], 1), i);
        const auto l = one.logits();
        alone[s].emplace_back(l.begin(), l.end());
      }
    }
  }

  // Together: sequence 2 joins at the second step; sequence 0's prompt arrives in chunks
  // while the others decode one token per step.
  qwen2::ImportOptions io{kCtx, kRows, kRows, true, kSeqs};
  GraphExecutor batch(f, optimized(f, io), 2, nullptr, GetParam());
  ASSERT_EQ(batch.n_seq(), kSeqs);
  const std::vector<Step> schedule = {
      {{0, 3}, {1, 2}},
      {{0, 3}, {1, 1}, {2, 2}},
      {{2, 1}, {0, 1}, {1, 1}},
      {{0, 2}, {2, 3}, {1, 1}},
      {{2, 1}},
  };
  std::vector<int> done(kSeqs, 0);
  double worst = 0;
  for (const Step& step : schedule) {
    std::vector<int32_t> tok, pos, seq;
    for (auto [s, n] : step)
      for (int i = 0; i < n; ++i) {
        tok.push_back(tokens[s][done[s] + i]);
        pos.push_back(done[s] + i);
        seq.push_back(s);
      }
    batch.poison();
    batch.step_rows(tok, pos, seq);
    const auto rows = batch.logits_rows();
    ASSERT_EQ(rows.size(), tok.size() * static_cast<size_t>(n_vocab));
    for (size_t r = 0; r < tok.size(); ++r) {
      const std::vector<float>& want = alone[seq[r]][pos[r]];
      const float* got = rows.data() + r * n_vocab;
      float scale = 0, diff = 0;
      for (int32_t v = 0; v < n_vocab; ++v) {
        scale = std::max(scale, std::fabs(want[v]));
        diff = std::max(diff, std::fabs(got[v] - want[v]));
      }
      worst = std::max(worst, double(diff / scale));
      EXPECT_LT(diff, 1e-4f * scale) << "sequence " << seq[r] << " position " << pos[r];
    }
    for (auto [s, n] : step) done[s] += n;
  }
  EXPECT_EQ(done, lengths);
  std::printf("  max relative logit difference, batch vs alone: %.3g\n", worst);
}

INSTANTIATE_TEST_SUITE_P(Kernels, CpuBatch,
                         ::testing::Values(Kernels::kReference, Kernels::kInt8),
                         [](const auto& p) {
                           return p.param == Kernels::kReference ? "f32" : "int8";
                         });

TEST(CpuBatch, RowsOutsideTheBatchAreErrors) {
  const gguf::File& f = testing::synth_model("test-tiny", synth::QuantMix::Q8_0);
  GraphExecutor batch(f, qwen2::import_qwen2(f, {kCtx, 2, 2, true, 2}));
  const std::vector<int32_t> tok = {1, 2}, pos = {0, 0};
  EXPECT_THROW(batch.step_rows(tok, pos, std::vector<int32_t>{0, 2}), Error);  // no sequence 2
  EXPECT_THROW(batch.step_rows(tok, pos, std::vector<int32_t>{0}), Error);     // one seq for two
  EXPECT_THROW(batch.step_rows(tok, std::vector<int32_t>{0, kCtx}, std::vector<int32_t>{0, 1}),
               Error);  // past the cache
  batch.step_rows(tok, pos, std::vector<int32_t>{0, 1});
  // The GPU does not lower batch graphs yet: a clear error, not wrong results.
}

}  // namespace
}  // namespace brickc::cpu
