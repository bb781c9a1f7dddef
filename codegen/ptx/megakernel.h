// The megakernel of a decode plan: the persistent kernel that runs every launch of the
// per-brick plan as a task (kernels/megakernel.cuh), and which earlier tasks each one
// waits for. Called by lower() when LowerOptions::megakernel is set.
#pragma once
#include "codegen/ptx/lower.h"

namespace brickc::ptx {

constexpr int kMegakernelMaxDeps = 5;  // kernels/megakernel.cuh: kMaxDeps

// Appends the megakernel's entry point to plan.source and sets plan.megakernel. A task
// waits for the last launch of each brick that produced one of its brick's operands, and
// for the launch before it when both belong to one brick (a planted fault follows its
// brick's kernel).
void add_megakernel(const ir::Graph& g, KernelPlan& plan);

// Where a task runs on `blocks` megakernel blocks: its virtual grid (a grid-stride kernel
// gets one virtual block per megakernel block, up to its work; others their launch grid)
// the block that takes virtual block 0 (each task starts where the previous one's blocks
// ended, so that small tasks spread over the SMs), and how many blocks take part.
struct TaskPlacement {
  unsigned nx = 1, ny = 1, first = 0;
  unsigned arrivals = 1;  // blocks with a virtual block of it: they count it done
};
std::vector<TaskPlacement> place_tasks(const KernelPlan& plan, unsigned blocks);

// `brickc compile --emit=schedule`: per task its kernel, brick, virtual grid, the tasks it
// waits for, bytes and budget; per megakernel block (two per SM of `sms`) the tasks it
// works on, the bytes it streams and its predicted busy time; the predicted step time.
std::string print_schedule(const ir::Graph& g, const KernelPlan& plan, unsigned sms);

}  // namespace brickc::ptx
