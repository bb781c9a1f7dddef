// The per-brick profile (runtime/bench/brick_profile): percentiles over steps, achieved
// bandwidth from the brick's exact bytes, budgets, and the bottleneck overall and per layer,
// on fresh random samples whose expected statistics the test computes directly.
#include "runtime/bench/brick_profile.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "ir/cost.h"
#include "ir/error.h"
#include "test/unit/ir_test_graphs.h"

namespace bb = brickc::bench;
namespace ir = brickc::ir;

namespace {

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

TEST(BrickProfile, StatisticsBandwidthAndBottlenecks) {
  ir::testing::Qwen2Shape shape;
  shape.n_layer = 3;
  ir::Graph g = ir::testing::qwen2_step(shape);
  const size_t n = g.bricks().size();
  std::mt19937 rng(std::random_device{}());
  std::uniform_real_distribution<double> base(1.0, 10.0), noise(0.0, 0.5);
  std::vector<double> mean(n);
  for (size_t i = 0; i < n; ++i) mean[i] = base(rng);
  // Per layer, one brick made slowest; and one overall.
  std::map<int, size_t> planted;
  for (size_t i = 0; i < n; ++i)
    if (int l = g.bricks()[i].layer; l >= 0 && !planted.count(l)) planted[l] = i + 1 + static_cast<size_t>(l);
  for (auto& [l, i] : planted) mean[i] = 50.0 + l;
  mean[planted.at(1)] = 80.0;
  for (size_t i = 0; i < n; ++i)
    g.bricks()[i].budget_us = mean[i] * (i % 2 ? 0.5 : 2.0);  // odd bricks over budget

  bb::BrickProfiler prof(g);
  std::vector<std::vector<double>> samples(n);
  constexpr int kSteps = 41;
  for (int s = 0; s < kSteps; ++s) {
    std::vector<double> us(n);
    for (size_t i = 0; i < n; ++i) samples[i].push_back(us[i] = mean[i] + noise(rng));
    prof.add_step(us);
  }
  const bb::ProfileReport r = prof.report(3000.0);
  ASSERT_EQ(r.rows.size(), n);
  EXPECT_EQ(r.steps, static_cast<size_t>(kSteps));
  double step = 0, roof = 0;
  for (size_t i = 0; i < n; ++i) {
    const bb::BrickRow& row = r.rows[i];
    const double p50 = median_of(samples[i]);
    EXPECT_DOUBLE_EQ(row.us.p50, p50);
    // p999 of 41 sorted samples: position 40 * 0.999 = 39.96, between the two largest.
    std::vector<double> sorted = samples[i];
    std::sort(sorted.begin(), sorted.end());
    EXPECT_NEAR(row.p999_us, sorted[39] + 0.96 * (sorted[40] - sorted[39]), 1e-9);
    const uint64_t bytes = ir::cost(g, g.bricks()[i])->bytes();
    EXPECT_EQ(row.bytes, bytes);
    EXPECT_NEAR(row.gbs, static_cast<double>(bytes) / (p50 * 1e3), 1e-9 * row.gbs);
    EXPECT_NEAR(row.pct_bandwidth, 100 * row.gbs / 3000.0, 1e-9);
    EXPECT_EQ(row.over_budget(), i % 2 == 1) << i;
    step += p50;
    roof += *g.bricks()[i].budget_us;
  }
  EXPECT_NEAR(r.step_p50_us, step, 1e-9);
  EXPECT_NEAR(r.roofline_us, roof, 1e-9);
  EXPECT_EQ(r.slowest, planted.at(1));
  ASSERT_EQ(r.slowest_in_layer.size(), planted.size());
  for (auto& [l, i] : planted) EXPECT_EQ(r.slowest_in_layer.at(l), i) << "layer " << l;

  const std::string text = bb::format_profile(r);
  const ir::Brick& b = g.bricks()[planted.at(1)];
  EXPECT_NE(text.find("bottleneck: " + std::string(ir::keyword(b.kind)) + " %" +
                      g.value(b.results[0]).name + " (layer 1)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("against a roofline of"), std::string::npos) << text;
}

TEST(BrickProfile, Errors) {
  ir::Graph g = ir::testing::qwen2_step();
  bb::BrickProfiler prof(g);
  EXPECT_THROW(prof.report(3000.0), brickc::Error);
  const size_t n = g.bricks().size();
  EXPECT_THROW(prof.add_step(std::vector<double>(n + 1, 1.0)), brickc::Error);
  EXPECT_THROW(prof.add_step(std::vector<double>(n, 1.0), std::vector<double>(n - 1, 0.5)),
               brickc::Error);
  // SM-busy fractions in every step or in none; phases likewise.
  prof.add_step(std::vector<double>(n, 1.0), std::vector<double>(n, 0.5));
  EXPECT_THROW(prof.add_step(std::vector<double>(n, 1.0)), brickc::Error);
  bb::BrickProfiler phased(g);
  phased.add_step(std::vector<double>(n, 1.0), {}, std::vector<bb::BrickPhases>(n));
  EXPECT_THROW(phased.add_step(std::vector<double>(n, 1.0)), brickc::Error);
  EXPECT_THROW(phased.add_step(std::vector<double>(n, 1.0), {}, std::vector<bb::BrickPhases>(n - 1)),
               brickc::Error);
}

TEST(BrickProfile, PhasesAreEachTheMedianPerBrick) {
  ir::Graph g = ir::testing::qwen2_step();
  const size_t n = g.bricks().size();
  std::mt19937 rng(std::random_device{}());
  std::uniform_real_distribution<double> us(0.0, 20.0);
  bb::BrickProfiler prof(g);
  std::vector<std::vector<double>> h(n), l(n), p(n), t(n);
  for (int s = 0; s < 7; ++s) {
    std::vector<bb::BrickPhases> ph(n);
    for (size_t i = 0; i < n; ++i) {
      ph[i] = {us(rng) - 10.0, us(rng), us(rng), us(rng)};
      h[i].push_back(ph[i].handoff_us);
      l[i].push_back(ph[i].lead_us);
      p[i].push_back(ph[i].prologue_us);
      t[i].push_back(ph[i].tail_us);
    }
    prof.add_step(std::vector<double>(n, 30.0), {}, ph);
  }
  const bb::ProfileReport r = prof.report(3000.0);
  double handoff = 0;
  for (size_t i = 0; i < n; ++i) {
    ASSERT_TRUE(r.rows[i].phases.has_value());
    EXPECT_DOUBLE_EQ(r.rows[i].phases->handoff_us, median_of(h[i]));
    EXPECT_DOUBLE_EQ(r.rows[i].phases->lead_us, median_of(l[i]));
    EXPECT_DOUBLE_EQ(r.rows[i].phases->prologue_us, median_of(p[i]));
    EXPECT_DOUBLE_EQ(r.rows[i].phases->tail_us, median_of(t[i]));
    handoff += median_of(h[i]);
  }
  ASSERT_TRUE(r.handoff_us.has_value());
  EXPECT_NEAR(*r.handoff_us, handoff, 1e-9);
  const std::string text = bb::format_profile(r);
  EXPECT_NE(text.find("| brick | µs (p50) | handoff | lead | prologue | tail |"), std::string::npos) << text;
  EXPECT_NE(text.find(fmt::format("µs of bricks and {:.1f} µs between them", handoff)), std::string::npos)
      << text;
  // Without phases (the CPU), neither the table nor the words.
  bb::BrickProfiler cpu(g);
  cpu.add_step(std::vector<double>(n, 1.0));
  const std::string plain = bb::format_profile(cpu.report(3000.0));
  EXPECT_EQ(plain.find("handoff"), std::string::npos);
  EXPECT_EQ(plain.find("between them"), std::string::npos);
}

TEST(BrickProfile, SmBusyIsTheMedianPerBrickAndTimeWeightedOverall) {
  ir::Graph g = ir::testing::qwen2_step();
  const size_t n = g.bricks().size();
  std::mt19937 rng(std::random_device{}());
  std::uniform_real_distribution<double> us(1.0, 20.0), busy(0.2, 1.0);
  bb::BrickProfiler prof(g);
  std::vector<std::vector<double>> t(n), f(n);
  for (int s = 0; s < 9; ++s) {
    std::vector<double> a(n), b(n);
    for (size_t i = 0; i < n; ++i) {
      t[i].push_back(a[i] = us(rng));
      f[i].push_back(b[i] = busy(rng));
    }
    prof.add_step(a, b);
  }
  const bb::ProfileReport r = prof.report(3000.0);
  double weighted = 0, total = 0;
  for (size_t i = 0; i < n; ++i) {
    ASSERT_TRUE(r.rows[i].sm_busy_pct.has_value());
    EXPECT_DOUBLE_EQ(*r.rows[i].sm_busy_pct, 100 * median_of(f[i]));
    weighted += median_of(t[i]) * 100 * median_of(f[i]);
    total += median_of(t[i]);
  }
  ASSERT_TRUE(r.sm_busy_pct.has_value());
  EXPECT_NEAR(*r.sm_busy_pct, weighted / total, 1e-9);
  const std::string text = bb::format_profile(r);
  EXPECT_NE(text.find("| over budget | SMs busy |"), std::string::npos) << text;
  EXPECT_NE(text.find(fmt::format("SMs busy: {:.0f} % of the bricks' time", weighted / total)),
            std::string::npos)
      << text;
  // Without SM fractions (the CPU), neither the column nor the line.
  bb::BrickProfiler cpu(g);
  cpu.add_step(std::vector<double>(n, 1.0));
  EXPECT_EQ(bb::format_profile(cpu.report(3000.0)).find("SMs busy"), std::string::npos);
}

}  // namespace

namespace {

// Jidoka names the brick furthest over factor x budget, and nothing when all are within.
TEST(BrickProfile, BudgetViolationNamesTheWorstBrick) {
  ir::Graph g = ir::testing::qwen2_step();
  const size_t n = g.bricks().size();
  std::mt19937 rng(std::random_device{}());
  std::uniform_real_distribution<double> budget(1.0, 50.0), share(0.1, 0.9);
  std::vector<double> us(n);
  for (size_t i = 0; i < n; ++i) {
    g.bricks()[i].budget_us = budget(rng);
    us[i] = *g.bricks()[i].budget_us * share(rng);
  }
  EXPECT_FALSE(bb::budget_violation(g, us, 1.0));
  const size_t a = n / 3, b = n / 2;  // two over budget; b further
  us[a] = *g.bricks()[a].budget_us * 1.5;
  us[b] = *g.bricks()[b].budget_us * 3.0;
  const auto v = bb::budget_violation(g, us, 1.0);
  ASSERT_TRUE(v);
  const ir::Brick& w = g.bricks()[b];
  EXPECT_NE(v->find(fmt::format("brick {} {} %{}", b, ir::keyword(w.kind), g.value(w.results[0]).name)),
            std::string::npos)
      << *v;
  EXPECT_NE(v->find(fmt::format("over its budget of {:.1f} µs", *w.budget_us)), std::string::npos) << *v;
  EXPECT_FALSE(bb::budget_violation(g, us, 4.0)) << "a factor of 4 covers 3x";
  EXPECT_THROW(bb::budget_violation(g, std::vector<double>(n - 1, 1.0), 1.0), brickc::Error);
}

}  // namespace
