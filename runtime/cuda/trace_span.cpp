#include "runtime/cuda/trace_span.h"

#include <algorithm>
#include <vector>

namespace brickc::cuda {

LaunchSpan launch_span(std::span<const uint64_t> slots, int sm_count) {
  uint64_t lo = UINT64_MAX, hi = 0;
  std::vector<uint64_t> sm_lo(static_cast<size_t>(std::max(sm_count, 0)), UINT64_MAX), sm_hi(sm_lo.size(), 0);
  for (size_t b = 0; b + 2 < slots.size(); b += 3) {
    const uint64_t start = slots[b], end = slots[b + 1], sm = slots[b + 2];
    if (start > end) continue;
    lo = std::min(lo, start);
    hi = std::max(hi, end);
    if (sm < sm_lo.size()) {
      sm_lo[sm] = std::min(sm_lo[sm], start);
      sm_hi[sm] = std::max(sm_hi[sm], end);
    }
  }
  LaunchSpan s;
  if (hi <= lo) return s;
  s.us = static_cast<double>(hi - lo) / 1e3;
  double active_ns = 0;
  for (size_t i = 0; i < sm_lo.size(); ++i)
    if (sm_hi[i] > sm_lo[i]) active_ns += static_cast<double>(sm_hi[i] - sm_lo[i]);
  s.sm_active_us = sm_lo.empty() ? 0.0 : active_ns / static_cast<double>(sm_lo.size()) / 1e3;
  return s;
}

}  // namespace brickc::cuda
