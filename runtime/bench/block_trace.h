// One step's trace stamps block by block (bench --trace-blocks): for every launch, each
// block's entry, inputs ready, prologue done, end and SM, as the kernels stamp them
// (kernels/common.cuh: Trace), written as JSON, so that a brick's blocks can be laid out
// over the SMs and in time: which started late, which ended last.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace brickc::ir {
class Graph;
}

namespace brickc::bench {

struct LaunchStamps {
  size_t brick = 0;             // index in the graph's bricks
  std::string kernel;           // the launched kernel's name
  std::vector<uint64_t> slots;  // cuda::kTraceSlots per block, in the launch's block order
};

// Schema brickc-trace-blocks/1: per launch its brick (index, kind, result name), kernel and
// blocks as [entry, start, ready, end, sm], times in ns from the step's earliest stamp; a
// block that ended without work (start after end) is null.
std::string block_trace_json(const ir::Graph& g, std::span<const LaunchStamps> launches);

}  // namespace brickc::bench
