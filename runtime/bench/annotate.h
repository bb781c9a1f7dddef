// `brickc compile --annotate=REPORT.json`: the optimized IR with each brick's measured time
// (a bench report's per-brick profile) beside its budget, the bottleneck marked, and the
// step's measured time against its roofline at the end.
#pragma once
#include <string>

#include "ir/graph.h"
#include "runtime/bench/brick_profile.h"

namespace brickc::bench {

// Fails, naming `source` and the first brick that differs, unless `measured` is a profile of
// this graph (same bricks in the same order: the same model and pass pipeline).
std::string annotate_ir(const ir::Graph& g, const ProfileReport& measured, const std::string& source);

}  // namespace brickc::bench
