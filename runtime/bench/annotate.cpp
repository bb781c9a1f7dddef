#include "runtime/bench/annotate.h"

#include <fmt/format.h>

#include <vector>

#include "ir/error.h"
#include "ir/printer.h"

namespace brickc::bench {

std::string annotate_ir(const ir::Graph& g, const ProfileReport& m, const std::string& source) {
  const auto& bricks = g.bricks();
  if (m.rows.size() != bricks.size())
    fail("{}: the profile has {} bricks, this graph {}: it was measured on another model or "
         "pass pipeline",
         source, m.rows.size(), bricks.size());
  std::vector<std::string> notes;
  double budget_sum = 0;
  for (size_t i = 0; i < bricks.size(); ++i) {
    const ir::Brick& b = bricks[i];
    const BrickRow& row = m.rows[i];
    const std::string here = g.value(b.results[0]).name;
    if (row.brick != i || row.kind != ir::keyword(b.kind) || row.value != here)
      fail("{}: brick {} is {} %{} there and {} %{} here: it was measured on another model or "
           "pass pipeline",
           source, i, row.kind, row.value, ir::keyword(b.kind), here);
    std::string note = fmt::format("measured p50 {:.2f} µs, p99 {:.2f} µs", row.us.p50, row.us.p99);
    if (b.budget_us) {
      budget_sum += *b.budget_us;
      const double pct = 100 * row.us.p50 / *b.budget_us;
      note += fmt::format(": {:.0f} % of budget{}", pct, pct > 100 ? " OVER" : "");
    } else {
      note += " (no budget)";
    }
    if (i == m.slowest) note += " <- bottleneck";
    notes.push_back(std::move(note));
  }
  std::string out = ir::print(g, notes);
  out += fmt::format("// measured ({}, {} steps): bricks {:.1f} µs per step", source, m.steps,
                     m.step_p50_us);
  if (budget_sum > 0)
    out += fmt::format(" vs roofline {:.1f} µs ({:.2f}x)", budget_sum, m.step_p50_us / budget_sum);
  const BrickRow& s = m.rows.at(m.slowest);
  out += fmt::format("; bottleneck {} %{}{} at {:.2f} µs\n", s.kind, s.value,
                     s.layer >= 0 ? fmt::format(" (layer {})", s.layer) : "", s.us.p50);
  return out;
}

}  // namespace brickc::bench
