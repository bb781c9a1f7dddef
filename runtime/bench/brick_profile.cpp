#include "runtime/bench/brick_profile.h"

#include <fmt/format.h>

#include <algorithm>

#include "ir/cost.h"
#include "ir/error.h"
#include "passes/pass.h"

namespace brickc::bench {

ir::Graph costed_at(const ir::Graph& g, int64_t kv_len, const std::string& profile,
                    std::optional<double> bandwidth_gbs) {
  ir::Graph c = g;
  c.kv_len = kv_len;
  passes::PassOptions po;
  po.device = profile;
  po.bandwidth_gbs = bandwidth_gbs;
  passes::assign_budgets(c, po);
  return c;
}

BrickProfiler::BrickProfiler(const ir::Graph& g) : g_(g), samples_(g.bricks().size()) {}

namespace {

// The first step decides whether every step gives a per-brick series (`per_brick` is then
// sized): each must give one value per brick, or none.
template <class T>
void add_series(std::vector<std::vector<T>>& per_brick, std::span<const T> values, size_t bricks,
                size_t step, const char* what) {
  const bool given = step == 0 ? !values.empty() : !per_brick.empty();
  if (values.size() != (given ? bricks : 0))
    fail("brick profile: {} {} for a graph of {} bricks in step {}", values.size(), what, bricks, step);
  if (given) per_brick.resize(bricks);
  for (size_t i = 0; i < values.size(); ++i) per_brick[i].push_back(values[i]);
}

// Each phase's p50 over the steps.
BrickPhases p50(const std::vector<BrickPhases>& steps) {
  auto of = [&](double BrickPhases::*f) {
    std::vector<double> v;
    for (const BrickPhases& p : steps) v.push_back(p.*f);
    return summarize(v).p50;
  };
  return {of(&BrickPhases::handoff_us), of(&BrickPhases::lead_us), of(&BrickPhases::prologue_us),
          of(&BrickPhases::tail_us)};
}

}  // namespace

void BrickProfiler::add_step(std::span<const double> brick_us, std::span<const double> sm_busy,
                             std::span<const BrickPhases> phases) {
  if (brick_us.size() != samples_.size())
    fail("brick profile: {} brick times for a graph of {} bricks", brick_us.size(),
         samples_.size());
  add_series(sm_busy_, sm_busy, samples_.size(), steps_, "SM-busy fractions");
  add_series(phases_, phases, samples_.size(), steps_, "brick phases");
  for (size_t i = 0; i < brick_us.size(); ++i) samples_[i].push_back(brick_us[i]);
  ++steps_;
}

ProfileReport BrickProfiler::report(double bandwidth_gbs) const {
  if (steps_ == 0) fail("brick profile: no step was measured");
  ProfileReport r;
  r.steps = steps_;
  r.kv_len = g_.kv_len;
  r.bandwidth_gbs = bandwidth_gbs;
  for (size_t i = 0; i < samples_.size(); ++i) {
    const ir::Brick& b = g_.bricks()[i];
    BrickRow row;
    row.brick = i;
    row.kind = std::string(ir::keyword(b.kind));
    row.value = g_.value(b.results[0]).name;
    row.layer = b.layer;
    row.us = summarize(samples_[i]);
    std::vector<double> sorted = samples_[i];
    std::sort(sorted.begin(), sorted.end());
    row.p999_us = percentile(sorted, 0.999);
    if (auto c = ir::cost(g_, b)) row.bytes = c->bytes();
    row.gbs = row.us.p50 > 0 ? static_cast<double>(row.bytes) / (row.us.p50 * 1e3) : 0.0;
    row.pct_bandwidth = 100 * row.gbs / bandwidth_gbs;
    row.budget_us = b.budget_us;
    if (!sm_busy_.empty()) row.sm_busy_pct = 100 * summarize(sm_busy_[i]).p50;
    if (!phases_.empty()) {
      row.phases = p50(phases_[i]);
      r.handoff_us = r.handoff_us.value_or(0.0) + row.phases->handoff_us;
    }
    r.step_p50_us += row.us.p50;
    r.roofline_us += b.budget_us.value_or(0.0);
    r.rows.push_back(std::move(row));
  }
  if (!sm_busy_.empty() && r.step_p50_us > 0) {
    double weighted = 0;
    for (const BrickRow& row : r.rows) weighted += row.us.p50 * *row.sm_busy_pct;
    r.sm_busy_pct = weighted / r.step_p50_us;
  }
  for (size_t i = 0; i < r.rows.size(); ++i) {
    const BrickRow& row = r.rows[i];
    if (row.us.p50 > r.rows[r.slowest].us.p50) r.slowest = i;
    if (row.layer < 0) continue;
    auto [it, fresh] = r.slowest_in_layer.try_emplace(row.layer, i);
    if (!fresh && row.us.p50 > r.rows[it->second].us.p50) it->second = i;
  }
  return r;
}

std::optional<std::string> budget_violation(const ir::Graph& g, std::span<const double> us,
                                            double factor) {
  if (us.size() != g.bricks().size())
    fail("budget check: {} brick times for a graph of {} bricks", us.size(), g.bricks().size());
  std::optional<size_t> worst;
  double worst_ratio = 1.0;
  for (size_t i = 0; i < us.size(); ++i) {
    const auto& budget = g.bricks()[i].budget_us;
    if (!budget || *budget <= 0) continue;
    const double ratio = us[i] / (factor * *budget);
    if (ratio > worst_ratio) {
      worst_ratio = ratio;
      worst = i;
    }
  }
  if (!worst) return std::nullopt;
  const ir::Brick& b = g.bricks()[*worst];
  return fmt::format("brick {} {} %{} ({}) took {:.1f} µs, over its budget of {:.1f} µs{}",
                     *worst, ir::keyword(b.kind), g.value(b.results[0]).name,
                     b.layer >= 0 ? fmt::format("layer {}", b.layer) : "outside the layers",
                     us[*worst], *b.budget_us,
                     factor != 1.0 ? fmt::format(" x {:g}", factor) : std::string());
}

namespace {

std::string where(const BrickRow& r) {
  return r.layer >= 0 ? fmt::format("layer {}", r.layer) : "outside the layers";
}

std::string gap(const BrickRow& r) {
  if (!r.budget_us) return "no budget";
  return fmt::format("{:+.1f} µs ({:.2f}x) against its budget of {:.1f} µs", r.us.p50 - *r.budget_us,
                     r.us.p50 / *r.budget_us, *r.budget_us);
}

}  // namespace

std::string format_profile(const ProfileReport& r) {
  struct Kind {
    int n = 0;
    double p50 = 0, budget = 0, busy = 0;  // busy: SM-busy % times p50, summed
    uint64_t bytes = 0;
    int over = 0;
  };
  std::map<std::string, Kind> kinds;
  for (const BrickRow& row : r.rows) {
    Kind& k = kinds[row.kind];
    ++k.n;
    k.p50 += row.us.p50;
    k.budget += row.budget_us.value_or(0.0);
    k.bytes += row.bytes;
    k.over += row.over_budget();
    k.busy += row.us.p50 * row.sm_busy_pct.value_or(0.0);
  }
  const bool busy = r.sm_busy_pct.has_value();
  std::string out = fmt::format(
      "\nper-brick time over {} decode steps{} (sum of each brick's p50; bytes and budgets of "
      "a step attending {} positions; budget: the roofline pass at {:.0f} GB/s):\n"
      "| brick | count | µs (p50) | % of step | budget µs | GB/s | % of bandwidth | over budget |{}\n"
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |{}\n",
      r.steps, r.depth > 0 ? fmt::format(" at depth {}", r.depth) : "", r.kv_len, r.bandwidth_gbs,
      busy ? " SMs busy |" : "", busy ? " ---: |" : "");
  for (const auto& [name, k] : kinds) {
    const double gbs = k.p50 > 0 ? static_cast<double>(k.bytes) / (k.p50 * 1e3) : 0.0;
    out += fmt::format("| {} | {} | {:.1f} | {:.1f} % | {:.1f} | {:.0f} | {:.1f} % | {} of {} |{}\n",
                       name, k.n, k.p50, 100 * k.p50 / r.step_p50_us, k.budget, gbs,
                       100 * gbs / r.bandwidth_gbs, k.over, k.n,
                       busy ? fmt::format(" {:.0f} % |", k.p50 > 0 ? k.busy / k.p50 : 0.0) : "");
  }
  out += fmt::format("| all bricks | {} | {:.1f} | 100 % | {:.1f} | | | |{}\n", r.rows.size(),
                     r.step_p50_us, r.roofline_us,
                     busy ? fmt::format(" {:.0f} % |", *r.sm_busy_pct) : "");
  if (busy)
    out += fmt::format(
        "SMs busy: {:.0f} % of the bricks' time (each SM from its first block's start to its last "
        "block's end within a brick, averaged over the device's SMs); the rest is the bricks' "
        "tails and the SMs they leave idle\n",
        *r.sm_busy_pct);

  if (r.handoff_us) {
    std::map<std::string, BrickPhases> ph;
    for (const BrickRow& row : r.rows) {
      const BrickPhases p = row.phases.value_or(BrickPhases{});
      BrickPhases& k = ph[row.kind];
      k.handoff_us += p.handoff_us;
      k.lead_us += p.lead_us;
      k.prologue_us += p.prologue_us;
      k.tail_us += p.tail_us;
    }
    out += fmt::format(
        "\nwhere the bricks' time goes (µs per step, sums of each brick's p50): handoff, from the "
        "previous brick's end to this one's first start (launch and waiting for the inputs, "
        "outside every brick's time); lead, a block resident before its inputs were ready (its "
        "weights stream meanwhile); prologue, inputs ready to the input vector in shared memory; "
        "tail, the brick's end after its median block's end (lead, prologue: the median block):\n"
        "| brick | µs (p50) | handoff | lead | prologue | tail |\n"
        "| --- | ---: | ---: | ---: | ---: | ---: |\n");
    for (const auto& [name, p] : ph)
      out += fmt::format("| {} | {:.1f} | {:.1f} | {:.1f} | {:.1f} | {:.1f} |\n", name, kinds[name].p50,
                         p.handoff_us, p.lead_us, p.prologue_us, p.tail_us);
  }

  std::vector<size_t> order(r.rows.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return r.rows[a].us.p50 > r.rows[b].us.p50; });
  out += "\nslowest bricks (µs: p50 / p99 / p999):\n";
  for (size_t i = 0; i < std::min<size_t>(5, order.size()); ++i) {
    const BrickRow& row = r.rows[order[i]];
    out += fmt::format("  {} %{} ({}): {:.1f} / {:.1f} / {:.1f}, {:.0f} GB/s, {}\n", row.kind,
                       row.value, where(row), row.us.p50, row.us.p99, row.p999_us, row.gbs,
                       gap(row));
  }
  const BrickRow& s = r.rows[r.slowest];
  out += fmt::format("bottleneck: {} %{} ({}), {:.1f} µs, {}\n", s.kind, s.value, where(s),
                     s.us.p50, gap(s));
  std::map<std::string, int> per_layer;
  for (const auto& [layer, i] : r.slowest_in_layer) ++per_layer[r.rows[i].kind];
  out += "slowest brick per layer:";
  for (const auto& [kind, n] : per_layer) out += fmt::format(" {} in {} layers;", kind, n);
  out.back() = '\n';
  out += fmt::format("step: {:.1f} µs of bricks{} against a roofline of {:.1f} µs ({:.2f}x)\n",
                     r.step_p50_us,
                     r.handoff_us ? fmt::format(" and {:.1f} µs between them", *r.handoff_us) : "",
                     r.roofline_us, r.roofline_us > 0 ? r.step_p50_us / r.roofline_us : 0.0);
  return out;
}

}  // namespace brickc::bench
