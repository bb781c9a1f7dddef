// Per-brick timings over many decode steps, held against the budget pass's roofline claims:
// percentiles, achieved bandwidth, over/under budget, and the bottleneck report. Backend
// agnostic: the samples come from the GPU kernels' %globaltimer stamps or the CPU
// executor's steady clock, one vector per step indexed like graph.bricks().
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "runtime/bench/brick_phases.h"
#include "runtime/bench/stats.h"

namespace brickc::bench {

// `g` with the bytes and budgets of a step attending kv_len cached positions
// (Graph::kv_len), budgets from the roofline of device profile `profile`
// (passes/device_profile.h): what steps at that cache length are held against. A graph's
// own costs are those of its first position, where attention reads almost nothing.
ir::Graph costed_at(const ir::Graph& g, int64_t kv_len, const std::string& profile,
                    std::optional<double> bandwidth_gbs = {});

struct BrickRow {
  size_t brick = 0;
  std::string kind, value;  // IR keyword, first result
  int layer = -1;
  Summary us;               // over steps; p999 below
  double p999_us = 0;
  uint64_t bytes = 0;       // ir::cost: read + written
  double gbs = 0;           // bytes / p50
  double pct_bandwidth = 0;  // gbs over the profile's bandwidth
  std::optional<double> budget_us;
  // GPU: the % of the brick's time that the device's SMs were busy (p50 over the steps;
  // runtime/cuda/trace_span.h); what is missing is the brick's tail and the SMs it left idle.
  std::optional<double> sm_busy_pct;
  std::optional<BrickPhases> phases;  // GPU: each phase's p50 over the steps
  bool over_budget() const { return budget_us && us.p50 > *budget_us; }
};

struct ProfileReport {
  std::vector<BrickRow> rows;  // graph order
  size_t steps = 0;
  int depth = 0;           // cached positions before the first step (bench -d)
  int64_t kv_len = 1;      // cached positions the bytes and budgets assume (the graph's)
  double step_p50_us = 0;  // sum of the bricks' p50
  double roofline_us = 0;  // sum of the budgets
  double bandwidth_gbs = 0;
  std::optional<double> sm_busy_pct;  // the rows', weighted by their p50
  std::optional<double> handoff_us;   // GPU: the rows' handoff p50s, summed (between the bricks)
  size_t slowest = 0;                    // index into rows
  std::map<int, size_t> slowest_in_layer;  // layer -> index into rows
};

class BrickProfiler {
 public:
  explicit BrickProfiler(const ir::Graph& g);
  // One step's brick times, µs, and (GPU) the fraction of each that the SMs were busy and
  // its phases; fails unless there is one per brick (or, for `sm_busy` and `phases`, none
  // in every step).
  void add_step(std::span<const double> brick_us, std::span<const double> sm_busy = {},
                std::span<const BrickPhases> phases = {});
  size_t steps() const { return steps_; }
  // Fails if no step was added.
  ProfileReport report(double bandwidth_gbs) const;

 private:
  const ir::Graph& g_;
  std::vector<std::vector<double>> samples_;  // per brick
  std::vector<std::vector<double>> sm_busy_;  // per brick; empty when the steps give none
  std::vector<std::vector<BrickPhases>> phases_;  // likewise
  size_t steps_ = 0;
};

// Jidoka (`--budget-check[=factor]`): the brick furthest over `factor` times its budget in
// `us` (one time per brick of g), as a message naming the brick, its layer, the budget and
// the time; nullopt when every brick that has a budget is within it.
std::optional<std::string> budget_violation(const ir::Graph& g, std::span<const double> us,
                                            double factor);

// The per-kind table, the slowest bricks and the bottleneck lines, as `brickc bench
// --profile` prints them.
std::string format_profile(const ProfileReport& r);

}  // namespace brickc::bench
