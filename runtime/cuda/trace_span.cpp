#include "runtime/cuda/trace_span.h"

#include <algorithm>

namespace brickc::cuda {

namespace {

// The lower median of v (not empty; v is reordered).
uint64_t median(std::vector<uint64_t>& v) {
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>((v.size() - 1) / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}

}  // namespace

LaunchSpan launch_span(std::span<const uint64_t> slots, int sm_count) {
  uint64_t lo = UINT64_MAX, hi = 0;
  std::vector<uint64_t> sm_lo(static_cast<size_t>(std::max(sm_count, 0)), UINT64_MAX), sm_hi(sm_lo.size(), 0);
  std::vector<uint64_t> lead, prologue, ends;
  for (size_t b = 0; b + kTraceSlots <= slots.size(); b += kTraceSlots) {
    const uint64_t entry = slots[b], start = slots[b + 1], ready = slots[b + 2], end = slots[b + 3],
                   sm = slots[b + 4];
    if (!block_ran(&slots[b])) continue;
    lo = std::min(lo, start);
    hi = std::max(hi, end);
    // One thread stamps entry <= start <= ready <= end in that order (common.cuh: Trace).
    lead.push_back(start - entry);
    prologue.push_back(ready - start);
    ends.push_back(end);
    if (sm < sm_lo.size()) {
      sm_lo[sm] = std::min(sm_lo[sm], start);
      sm_hi[sm] = std::max(sm_hi[sm], end);
    }
  }
  LaunchSpan s;
  if (hi <= lo) return s;
  s.us = static_cast<double>(hi - lo) / 1e3;
  s.first_start = lo;
  s.last_end = hi;
  double active_ns = 0;
  for (size_t i = 0; i < sm_lo.size(); ++i)
    if (sm_hi[i] > sm_lo[i]) active_ns += static_cast<double>(sm_hi[i] - sm_lo[i]);
  s.sm_active_us = sm_lo.empty() ? 0.0 : active_ns / static_cast<double>(sm_lo.size()) / 1e3;
  // Differences of ns stamps in integers: stamps near 2^61 ns have no ns left in a double.
  s.lead_us = static_cast<double>(median(lead)) / 1e3;
  s.prologue_us = static_cast<double>(median(prologue)) / 1e3;
  s.tail_us = static_cast<double>(hi - median(ends)) / 1e3;
  return s;
}

std::vector<double> handoffs_us(std::span<const LaunchSpan> spans) {
  std::vector<double> h(spans.size(), 0.0);
  const LaunchSpan* prev = nullptr;
  for (size_t i = 0; i < spans.size(); ++i) {
    if (spans[i].last_end == 0) continue;
    if (prev)
      h[i] = spans[i].first_start >= prev->last_end
                 ? static_cast<double>(spans[i].first_start - prev->last_end) / 1e3
                 : -static_cast<double>(prev->last_end - spans[i].first_start) / 1e3;
    prev = &spans[i];
  }
  return h;
}

}  // namespace brickc::cuda
