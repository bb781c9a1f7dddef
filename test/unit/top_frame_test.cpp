// brickc top's frames (runtime/top/frame) on synthetic snapshots with random times and
// budgets: the bottleneck is the kind with the most time, bars are as long as the % of
// budget computed here says, FAIL exactly where a kind is over budget, the histogram counts
// every step, and every panel fits every terminal size.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "runtime/top/frame.h"

namespace brickc::top {
namespace {

constexpr int kLayers = 12;
const std::vector<std::string> kKinds = {"embed",      "rmsnorm_qkv", "attention",
                                         "matvec_add", "swiglu",      "rmsnorm_lm_head"};

bool per_layer(const std::string& kind) { return kind != "embed" && kind != "rmsnorm_lm_head"; }

// A profile of one step in graph order: the per-layer kinds once per layer, each brick
// with a random p50 and a budget between a third and three times it.
Snapshot random_snapshot(std::mt19937& rng) {
  std::uniform_real_distribution<double> us(1.0, 500.0), factor(1.0 / 3, 3.0);
  Snapshot s;
  s.model = "tiny";
  s.device = "cpu (2 threads)";
  s.bandwidth_gbs = 20;
  s.steps = 40;
  s.samples = 32;
  bench::ProfileReport r;
  r.steps = 32;
  r.bandwidth_gbs = 20;
  auto add = [&](const std::string& kind, int layer) {
    bench::BrickRow row;
    row.brick = r.rows.size();
    row.kind = kind;
    row.layer = layer;
    row.value = kind + (layer >= 0 ? "." + std::to_string(layer) : "");
    row.us.p50 = us(rng);
    row.us.p99 = row.us.p50 * 1.5;
    row.budget_us = row.us.p50 / factor(rng);
    row.bytes = static_cast<uint64_t>(us(rng) * 1e4);
    r.step_p50_us += row.us.p50;
    r.roofline_us += *row.budget_us;
    r.rows.push_back(row);
  };
  add("embed", -1);
  for (int l = 0; l < kLayers; ++l)
    for (const std::string& k : kKinds)
      if (per_layer(k)) add(k, l);
  add("rmsnorm_lm_head", -1);
  s.profile = r;
  for (int i = 0; i < 32; ++i) s.step_us.push_back(us(rng) * 10);
  return s;
}

struct Sums {
  double us = 0, budget = 0;
};

std::map<std::string, Sums> sums(const Snapshot& s) {
  std::map<std::string, Sums> m;
  for (const auto& row : s.profile->rows) {
    m[row.kind].us += row.us.p50;
    m[row.kind].budget += *row.budget_us;
  }
  return m;
}

// The pipeline line of `kind`: markers in cells 0-2, the name from cell 3.
const std::string* row_of(const std::vector<std::string>& lines, const std::string& kind) {
  for (const auto& l : lines)
    if (l.size() > 3 + kind.size() && l.compare(3, kind.size() + 1, kind + " ") == 0) return &l;
  return nullptr;
}

std::string bar_of(const std::string& line) {
  const size_t open = line.find('['), close = line.find(']', open);
  EXPECT_NE(open, std::string::npos) << line;
  EXPECT_NE(close, std::string::npos) << line;
  return line.substr(open + 1, close - open - 1);
}

size_t count(const std::string& s, const std::string& chars) {
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [&](char c) { return chars.find(c) != std::string::npos; }));
}

void expect_fits(const std::vector<std::string>& lines, int cols, int rows,
                 const std::string& what) {
  EXPECT_LE(lines.size(), static_cast<size_t>(rows)) << what;
  for (const auto& l : lines) {
    EXPECT_LE(l.size(), static_cast<size_t>(cols)) << what << ": " << l;
    for (char c : l)
      ASSERT_TRUE(c >= 0x20 && c < 0x7F) << what << ": a byte outside ASCII in " << l;
  }
}

TEST(TopFrame, MarksTheKindWithTheMostTimeAsTheBottleneck) {
  std::mt19937 rng(std::random_device{}());
  for (int trial = 0; trial < 20; ++trial) {
    const Snapshot s = random_snapshot(rng);
    const auto m = sums(s);
    const auto worst = std::max_element(
        m.begin(), m.end(), [](const auto& a, const auto& b) { return a.second.us < b.second.us; });
    const auto lines = render(s, View{}, 100, 40);
    for (const std::string& k : kKinds) {
      const std::string* line = row_of(lines, k);
      ASSERT_NE(line, nullptr) << k;
      EXPECT_EQ((*line)[1] == '*', k == worst->first) << *line;
    }
    const bool named = std::any_of(lines.begin(), lines.end(), [&](const std::string& l) {
      return l.rfind("* bottleneck: " + worst->first + " ", 0) == 0;
    });
    EXPECT_TRUE(named) << worst->first;
  }
}

TEST(TopFrame, BarsShowThePercentOfBudgetAndFailOverIt) {
  std::mt19937 rng(std::random_device{}());
  for (int cols : {56, 72, 100, 160}) {  // kind names whole
    const Snapshot s = random_snapshot(rng);
    const auto m = sums(s);
    double scale = 100;
    for (const auto& [k, v] : m) scale = std::max(scale, 100 * v.us / v.budget);
    const auto lines = render(s, View{}, cols, 40);
    for (const auto& [k, v] : m) {
      const std::string* line = row_of(lines, k);
      ASSERT_NE(line, nullptr) << k << " at " << cols << " columns";
      const std::string bar = bar_of(*line);
      const double pct = 100 * v.us / v.budget;
      const double width = static_cast<double>(bar.size());
      EXPECT_NEAR(static_cast<double>(count(bar, "#!")), pct / scale * width, 0.5 + 1e-9) << *line;
      // '!' is the part past the budget.
      EXPECT_NEAR(static_cast<double>(count(bar, "!")), std::max(0.0, (pct - 100) / scale * width),
                  1.0)
          << *line;
      EXPECT_EQ(line->find("FAIL") != std::string::npos, v.us > v.budget) << *line;
      EXPECT_EQ(line->find("PASS") != std::string::npos, v.us <= v.budget) << *line;
    }
  }
}

TEST(TopFrame, BudgetVersusActualDrawsBothOnOneScale) {
  std::mt19937 rng(std::random_device{}());
  const Snapshot s = random_snapshot(rng);
  const auto m = sums(s);
  double scale = 0;
  for (const auto& [k, v] : m) scale = std::max({scale, v.us, v.budget});
  View view;
  view.budget_vs_actual = true;
  const auto lines = render(s, view, 120, 40);
  for (const auto& [k, v] : m) {
    const std::string* line = row_of(lines, k);
    ASSERT_NE(line, nullptr) << k;
    const std::string bar = bar_of(*line);
    const double width = static_cast<double>(bar.size());
    EXPECT_NEAR(static_cast<double>(count(bar, "#!")), v.us / scale * width, 0.5 + 1e-9) << *line;
    EXPECT_NEAR(static_cast<double>(count(bar, "#.")), v.budget / scale * width, 0.5 + 1e-9)
        << *line;
  }
}

TEST(TopFrame, DrillDownListsEveryLayerOfTheKind) {
  std::mt19937 rng(std::random_device{}());
  const Snapshot s = random_snapshot(rng);
  const auto kinds = kind_rows(*s.profile);
  ASSERT_EQ(kinds.size(), kKinds.size());
  for (size_t i = 0; i < kKinds.size(); ++i)
    EXPECT_EQ(kinds[i].kind, kKinds[i]) << "pipeline order";
  View v;
  v.panel = Panel::kDrill;
  v.selected = 2;  // attention
  const auto lines = render(s, v, 100, 40);
  EXPECT_NE(lines[2].find("drill-down: attention x" + std::to_string(kLayers)), std::string::npos)
      << lines[2];
  double slowest = 0;
  for (const auto& row : s.profile->rows)
    if (row.kind == "attention") slowest = std::max(slowest, row.us.p50);
  for (const auto& row : s.profile->rows) {
    if (row.kind != "attention") continue;
    const std::string name = "L" + std::to_string(row.layer) + " %" + row.value;
    const std::string* line = row_of(lines, name);
    ASSERT_NE(line, nullptr) << name;
    EXPECT_EQ((*line)[1] == '*', row.us.p50 == slowest) << *line;
  }
}

TEST(TopFrame, HistogramCountsEveryStep) {
  std::mt19937 rng(std::random_device{}());
  const Snapshot s = random_snapshot(rng);
  View v;
  v.panel = Panel::kHistogram;
  const auto lines = render(s, v, 100, 40);
  ASSERT_NE(lines[2].find("latency histogram: 32 steps"), std::string::npos) << lines[2];
  size_t total = 0;
  for (size_t i = 3; i + 1 < lines.size(); ++i) {
    double lo = 0, hi = 0;
    unsigned long n = 0;
    ASSERT_EQ(std::sscanf(lines[i].c_str(), "%lf - %lf %lu", &lo, &hi, &n), 3) << lines[i];
    EXPECT_LE(lo, hi);
    total += n;
  }
  EXPECT_EQ(total, s.step_us.size());
}

TEST(TopFrame, EveryPanelFitsEverySize) {
  std::mt19937 rng(std::random_device{}());
  Snapshot s = random_snapshot(rng);
  s.error = std::string(300, 'x') + " µs";
  s.running = false;
  s.verify_every = 4;
  s.verify.steps = 3;
  s.verify.by_kind["attention"] = {12, 2, 7.5};
  s.non_finite["attention"] = 1;
  runtime::BrickResult bad;
  bad.kind = "attention";
  bad.value = "attn.1";
  bad.layer = 1;
  bad.max_abs = bad.max_rel = 1;
  bad.tolerance = 1e-3;
  s.verify.failed.assign(5, bad);
  GpuReading g;
  g.name = "NVIDIA H100 80GB HBM3 with a name longer than a narrow terminal";
  g.mem_total = uint64_t{80} << 30;
  g.power_w = 312.5;
  GpuReading missing;
  missing.error = "NVML unavailable: dlopen(libnvidia-ml.so.1) failed: " + std::string(120, 'y');
  Snapshot waiting;
  std::vector<std::pair<int, int>> sizes = {{40, 12},  {41, 13},  {80, 24},
                                            {100, 40}, {120, 40}, {250, 70}};
  std::uniform_int_distribution<int> c(kMinCols, 220), r(kMinRows, 80);
  for (int i = 0; i < 10; ++i) sizes.emplace_back(c(rng), r(rng));
  for (const Panel p : {Panel::kPipeline, Panel::kDrill, Panel::kHistogram, Panel::kGpu,
                        Panel::kBandwidth, Panel::kAssertions})
    for (const bool versus : {false, true})
      for (const auto& [cols, rows] : sizes)
        for (const Snapshot* snap : {&s, &waiting})
          for (const GpuReading* gpu : {&g, &missing}) {
            Snapshot shown = *snap;
            shown.gpu = *gpu;
            View v;
            v.panel = p;
            v.budget_vs_actual = versus;
            v.selected = 9;  // past the last kind: clamped
            v.scroll = 1000;
            const std::string what = "panel " + std::to_string(static_cast<int>(p)) + " at " +
                                     std::to_string(cols) + "x" + std::to_string(rows);
            const auto lines = render(shown, v, cols, rows);
            expect_fits(lines, cols, rows, what);
            ASSERT_GE(lines.size(), 4u) << what;
            EXPECT_EQ(lines[0].rfind("brickc top | ", 0), 0u) << what;
          }
}

TEST(TopFrame, SaysWhenTheTerminalIsTooSmall) {
  std::mt19937 rng(std::random_device{}());
  const Snapshot s = random_snapshot(rng);
  for (const auto& [cols, rows] :
       std::vector<std::pair<int, int>>{{39, 40}, {100, 11}, {20, 5}, {1, 1}}) {
    const auto lines = render(s, View{}, cols, rows);
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_LE(lines[0].size(), static_cast<size_t>(cols));
    const size_t n = std::min<size_t>(18, static_cast<size_t>(cols));
    EXPECT_EQ(lines[0].substr(0, n), std::string("terminal too small").substr(0, n)) << lines[0];
  }
  EXPECT_TRUE(render(s, View{}, 0, 10).empty());
}

TEST(TopFrame, ScrollsAListLongerThanTheScreen) {
  std::mt19937 rng(std::random_device{}());
  Snapshot s = random_snapshot(rng);
  View v;
  v.panel = Panel::kDrill;
  v.selected = 1;  // rmsnorm_qkv: one line per layer, more than 12 rows hold
  const size_t last = max_scroll(s, v, 80, 12);
  ASSERT_GT(last, 0u);
  v.scroll = last;
  const auto bottom = render(s, v, 80, 12);
  EXPECT_NE(row_of(bottom, "L" + std::to_string(kLayers - 1) + " %rmsnorm_qkv." +
                               std::to_string(kLayers - 1)),
            nullptr);
  v.scroll = 0;
  EXPECT_NE(row_of(render(s, v, 80, 12), "L0 %rmsnorm_qkv.0"), nullptr);
  EXPECT_EQ(max_scroll(s, v, 100, 40), 0u);
}

}  // namespace
}  // namespace brickc::top
