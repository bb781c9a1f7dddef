// Summary statistics of benchmark samples (tok/s per repetition, ms per token): what
// `brickc bench` reports for each metric. Not the measuring itself (protocol.h).
#pragma once
#include <cstddef>
#include <span>

namespace brickc::bench {

struct Summary {
  size_t n = 0;
  double median = 0, mean = 0;
  double stddev = 0;  // sample standard deviation (n - 1, as llama-bench); 0 when n == 1
  double cv = 0;      // stddev / mean; 0 when the mean is 0
  double min = 0, max = 0;
  double p50 = 0, p99 = 0;
};

// Error if `values` is empty or holds a NaN or an infinity.
Summary summarize(std::span<const double> values);

// The q-quantile (0 <= q <= 1) of ascending `sorted` by linear interpolation between order
// statistics: position h = (n - 1) q, result sorted[floor h] + (h - floor h) *
// (sorted[floor h + 1] - sorted[floor h]) (numpy's default, "linear"). Error if empty.
double percentile(std::span<const double> sorted, double q);

}  // namespace brickc::bench
