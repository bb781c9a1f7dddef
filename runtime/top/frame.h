// The frames of `brickc top`: a Snapshot drawn as lines of plain text for a terminal of a
// given size, one panel at a time. Pure (no terminal, no clock), so that tests and
// `--once` see exactly what the TUI shows. Frames are ASCII ("us", not "µs"): a terminal
// in the C locale (CI's tmux) shows any other byte as garbage and shifts the columns.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/bench/brick_profile.h"
#include "runtime/top/monitor.h"

namespace brickc::top {

enum class Panel { kPipeline, kDrill, kHistogram, kGpu, kBandwidth, kAssertions };

struct View {
  Panel panel = Panel::kPipeline;
  // b: the pipeline's bars show budget and actual µs on one scale, instead of each kind's
  // time as a % of its budget.
  bool budget_vs_actual = false;
  size_t selected = 0;  // pipeline row (brick kind) the drill-down opens
  size_t scroll = 0;    // first list line shown by the other panels, when they overflow
};

// Below this a frame is one line saying so.
constexpr int kMinCols = 40, kMinRows = 12;

// No more than `rows` lines, none longer than `cols`.
std::vector<std::string> render(const Snapshot& s, const View& v, int cols, int rows);

// The largest View::scroll that still changes what the panel shows at this size.
size_t max_scroll(const Snapshot& s, const View& v, int cols, int rows);

// A brick kind summed over the bricks of that kind in one step: a pipeline row.
struct KindRow {
  std::string kind;
  int count = 0;
  double us = 0;                    // sum of the bricks' p50
  std::optional<double> budget_us;  // sum of the budgets, when any brick has one
  uint64_t bytes = 0;
  int over = 0;  // bricks whose p50 exceeds their budget
  bool fails() const { return budget_us && us > *budget_us; }
};

// In pipeline order (the order kinds first appear in the graph).
std::vector<KindRow> kind_rows(const bench::ProfileReport& r);

}  // namespace brickc::top
