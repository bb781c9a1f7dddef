// runtime/sampling: each stage on small distributions against the rule computed here in
// double precision (kept set, renormalized probabilities), the penalty rule and window,
// greedy ties, seeded draws against their distribution (chi-square) and determinism.
// Agreement with llama.cpp's own samplers is test/ref/test_sampling_vs_llamacpp.py.
#include "runtime/sampling/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>
#include <set>
#include <vector>

#include "ir/error.h"

namespace sm = brickc::sampling;

namespace {

const std::vector<float> kLogits = {3, 2, 1, 0, -1};

std::vector<double> softmax(const std::vector<float>& l, double t = 1.0) {
  const double m = *std::max_element(l.begin(), l.end());
  std::vector<double> p;
  for (float x : l) p.push_back(std::exp((x - m) / t));
  const double s = std::accumulate(p.begin(), p.end(), 0.0);
  for (double& x : p) x /= s;
  return p;
}

// Token ids in descending logit order (ties: lower id first).
std::vector<int32_t> ranking(const std::vector<float>& l) {
  std::vector<int32_t> ids(l.size());
  std::iota(ids.begin(), ids.end(), 0);
  std::stable_sort(ids.begin(), ids.end(), [&](int32_t a, int32_t b) { return l[a] > l[b]; });
  return ids;
}

std::set<int32_t> ids_of(const sm::Candidates& c) {
  std::set<int32_t> s;
  for (const auto& x : c.items) s.insert(x.id);
  return s;
}

sm::Candidates make(const std::vector<float>& l) {
  sm::Candidates c;
  c.assign(l);
  return c;
}

// Chi-square quantile (Wilson-Hilferty); z = 3.09 is the 99.9th percentile of N(0,1).
double chi2_critical(int df, double z = 3.09) {
  const double a = 2.0 / (9.0 * df);
  return df * std::pow(1.0 - a + z * std::sqrt(a), 3.0);
}

double chi2(const std::vector<int>& counts, const std::vector<double>& p, int n) {
  double s = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    const double e = n * p[i];
    s += (counts[i] - e) * (counts[i] - e) / e;
  }
  return s;
}

sm::SamplerParams plain(uint32_t seed) {
  sm::SamplerParams p;
  p.temp = 1.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.seed = seed;
  return p;
}

}  // namespace

TEST(Sampling, SoftmaxOverTheList) {
  auto c = make(kLogits);
  c.softmax();
  const auto want = softmax(kLogits);
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(c.items[i].p, want[i], 1e-6);
}

TEST(Sampling, TopKKeepsTheKHighestSorted) {
  std::mt19937 gen(7);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  std::vector<float> l(300);
  for (float& x : l) x = normal(gen);
  const auto order = ranking(l);
  for (int32_t k : {1, 5, 40, 299, 300, 1000}) {
    auto c = make(l);
    sm::top_k(c, k);
    const size_t n = std::min<size_t>(k, l.size());
    ASSERT_EQ(c.size(), n);
    EXPECT_TRUE(c.sorted);
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(c.items[i].id, order[i]) << "k " << k << " i " << i;
  }
  auto c = make(kLogits);
  sm::top_k(c, 0);  // off: order and size untouched
  EXPECT_EQ(c.size(), kLogits.size());
  EXPECT_FALSE(c.sorted);
  EXPECT_EQ(c.items[4].id, 4);
}

TEST(Sampling, TopPKeepsTheSmallestPrefixReachingP) {
  const auto p = softmax(kLogits);  // already in descending order
  for (float top_p : {0.3f, 0.5f, 0.7f, 0.9f, 0.95f, 0.99f}) {
    size_t want = 0;
    double cum = 0;
    while (want < p.size() && cum < top_p) cum += p[want++];
    ASSERT_GT(std::abs(cum - top_p), 1e-4) << "test value too close to a boundary";
    auto c = make(kLogits);
    sm::top_p(c, top_p, 0);
    EXPECT_EQ(c.size(), want) << "top_p " << top_p;
    EXPECT_TRUE(c.sorted);
  }
  auto c = make(kLogits);
  sm::top_p(c, 0.1f, 3);  // min_keep wins over p
  EXPECT_EQ(c.size(), 3u);
  c = make(kLogits);
  sm::top_p(c, 1.0f, 0);  // off
  EXPECT_EQ(c.size(), kLogits.size());
  EXPECT_FALSE(c.sorted);
}

TEST(Sampling, TopPOnALargeVocabularyMatchesTheRule) {
  // More than 1024 candidates takes the sort-the-head-first path; one case stops inside
  // the head, one needs the full sort.
  std::mt19937 gen(11);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> l(5000);
  for (float& x : l) x = normal(gen);
  const auto p = softmax(l);
  const auto order = ranking(l);
  for (float top_p : {0.05f, 0.9f}) {
    size_t want = 0;
    double cum = 0;
    while (want < l.size() && cum < top_p) cum += p[order[want++]];
    auto c = make(l);
    sm::top_p(c, top_p, 1);
    ASSERT_NEAR(static_cast<double>(c.size()), static_cast<double>(want), 1.0) << top_p;
    for (size_t i = 0; i < c.size(); ++i) EXPECT_EQ(c.items[i].id, order[i]);
  }
}

TEST(Sampling, MinPIsRelativeToTheMaximum) {
  const auto p = softmax(kLogits);
  for (float min_p : {0.01f, 0.05f, 0.2f, 0.5f, 0.9f}) {
    std::set<int32_t> want;
    for (size_t i = 0; i < p.size(); ++i)
      if (p[i] >= min_p * p[0]) want.insert(static_cast<int32_t>(i));
    auto c = make(kLogits);  // unsorted path: keeps the order it finds
    sm::min_p(c, min_p, 0);
    EXPECT_EQ(ids_of(c), want) << "min_p " << min_p;
    EXPECT_TRUE(std::is_sorted(c.items.begin(), c.items.end(),
                               [](auto& a, auto& b) { return a.id < b.id; }));
    auto s = make(kLogits);  // sorted path
    sm::top_k(s, 5);
    sm::min_p(s, min_p, 0);
    EXPECT_EQ(ids_of(s), want) << "min_p sorted " << min_p;
  }
  auto c = make(kLogits);
  sm::min_p(c, 0.9f, 3);  // min_keep: the three highest
  EXPECT_EQ(ids_of(c), (std::set<int32_t>{0, 1, 2}));
}

TEST(Sampling, TemperatureScalesLogitsAndZeroIsGreedy) {
  auto c = make(kLogits);
  sm::temperature(c, 0.5f);
  for (size_t i = 0; i < kLogits.size(); ++i) EXPECT_FLOAT_EQ(c.items[i].logit, kLogits[i] / 0.5f);
  c = make({1, 5, 5, 2});
  sm::temperature(c, 0.0f);
  EXPECT_EQ(c.items[1].logit, 5.0f);  // the first of the tied maxima
  for (size_t i : {0, 2, 3}) EXPECT_EQ(c.items[i].logit, -INFINITY);
}

TEST(Sampling, DrawRenormalizesTheKeptSet) {
  auto c = make(kLogits);
  sm::top_k(c, 3);
  std::mt19937 rng(1);
  sm::draw(c, rng);
  const auto want = softmax({3, 2, 1});
  for (size_t i = 0; i < 3; ++i) EXPECT_NEAR(c.items[i].p, want[i], 1e-6);
}

TEST(Sampling, PenaltiesFollowTheRule) {
  const std::vector<float> l = {2.0f, -1.0f, 0.5f, -3.0f, 1.0f, 0.0f};
  const std::vector<int32_t> history = {0, 1, 1, 3, 5, 5, 5};
  sm::SamplerParams p;
  p.temp = 0.0f;  // greedy: last_candidates() holds the penalized logits
  p.penalty_last_n = 64;
  p.penalty_repeat = 1.5f;
  p.penalty_freq = 0.2f;
  p.penalty_present = 0.3f;
  sm::Sampler s(p);
  for (int32_t t : history) s.accept(t);
  s.sample(l);
  for (size_t i = 0; i < l.size(); ++i) {
    const int count = static_cast<int>(std::count(history.begin(), history.end(), i));
    float want = l[i];
    if (count > 0) {
      want = want <= 0 ? want * 1.5f : want / 1.5f;
      want -= count * 0.2f + 0.3f;
    }
    EXPECT_FLOAT_EQ(s.last_candidates().items[i].logit, want) << "token " << i;
  }
}

TEST(Sampling, PenaltyWindowForgetsOldTokens) {
  sm::SamplerParams p;
  p.temp = 0.0f;
  p.penalty_last_n = 2;
  p.penalty_present = 10.0f;
  sm::Sampler s(p);
  const std::vector<float> l = {3, 2, 1};
  for (int32_t t : {0, 1, 2}) s.accept(t);  // the window holds 1, 2
  EXPECT_EQ(s.sample(l), 0);
  s.accept(0);  // now 2, 0
  EXPECT_EQ(s.sample(l), 1);
  s.reset();
  EXPECT_EQ(s.sample(l), 0);
  p.penalty_last_n = 0;  // off
  sm::Sampler off(p);
  off.accept(0);
  EXPECT_EQ(off.sample(l), 0);
}

TEST(Sampling, GreedyTakesTheFirstMaximum) {
  sm::SamplerParams p;
  p.temp = 0.0f;
  sm::Sampler s(p);
  EXPECT_EQ(s.sample(std::vector<float>{0, 7, 3, 7, -2}), 1);
  EXPECT_EQ(s.sample(std::vector<float>{-INFINITY, -5, -INFINITY}), 1);
  p.temp = -1.0f;
  sm::Sampler neg(p);
  EXPECT_EQ(neg.sample(std::vector<float>{1, 2, 3}), 2);
}

TEST(Sampling, SeededDrawsFollowTheDistribution) {
  std::mt19937 gen(2024);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> l(8);
  for (float& x : l) x = normal(gen);
  const auto p = softmax(l);
  const int n = 20000;
  sm::Sampler s(plain(1234));
  std::vector<int> counts(l.size(), 0);
  for (int i = 0; i < n; ++i) ++counts[s.sample(l)];
  const double x2 = chi2(counts, p, n);
  std::printf("chi2 plain: %.2f (critical %.2f, df %zu)\n", x2, chi2_critical(7), l.size() - 1);
  EXPECT_LT(x2, chi2_critical(static_cast<int>(l.size()) - 1));
}

TEST(Sampling, DefaultChainDrawsFromTheTruncatedTemperedSet) {
  // 60 tokens, llama.cpp's defaults: top-k 40, top-p 0.95, min-p 0.05, temp 0.8. The
  // expected distribution follows the rules directly on the sorted probabilities.
  std::mt19937 gen(99);
  std::normal_distribution<float> normal(0.0f, 1.5f);
  std::vector<float> l(60);
  for (float& x : l) x = normal(gen);
  const auto order = ranking(l);
  std::vector<float> kept;
  for (int i = 0; i < 40; ++i) kept.push_back(l[order[i]]);
  const auto pk = softmax(kept);
  size_t n_top_p = 0;
  for (double cum = 0; n_top_p < kept.size() && cum < 0.95; ++n_top_p) cum += pk[n_top_p];
  kept.resize(n_top_p);
  const auto pp = softmax(kept);
  size_t n_min_p = 0;
  while (n_min_p < kept.size() && pp[n_min_p] >= 0.05 * pp[0]) ++n_min_p;
  kept.resize(n_min_p);
  const auto want = softmax(kept, 0.8);

  sm::SamplerParams params;
  params.seed = 77;
  sm::Sampler s(params);
  const int n = 20000;
  std::vector<int> counts(kept.size(), 0);
  for (int i = 0; i < n; ++i) {
    const int32_t t = s.sample(l);
    const auto rank = std::find(order.begin(), order.end(), t) - order.begin();
    ASSERT_LT(static_cast<size_t>(rank), kept.size()) << "drew token " << t << " outside the kept set";
    ++counts[rank];
  }
  const int df = static_cast<int>(kept.size()) - 1;
  const double x2 = chi2(counts, want, n);
  std::printf("chi2 default chain: %.2f over %zu kept tokens (critical %.2f)\n", x2, kept.size(),
              chi2_critical(df));
  EXPECT_LT(x2, chi2_critical(df));
}

TEST(Sampling, SameSeedSameTokens) {
  std::mt19937 gen(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<std::vector<float>> steps(200, std::vector<float>(1000));
  for (auto& l : steps)
    for (float& x : l) x = normal(gen);
  auto run = [&](uint32_t seed) {
    sm::SamplerParams p;
    p.seed = seed;
    p.penalty_repeat = 1.1f;
    sm::Sampler s(p);
    std::vector<int32_t> out;
    for (const auto& l : steps) {
      out.push_back(s.sample(l));
      s.accept(out.back());
    }
    return out;
  };
  EXPECT_EQ(run(42), run(42));
  EXPECT_NE(run(42), run(43));
  sm::SamplerParams p;  // kRandomSeed: a seed is drawn and reported
  sm::Sampler a(p);
  p.seed = a.seed();
  sm::Sampler b(p);
  EXPECT_EQ(a.sample(steps[0]), b.sample(steps[0]));
}

TEST(Sampling, RejectsBadInput) {
  sm::Sampler s(sm::SamplerParams{});
  EXPECT_THROW(s.sample(std::vector<float>{}), brickc::Error);
  EXPECT_THROW(s.sample(std::vector<float>{1.0f, NAN}), brickc::Error);
  EXPECT_THROW(s.sample(std::vector<float>{INFINITY, 0.0f}), brickc::Error);
  EXPECT_THROW(s.sample(std::vector<float>{-INFINITY, -INFINITY}), brickc::Error);
  sm::SamplerParams p;
  p.penalty_repeat = 0.0f;
  EXPECT_THROW(sm::Sampler{p}, brickc::Error);
  p = {};
  p.temp = NAN;
  EXPECT_THROW(sm::Sampler{p}, brickc::Error);
  p = {};
  p.penalty_last_n = -2;
  EXPECT_THROW(sm::Sampler{p}, brickc::Error);
}
