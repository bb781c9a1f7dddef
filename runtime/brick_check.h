// Checks a GPU decode step brick by brick against the CPU reference bricks: before each
// brick its GPU inputs are copied into the CPU executor, the CPU brick runs on them, and
// every result is compared within the tolerance its kernel's arithmetic allows. A wrong
// kernel is named by brick, layer and position instead of surfacing as drifting logits.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "runtime/cpu/executor.h"
#include "runtime/cuda/executor.h"

namespace brickc::runtime {

struct BrickResult {
  size_t brick = 0;
  std::string kind;   // IR keyword
  int layer = -1;
  std::string value;  // the result compared
  int64_t pos = 0;
  double max_abs = 0;  // max |gpu - cpu|
  double max_rel = 0;  // max_abs / max |cpu|: the error on the vector's own scale
  double tolerance = 0;  // bound on max_rel
  bool finite = true;    // no NaN or Inf in the GPU result
  bool ok() const { return finite && max_rel <= tolerance; }
};

// The bound on max_rel for a brick's results. Int8 activations quantized inside the brick
// (an f32 input to int8-dot weights) dominate: 3e-2; a q8_1 result adds its rounding
// (1/254 of the block maximum): 1e-2; f16 caches 1e-3; f32 arithmetic in another order 1e-3.
double brick_tolerance(const ir::Graph& g, const ir::Brick& b);

// One decode step of `token` at `pos`, run on both brick by brick. Both executors must hold
// the same graph over the same file, with the same cache contents up to pos.
std::vector<BrickResult> check_step(cuda::Executor& gpu, cpu::GraphExecutor& cpu, int32_t token,
                                    int64_t pos);

}  // namespace brickc::runtime
