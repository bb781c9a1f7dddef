// Checks a decode step brick by brick against the CPU reference bricks: before each brick
// the executor's inputs are copied into the reference executor, the reference brick runs
// on them, and every result is compared within the tolerance its kernel's arithmetic
// allows. A wrong kernel is named by brick, layer and position instead of surfacing as
// drifting logits.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "runtime/brick_stepper.h"

namespace brickc::runtime {

struct BrickResult {
  size_t brick = 0;
  std::string kind;   // IR keyword
  int layer = -1;
  std::string value;  // the result compared
  int64_t pos = 0;
  double max_abs = 0;  // max |executor - reference|
  double max_rel = 0;  // max_abs / max |reference|: the error on the vector's own scale
  double tolerance = 0;  // bound on max_rel
  bool finite = true;    // no NaN or Inf in the executor's result
  bool ok() const { return finite && max_rel <= tolerance; }
};

// The bound on max_rel for `result` of brick `b` on a backend that rounds as `r` says.
// Int8 activations quantized inside the brick (an f32 input to int8-dot weights) dominate:
// 3e-2; a stored q8_1 result adds its rounding (1/254 of the block maximum): 1e-2; a q8_0
// cache row, one step of its block (1/127 of the block maximum): 1e-2; f16 caches 1e-3;
// f32 arithmetic in another order 1e-3.
double brick_tolerance(const ir::Graph& g, const ir::Brick& b, ir::ValueId result,
                       BrickStepper::Rounding r);

// One step of `tokens` at positions pos .. (one decode token, or up to T of a T-token
// graph), run on both brick by brick: `ref` (a CPU GraphExecutor) follows `dut`, over the
// same graph and file. Only dut's cache matters: the positions up to the step's last are
// copied into ref before each brick that reads a cache, and a cache result is compared at
// the positions written; a T-row result on its rows of this step's tokens.
std::vector<BrickResult> check_step(BrickStepper& dut, BrickStepper& ref,
                                    std::span<const int32_t> tokens, int64_t pos);
inline std::vector<BrickResult> check_step(BrickStepper& dut, BrickStepper& ref, int32_t token,
                                           int64_t pos) {
  return check_step(dut, ref, std::span(&token, 1), pos);
}

// "rmsnorm_qkv %q.3 (layer 3) at position 5: max abs error 1.2, max rel error 0.5 >
// tolerance 0.03", or "... produced NaN or Inf".
std::string describe(const BrickResult& r);

}  // namespace brickc::runtime
