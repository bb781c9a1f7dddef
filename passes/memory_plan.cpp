#include "passes/memory_plan.h"

#include <fmt/format.h>

#include "ir/cost.h"
#include "passes/pass.h"
#include "passes/rewrite.h"

namespace brickc::passes {
namespace {

constexpr size_t kNamesPerBuffer = 6;

}  // namespace

MemoryPlan plan_memory(const ir::Graph& g) {
  const auto& bricks = g.bricks();
  const size_t end = bricks.size();
  MemoryPlan p;
  p.buffer_of.assign(g.value_count(), -1);
  std::vector<size_t> last_use(g.value_count(), 0);
  for (size_t i = 0; i < bricks.size(); ++i)
    for (ir::ValueId o : bricks[i].operands) last_use[o.index] = i;
  for (ir::ValueId o : g.outputs) last_use[o.index] = end;

  std::vector<size_t> free_after;  // per buffer: index of its occupant's last reader
  uint64_t live = 0;
  std::vector<std::pair<size_t, uint64_t>> live_until;  // (last use, bytes) of live values
  for (size_t i = 0; i < bricks.size(); ++i) {
    // Values whose last reader ran before brick i no longer count as live.
    std::erase_if(live_until, [&](const auto& e) {
      if (e.first >= i) return false;
      live -= e.second;
      return true;
    });
    for (size_t r = 0; r < bricks[i].results.size(); ++r) {
      if (ir::updated_operand(bricks[i], r)) continue;  // a cache, updated in place
      ir::ValueId v = bricks[i].results[r];
      const uint64_t bytes = g.type(v).bytes();
      // A result nobody reads still needs somewhere to go while the brick runs.
      const size_t until = std::max(last_use[v.index], i);
      p.unplanned_bytes += bytes;
      live += bytes;
      live_until.emplace_back(until, bytes);
      p.peak_live_bytes = std::max(p.peak_live_bytes, live);
      // Best fit among free buffers: the smallest that holds it, else grow the largest.
      int best = -1;
      for (size_t b = 0; b < free_after.size(); ++b) {
        if (free_after[b] >= i) continue;
        const uint64_t have = p.buffer_bytes[b];
        if (best < 0) {
          best = static_cast<int>(b);
          continue;
        }
        const uint64_t cur = p.buffer_bytes[best];
        bool fits = have >= bytes, cur_fits = cur >= bytes;
        if ((fits && (!cur_fits || have < cur)) || (!fits && !cur_fits && have > cur))
          best = static_cast<int>(b);
      }
      if (best < 0) {
        best = static_cast<int>(p.buffer_bytes.size());
        p.buffer_bytes.push_back(0);
        free_after.push_back(0);
      }
      p.buffer_bytes[best] = std::max(p.buffer_bytes[best], bytes);
      free_after[best] = until;
      p.buffer_of[v.index] = best;
    }
  }
  for (uint64_t b : p.buffer_bytes) p.arena_bytes += b;
  return p;
}

std::string describe(const ir::Graph& g, const MemoryPlan& p) {
  std::string s = fmt::format(
      "memory: {} activation buffers, {} (peak live {}; {} without reuse)",
      p.buffer_bytes.size(), ir::format_bytes(p.arena_bytes), ir::format_bytes(p.peak_live_bytes),
      ir::format_bytes(p.unplanned_bytes));
  std::vector<std::vector<std::string>> names(p.buffer_bytes.size());
  for (size_t i = 0; i < p.buffer_of.size(); ++i)
    if (p.buffer_of[i] >= 0) names[p.buffer_of[i]].push_back("%" + g.value({uint32_t(i)}).name);
  for (size_t b = 0; b < names.size(); ++b) {
    const size_t shown = std::min(names[b].size(), kNamesPerBuffer);
    std::vector<std::string> head(names[b].begin(), names[b].begin() + shown);
    s += fmt::format("\n  buf{} {}: {}", b, ir::format_bytes(p.buffer_bytes[b]),
                     fmt::join(head, ", "));
    if (names[b].size() > shown) s += fmt::format(", ... ({} values)", names[b].size());
  }
  return s;
}

void plan_memory_pass(ir::Graph& g, const PassOptions&) {
  set_note(g, "plan-memory", describe(g, plan_memory(g)));
}

}  // namespace brickc::passes
