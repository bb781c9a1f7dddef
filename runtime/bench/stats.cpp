#include "runtime/bench/stats.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "ir/error.h"

namespace brickc::bench {

double percentile(std::span<const double> sorted, double q) {
  if (sorted.empty()) fail("percentile of an empty sample");
  if (!(q >= 0 && q <= 1)) fail("percentile {} is outside [0, 1]", q);
  const double h = static_cast<double>(sorted.size() - 1) * q;
  const size_t lo = static_cast<size_t>(std::floor(h));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

Summary summarize(std::span<const double> values) {
  if (values.empty()) fail("summary of an empty sample");
  for (double v : values)
    if (!std::isfinite(v)) fail("summary of a sample holding a non-finite value ({})", v);
  std::vector<double> s(values.begin(), values.end());
  std::sort(s.begin(), s.end());
  Summary r;
  r.n = s.size();
  r.min = s.front();
  r.max = s.back();
  double sum = 0;
  for (double v : s) sum += v;
  r.mean = sum / static_cast<double>(r.n);
  // Two passes (mean first): no cancellation when the spread is tiny next to the mean.
  double ss = 0;
  for (double v : s) ss += (v - r.mean) * (v - r.mean);
  r.stddev = r.n > 1 ? std::sqrt(ss / static_cast<double>(r.n - 1)) : 0.0;
  r.cv = r.mean != 0 ? r.stddev / r.mean : 0.0;
  r.p50 = percentile(s, 0.5);
  r.median = r.p50;
  r.p99 = percentile(s, 0.99);
  return r;
}

}  // namespace brickc::bench
