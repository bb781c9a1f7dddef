// The GPU trace's reading (runtime/cuda/trace_span): a launch's span and its SMs' busy
// time from blocks' (start, end, SM) stamps, on stamps whose answers are worked out by
// hand, then on random stamps against a direct per-SM computation.
#include "runtime/cuda/trace_span.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace bc = brickc::cuda;

namespace {

TEST(TraceSpan, SpanAndSmBusyByHand) {
  // 4 SMs. SM 0: blocks 1000-3000 and 2000-5000 (busy 4000 ns); SM 2: 1500-2500 (1000 ns);
  // a skipped block (start > end) on SM 1 takes no part, a block stamped by an SM past the
  // device's count (900-5100) only widens the span. Span 900-5100 = 4.2 us; SMs busy
  // (4000 + 0 + 1000 + 0) / 4 = 1.25 us.
  const std::vector<uint64_t> slots = {1000, 3000, 0,  2000, 5000, 0,  1500, 2500, 2,
                                       ~0ull, 0,   1,  900,  5100, 7};
  const bc::LaunchSpan s = bc::launch_span(slots, 4);
  EXPECT_DOUBLE_EQ(s.us, 4.2);
  EXPECT_DOUBLE_EQ(s.sm_active_us, 1.25);
  // Nothing ran: no span.
  const std::vector<uint64_t> skipped = {~0ull, 0, 0, ~0ull, 0, 3};
  EXPECT_EQ(bc::launch_span(skipped, 4).us, 0.0);
  EXPECT_EQ(bc::launch_span(skipped, 4).sm_active_us, 0.0);
}

TEST(TraceSpan, RandomStampsAgainstPerSmHulls) {
  std::mt19937_64 rng(std::random_device{}());
  for (int trial = 0; trial < 20; ++trial) {
    const int sms = 1 + static_cast<int>(rng() % 140);
    const int blocks = 1 + static_cast<int>(rng() % 600);
    std::vector<uint64_t> slots;
    std::vector<uint64_t> lo(sms, UINT64_MAX), hi(sms, 0);
    uint64_t all_lo = UINT64_MAX, all_hi = 0;
    for (int b = 0; b < blocks; ++b) {
      const uint64_t start = 1'000'000 + rng() % 50'000, end = start + 1 + rng() % 20'000;
      const int sm = static_cast<int>(rng() % static_cast<uint64_t>(sms));
      slots.insert(slots.end(), {start, end, static_cast<uint64_t>(sm)});
      lo[sm] = std::min(lo[sm], start);
      hi[sm] = std::max(hi[sm], end);
      all_lo = std::min(all_lo, start);
      all_hi = std::max(all_hi, end);
    }
    double busy = 0;
    for (int i = 0; i < sms; ++i)
      if (hi[i] > lo[i]) busy += static_cast<double>(hi[i] - lo[i]);
    const bc::LaunchSpan s = bc::launch_span(slots, sms);
    EXPECT_NEAR(s.us, static_cast<double>(all_hi - all_lo) / 1e3, 1e-9);
    EXPECT_NEAR(s.sm_active_us, busy / sms / 1e3, 1e-9);
    EXPECT_LE(s.sm_active_us, s.us + 1e-9);
  }
}

}  // namespace
