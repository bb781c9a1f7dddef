// What one launch's trace stamps say (kernels/common.cuh: Trace): per block, when it began,
// when its inputs were ready, when its prologue was done, its end (ns, %globaltimer) and its
// SM, kTraceSlots u64 slots per block. Plain arithmetic, apart from the executor, so that
// the GPU profile's sums are tested without a GPU.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace brickc::cuda {

constexpr int kTraceSlots = 5;  // kernels/common.cuh: kTraceSlots

// Whether the block whose kTraceSlots stamps start at `b` did work: one that ended without
// any (Trace::skip) stamps its start after its end.
inline bool block_ran(const uint64_t* b) { return b[1] <= b[3]; }

struct LaunchSpan {
  double us = 0;  // earliest start (inputs ready) to latest end of the blocks that ran
  // Each SM's span (its first block's start to its last block's end), averaged over all
  // `sm_count` SMs of the device, an SM without a block counting 0. Against `us`: how much
  // of the launch kept the SMs busy; the rest is its tail and its SMs left idle.
  double sm_active_us = 0;
  uint64_t first_start = 0, last_end = 0;  // ns; both 0 when no block ran
  // Medians over the blocks that ran: how long a block was resident before its inputs
  // were ready (its weights stream meanwhile), and its prologue (inputs ready to the
  // input vector in shared memory; 0 for kernels without one).
  double lead_us = 0, prologue_us = 0;
  double tail_us = 0;  // the latest end after the median block's end
};

// `slots`: kTraceSlots per block. A block that ended without work stamps start > end
// (Trace::skip) and counts nowhere; one from an SM outside 0..sm_count - 1 counts in the
// span and the medians only.
LaunchSpan launch_span(std::span<const uint64_t> slots, int sm_count);

// Per launch, in launch order: µs from the latest end of the last earlier launch that ran
// to this one's earliest start (launching and waiting for the inputs, outside every
// brick's time; negative where they overlap, as the megakernel's tasks may); 0 for the
// first launch that ran and for launches where no block ran.
std::vector<double> handoffs_us(std::span<const LaunchSpan> spans);

}  // namespace brickc::cuda
