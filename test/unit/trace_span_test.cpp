// The GPU trace's reading (runtime/cuda/trace_span): a launch's span, its SMs' busy time,
// its blocks' lead, prologue and tail from their (entry, start, ready, end, SM) stamps, and
// the handoffs between launches, on stamps whose answers are worked out by hand, then on
// random stamps against a direct computation.
#include "runtime/cuda/trace_span.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace bc = brickc::cuda;

namespace {

static_assert(bc::kTraceSlots == 5, "these stamps are (entry, start, ready, end, SM)");

TEST(TraceSpan, SpanAndSmBusyByHand) {
  // 4 SMs. SM 0: blocks 1000-3000 and 2000-5000 (busy 4000 ns); SM 2: 1500-2500 (1000 ns);
  // a skipped block (start > end) on SM 1 takes no part, a block stamped by an SM past the
  // device's count (900-5100) only widens the span. Span 900-5100 = 4.2 us; SMs busy
  // (4000 + 0 + 1000 + 0) / 4 = 1.25 us.
  // Leads (start - entry) 600, 0, 1000 and 0 ns: sorted 0, 0, 600, 1000, lower median 0.
  // Prologues (ready - start) 200, 0, 100 and 50 ns: sorted 0, 50, 100, 200, lower median 50.
  // Ends 3000, 5000, 2500, 5100: sorted 2500, 3000, 5000, 5100, lower median 3000, so the
  // tail is 5100 - 3000 = 2.1 us.
  const std::vector<uint64_t> slots = {400,  1000, 1200, 3000, 0,  //
                                       2000, 2000, 2000, 5000, 0,  //
                                       500,  1500, 1600, 2500, 2,  //
                                       0,    ~0ull, 0,   0,    1,  //
                                       900,  900,  950,  5100, 7};
  const bc::LaunchSpan s = bc::launch_span(slots, 4);
  EXPECT_DOUBLE_EQ(s.us, 4.2);
  EXPECT_DOUBLE_EQ(s.sm_active_us, 1.25);
  EXPECT_EQ(s.first_start, 900u);
  EXPECT_EQ(s.last_end, 5100u);
  EXPECT_DOUBLE_EQ(s.lead_us, 0.0);
  EXPECT_DOUBLE_EQ(s.prologue_us, 0.05);
  EXPECT_DOUBLE_EQ(s.tail_us, 2.1);
  // Nothing ran: no span.
  const std::vector<uint64_t> skipped = {0, ~0ull, 0, 0, 0, 0, ~0ull, 0, 0, 3};
  const bc::LaunchSpan none = bc::launch_span(skipped, 4);
  EXPECT_EQ(none.us, 0.0);
  EXPECT_EQ(none.sm_active_us, 0.0);
  EXPECT_EQ(none.last_end, 0u);
}

TEST(TraceSpan, StampsNearTheTimersRangeKeepTheirNanoseconds) {
  // %globaltimer counts ns since an epoch: 2^61 ns is 73 years, where a double has a
  // resolution of 512 ns. Leads 3, 1, 3 ns (median 3), prologues 7 ns, ends 100, 111, 90
  // (median 100, tail 11 ns) must still come out.
  const uint64_t t = uint64_t{1} << 61;
  const std::vector<uint64_t> slots = {t - 3, t, t + 7, t + 100, 0,  //
                                       t, t + 1, t + 8, t + 111, 0,  //
                                       t - 3, t, t + 7, t + 90, 0};
  const bc::LaunchSpan s = bc::launch_span(slots, 1);
  EXPECT_DOUBLE_EQ(s.lead_us, 0.003);
  EXPECT_DOUBLE_EQ(s.prologue_us, 0.007);
  EXPECT_DOUBLE_EQ(s.tail_us, 0.011);
  EXPECT_DOUBLE_EQ(s.us, 0.111);
}

TEST(TraceSpan, HandoffsFromTheLastLaunchThatRan) {
  std::vector<bc::LaunchSpan> spans(4);
  spans[0].first_start = 1000, spans[0].last_end = 3000;
  // spans[1]: no block ran; it neither gets nor gives a handoff.
  spans[2].first_start = 3500, spans[2].last_end = 6000;
  spans[3].first_start = 5800, spans[3].last_end = 9000;  // overlaps (a megakernel's tasks)
  const std::vector<double> h = bc::handoffs_us(spans);
  ASSERT_EQ(h.size(), 4u);
  EXPECT_DOUBLE_EQ(h[0], 0.0);
  EXPECT_DOUBLE_EQ(h[1], 0.0);
  EXPECT_DOUBLE_EQ(h[2], 0.5);
  EXPECT_DOUBLE_EQ(h[3], -0.2);
}

uint64_t lower_median(std::vector<uint64_t> v) {
  std::sort(v.begin(), v.end());
  return v[(v.size() - 1) / 2];
}

TEST(TraceSpan, RandomStampsAgainstPerSmHullsAndSortedMedians) {
  std::mt19937_64 rng(std::random_device{}());
  for (int trial = 0; trial < 20; ++trial) {
    const int sms = 1 + static_cast<int>(rng() % 140);
    const int blocks = 1 + static_cast<int>(rng() % 600);
    std::vector<uint64_t> slots;
    std::vector<uint64_t> lo(sms, UINT64_MAX), hi(sms, 0), leads, prologues, ends;
    uint64_t all_lo = UINT64_MAX, all_hi = 0;
    for (int b = 0; b < blocks; ++b) {
      const uint64_t start = 1'000'000 + rng() % 50'000, end = start + 1 + rng() % 20'000;
      const uint64_t entry = start - rng() % 5'000, ready = start + rng() % (end - start + 1);
      const int sm = static_cast<int>(rng() % static_cast<uint64_t>(sms));
      slots.insert(slots.end(), {entry, start, ready, end, static_cast<uint64_t>(sm)});
      lo[sm] = std::min(lo[sm], start);
      hi[sm] = std::max(hi[sm], end);
      all_lo = std::min(all_lo, start);
      all_hi = std::max(all_hi, end);
      leads.push_back(start - entry);
      prologues.push_back(ready - start);
      ends.push_back(end);
    }
    double busy = 0;
    for (int i = 0; i < sms; ++i)
      if (hi[i] > lo[i]) busy += static_cast<double>(hi[i] - lo[i]);
    const bc::LaunchSpan s = bc::launch_span(slots, sms);
    EXPECT_NEAR(s.us, static_cast<double>(all_hi - all_lo) / 1e3, 1e-9);
    EXPECT_NEAR(s.sm_active_us, busy / sms / 1e3, 1e-9);
    EXPECT_LE(s.sm_active_us, s.us + 1e-9);
    EXPECT_NEAR(s.lead_us, static_cast<double>(lower_median(leads)) / 1e3, 1e-9);
    EXPECT_NEAR(s.prologue_us, static_cast<double>(lower_median(prologues)) / 1e3, 1e-9);
    EXPECT_NEAR(s.tail_us, static_cast<double>(all_hi - lower_median(ends)) / 1e3, 1e-9);
    EXPECT_LE(s.tail_us, s.us + 1e-9);
  }
}

}  // namespace
