// Memory planning: assigns every activation (a brick result that is not a KV cache) to a
// buffer, reusing a buffer once its last reader has run, and reports the arena size.
// The plan-memory pass prints the report; backends call plan_memory for the assignment.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace brickc::passes {

struct MemoryPlan {
  std::vector<uint64_t> buffer_bytes;   // size of each buffer (its largest occupant)
  std::vector<int> buffer_of;           // per value index; -1: not an activation
  uint64_t arena_bytes = 0;             // sum of buffer_bytes: what the step allocates
  uint64_t peak_live_bytes = 0;         // most bytes live at once: no plan does better
  uint64_t unplanned_bytes = 0;         // every activation in its own buffer
};

// A brick's results may share a buffer with its operands only after the brick: a buffer
// frees after its occupant's last reader, so a brick never writes what it reads. Step
// outputs live to the end. Results that alias state (the caches kv_append returns) are
// not activations.
MemoryPlan plan_memory(const ir::Graph& g);

// "memory: 5 activation buffers, 38.4 KB (peak live 33.3 KB; 96.0 KB without reuse)"
// and one line per buffer with the values it holds.
std::string describe(const ir::Graph& g, const MemoryPlan& p);

}  // namespace brickc::passes
