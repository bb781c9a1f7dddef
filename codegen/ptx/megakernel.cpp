#include "codegen/ptx/megakernel.h"

#include <fmt/format.h>

#include <algorithm>

#include "ir/cost.h"
#include "ir/error.h"

namespace brickc::ptx {

void add_megakernel(const ir::Graph& g, KernelPlan& plan) {
  if (g.n_tokens != 1)
    fail("graph @{}: the megakernel runs decode steps (1 token), not {}-token steps", g.name,
         g.n_tokens);
  Megakernel mk;
  mk.name = "brickc_megakernel";
  // Two blocks of 256 threads per SM: 16 warps keep enough weight loads in flight, and
  // the 128 registers a thread may then use hold every template's buffers (ptxas -v).
  mk.min_blocks_per_sm = 2;

  // The brick that produces each value, and each brick's last launch.
  std::vector<size_t> producer(g.value_count(), SIZE_MAX), last_launch(g.bricks().size(), SIZE_MAX);
  for (size_t b = 0; b < g.bricks().size(); ++b)
    for (ir::ValueId r : g.bricks()[b].results) producer[r.index] = b;
  for (size_t i = 0; i < plan.launches.size(); ++i) {
    const Launch& l = plan.launches[i];
    std::vector<size_t> deps;
    if (i > 0 && plan.launches[i - 1].brick == l.brick) deps.push_back(i - 1);
    for (ir::ValueId o : g.bricks()[l.brick].operands)
      if (const size_t p = producer[o.index]; p != SIZE_MAX && p != l.brick)
        deps.push_back(last_launch[p]);
    std::sort(deps.begin(), deps.end());
    deps.erase(std::unique(deps.begin(), deps.end()), deps.end());
    if (deps.size() > static_cast<size_t>(kMegakernelMaxDeps))
      fail("graph @{}: brick {} reads the results of {} tasks; the megakernel waits for at most {}",
           g.name, l.brick, deps.size(), kMegakernelMaxDeps);
    mk.deps.push_back(std::move(deps));
    mk.smem = std::max(mk.smem, l.smem);
    last_launch[l.brick] = i;
  }

  std::string cases;
  for (size_t k = 0; k < plan.kernels.size(); ++k)
    cases += fmt::format("      case {}: {}(a, blk); return;\n", k, plan.kernels[k].template_call);
  plan.source += fmt::format(
      "\n#include \"megakernel.cuh\"\n"
      "// The persistent decode kernel: every launch above as a task (megakernel.cuh).\n"
      "extern \"C\" __global__ void __launch_bounds__(kThreads, {}) {}(const KArgs m) {{\n"
      "  megakernel(m, [](int kernel, const KArgs& a, const TaskBlock& blk) {{\n"
      "    switch (kernel) {{\n{}    }}\n  }});\n}}\n",
      mk.min_blocks_per_sm, mk.name, cases);
  plan.megakernel = std::move(mk);
}

std::vector<TaskPlacement> place_tasks(const KernelPlan& plan, unsigned blocks) {
  if (blocks == 0) fail("internal: a megakernel of no blocks");
  std::vector<TaskPlacement> out;
  unsigned first = 0;
  for (const Launch& l : plan.launches) {
    TaskPlacement t;
    t.nx = l.work_blocks > 0
               ? static_cast<unsigned>(std::min<int64_t>(l.work_blocks, blocks))
               : l.grid[0];
    t.ny = l.grid[1];
    t.first = first;
    t.arrivals = std::min(t.nx * t.ny, blocks);
    first = (first + t.nx * t.ny) % blocks;
    out.push_back(t);
  }
  return out;
}

std::string print_schedule(const ir::Graph& g, const KernelPlan& plan, unsigned sms) {
  if (!plan.megakernel) fail("graph @{}: no megakernel in this plan", g.name);
  const Megakernel& mk = *plan.megakernel;
  const unsigned blocks = sms * mk.min_blocks_per_sm;
  const std::vector<TaskPlacement> place = place_tasks(plan, blocks);
  std::vector<double> block_us(blocks, 0.0), block_bytes(blocks, 0.0);
  std::vector<int> block_tasks(blocks, 0);
  std::string tasks;
  double step_us = 0.0;
  bool budgets = true;
  for (size_t i = 0; i < plan.launches.size(); ++i) {
    const Launch& l = plan.launches[i];
    const ir::Brick& b = g.bricks()[l.brick];
    // A brick's bytes and budget belong to its first launch (a planted fault adds one).
    const bool main = i == 0 || plan.launches[i - 1].brick != l.brick;
    const double bytes = main ? static_cast<double>(ir::cost(g, b).value_or(ir::Cost{}).bytes()) : 0.0;
    const double us = main ? b.budget_us.value_or(0.0) : 0.0;
    budgets = budgets && b.budget_us.has_value();
    step_us += us;
    const TaskPlacement& t = place[i];
    const unsigned nv = t.nx * t.ny;
    for (unsigned k = 0; k < std::min(nv, blocks); ++k) {
      const unsigned blk = (t.first + k) % blocks;
      const double share = static_cast<double>((nv - k + blocks - 1) / blocks) / nv;
      block_us[blk] += us * share;
      block_bytes[blk] += bytes * share;
      ++block_tasks[blk];
    }
    std::string waits;
    for (size_t d : mk.deps[i]) waits += (waits.empty() ? "" : ",") + std::to_string(d);
    tasks += fmt::format("task {:4} {:<36} brick {:4} %{:<10} blocks {:4} from {:4} waits {:<12} {:>9} {}\n",
                         i, plan.kernels[l.kernel].name, l.brick,
                         g.value(b.results[0]).name, nv, t.first, waits.empty() ? "-" : waits,
                         ir::format_bytes(static_cast<uint64_t>(bytes)),
                         budgets ? fmt::format("{:8.3f} us", us) : std::string("-"));
  }
  std::string out = fmt::format(
      "schedule @{}: {} tasks on {} blocks ({} SMs x {}), {} B shared memory per block; "
      "predicted step {}\n",
      g.name, plan.launches.size(), blocks, sms, mk.min_blocks_per_sm, mk.smem,
      budgets ? fmt::format("{:.2f} us ({:.1f} tok/s)", step_us, 1e6 / step_us)
              : std::string("- (no budgets: run assign-budgets)"));
  out += tasks;
  for (unsigned blk = 0; blk < blocks; ++blk)
    out += fmt::format("block {:4}: {:4} tasks, {:>9}, {}\n", blk, block_tasks[blk],
                       ir::format_bytes(static_cast<uint64_t>(block_bytes[blk])),
                       budgets ? fmt::format("{:.3f} us busy", block_us[blk]) : std::string("-"));
  return out;
}

}  // namespace brickc::ptx
