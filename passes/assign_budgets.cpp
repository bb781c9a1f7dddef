// assign-budgets: each brick's time budget from a roofline model of the device profile,
//   budget_us = max(bytes / bandwidth, flops / peak) + boundary_us,
// with bytes and flops from ir/cost.h (attention at the graph's kv_len). Peak is the FP32
// rate, except for the matrix products and attention of a T-token step (T > 1), which run
// on tensor cores at the profile's matrix rate. The note gives the step total and the
// tok/s it predicts; the printer adds each brick's share of the step.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "ir/cost.h"
#include "ir/error.h"
#include "passes/device_profile.h"
#include "passes/pass.h"
#include "passes/rewrite.h"

namespace brickc::passes {
namespace {

bool on_tensor_cores(ir::BrickKind k) {
  using K = ir::BrickKind;
  switch (k) {
    case K::Embed: case K::Rmsnorm: case K::Rope: case K::KvAppend: case K::Swiglu: case K::Add:
    case K::Argmax: case K::RopeKvAppend:
      return false;
    default:
      return true;
  }
}

}  // namespace

void assign_budgets(ir::Graph& g, const PassOptions& opts) {
  const DeviceProfile d = device_profile(opts.device, opts.bandwidth_gbs);
  double step_us = 0, memory_us = 0;
  const ir::Brick* worst = nullptr;
  for (auto& b : g.bricks()) {
    auto c = ir::cost(g, b);
    if (!c) fail("assign-budgets: {} brick has the wrong operand or result count", ir::keyword(b.kind));
    // GB/s = 1e3 B/µs, GFLOP/s = 1e3 FLOP/µs.
    const double mem = static_cast<double>(c->bytes()) / (d.bandwidth_gbs * 1e3);
    const double peak = g.n_tokens > 1 && on_tensor_cores(b.kind) ? d.tensor_gflops : d.peak_gflops;
    const double compute = static_cast<double>(c->flops) / (peak * 1e3);
    // Nanosecond resolution keeps the printed budgets short (budget_us = 1.437).
    b.budget_us = std::round((std::max(mem, compute) + d.boundary_us) * 1e3) / 1e3;
    step_us += *b.budget_us;
    memory_us += mem;
    if (!worst || *b.budget_us > *worst->budget_us) worst = &b;
  }
  std::string note = fmt::format(
      "budget: device {} ({:g} GB/s used, {:g} GB/s datasheet; {:g} GFLOP/s{}; {:g} us per "
      "brick; {})",
      d.name, d.bandwidth_gbs, d.datasheet_gbs, d.peak_gflops,
      g.n_tokens > 1 ? fmt::format(", {:g} GFLOP/s on tensor cores", d.tensor_gflops) : "",
      d.boundary_us, d.source);
  if (step_us > 0) {
    note += fmt::format(
        "\nbudget: step {:.2f} us = {:.1f} tok/s; {} bricks; streaming {:.2f} us ({:.1f}%), "
        "brick boundaries {:.2f} us",
        step_us, 1e6 * static_cast<double>(g.n_tokens) / step_us, g.bricks().size(), memory_us,
        100 * memory_us / step_us,
        d.boundary_us * static_cast<double>(g.bricks().size()));
    note += fmt::format("\nbudget: largest brick {} %{}: {:.2f} us ({:.1f}% of step)",
                        ir::keyword(worst->kind), g.value(worst->results[0]).name,
                        *worst->budget_us, 100 * *worst->budget_us / step_us);
  }
  set_note(g, "assign-budgets", std::move(note));
}

}  // namespace brickc::passes
