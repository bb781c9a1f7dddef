// runtime/bench/stats: summaries checked against hand-derived values on small vectors and,
// on a fresh random sample, against direct computations from the sorted values.
#include "runtime/bench/stats.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "ir/error.h"

namespace bb = brickc::bench;

namespace {

TEST(BenchStats, FourValuesByHand) {
  // Unsorted on purpose. mean 2.5; squared deviations 2.25, 0.25, 0.25, 2.25 sum to 5, so the
  // sample variance is 5/3; p99 sits at position 3 * 0.99 = 2.97: 3 + 0.97 * (4 - 3).
  const std::vector<double> v = {4, 1, 3, 2};
  const bb::Summary s = bb::summarize(v);
  EXPECT_EQ(s.n, 4u);
  EXPECT_DOUBLE_EQ(s.mean, 2.5);
  EXPECT_DOUBLE_EQ(s.median, 2.5);
  EXPECT_DOUBLE_EQ(s.p50, 2.5);
  EXPECT_DOUBLE_EQ(s.stddev, std::sqrt(5.0 / 3.0));
  EXPECT_DOUBLE_EQ(s.cv, std::sqrt(5.0 / 3.0) / 2.5);
  EXPECT_DOUBLE_EQ(s.min, 1);
  EXPECT_DOUBLE_EQ(s.max, 4);
  EXPECT_NEAR(s.p99, 3.97, 1e-12);
}

TEST(BenchStats, OddCountAndSingleValue) {
  const std::vector<double> odd = {5, 1, 3};
  EXPECT_DOUBLE_EQ(bb::summarize(odd).median, 3);
  // p99 of {1, 3, 5}: position 2 * 0.99 = 1.98, between 3 and 5.
  EXPECT_NEAR(bb::summarize(odd).p99, 3 + 0.98 * 2, 1e-12);

  const std::vector<double> one = {7.5};
  const bb::Summary s = bb::summarize(one);
  EXPECT_EQ(s.n, 1u);
  EXPECT_DOUBLE_EQ(s.median, 7.5);
  EXPECT_DOUBLE_EQ(s.p99, 7.5);
  EXPECT_DOUBLE_EQ(s.stddev, 0);
  EXPECT_DOUBLE_EQ(s.cv, 0);
}

TEST(BenchStats, RandomSampleAgainstDirectComputation) {
  std::random_device rd;
  const unsigned seed = rd();
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  std::mt19937 gen(seed);
  std::lognormal_distribution<double> dist(3.0, 0.4);  // skewed, like latencies
  const size_t n = 1000 + gen() % 1000;
  std::vector<double> v(n);
  for (double& x : v) x = dist(gen);
  const bb::Summary s = bb::summarize(v);

  std::vector<double> sorted = v;
  std::sort(sorted.begin(), sorted.end());
  long double sum = 0, sum_sq = 0;
  for (double x : v) {
    sum += x;
    sum_sq += static_cast<long double>(x) * x;
  }
  const long double mean = sum / n;
  const double var = static_cast<double>((sum_sq - n * mean * mean) / (n - 1));
  const double median =
      n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;  // textbook definition
  EXPECT_NEAR(s.mean, static_cast<double>(mean), 1e-12 * s.mean);
  EXPECT_NEAR(s.stddev, std::sqrt(var), 1e-9 * s.stddev);
  EXPECT_NEAR(s.cv, std::sqrt(var) / static_cast<double>(mean), 1e-9);
  EXPECT_DOUBLE_EQ(s.median, median);
  EXPECT_DOUBLE_EQ(s.min, sorted.front());
  EXPECT_DOUBLE_EQ(s.max, sorted.back());
  // Quantiles at order statistics are those values; halfway between two, their midpoint.
  for (size_t k : {size_t{0}, n / 7, n / 2, n - 2}) {
    const double q = static_cast<double>(k) / (n - 1);
    EXPECT_NEAR(bb::percentile(sorted, q), sorted[k], 1e-9 * sorted[k]) << "k " << k;
    const double mid = (k + 0.5) / (n - 1);
    EXPECT_NEAR(bb::percentile(sorted, mid), (sorted[k] + sorted[k + 1]) / 2, 1e-9 * sorted[k])
        << "k " << k;
  }
  // p99: at least 99 % of the sample at or below it, and no more than 1 % + 1 above it.
  const auto below = std::count_if(v.begin(), v.end(), [&](double x) { return x <= s.p99; });
  EXPECT_GE(below, static_cast<long>(std::floor(0.99 * (n - 1))) + 1);
  EXPECT_LE(n - below, static_cast<size_t>(std::ceil(0.01 * n)) + 1);
}

TEST(BenchStats, Errors) {
  const std::vector<double> empty;
  EXPECT_THROW(bb::summarize(empty), brickc::Error);
  EXPECT_THROW(bb::percentile(empty, 0.5), brickc::Error);
  const std::vector<double> nan = {1, std::numeric_limits<double>::quiet_NaN()};
  EXPECT_THROW(bb::summarize(nan), brickc::Error);
  const std::vector<double> ok = {1, 2};
  EXPECT_THROW(bb::percentile(ok, 1.5), brickc::Error);
  EXPECT_THROW(bb::percentile(ok, -0.1), brickc::Error);
}

}  // namespace
