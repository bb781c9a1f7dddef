// What one launch's trace stamps say (kernels/common.cuh: Trace): each block's start and
// end (ns, %globaltimer) and its SM, three u64 slots per block. Plain arithmetic, apart
// from the executor, so that the GPU profile's sums are tested without a GPU.
#pragma once
#include <cstdint>
#include <span>

namespace brickc::cuda {

struct LaunchSpan {
  double us = 0;  // earliest start to latest end of the blocks that ran
  // Each SM's span (its first block's start to its last block's end), averaged over all
  // `sm_count` SMs of the device, an SM without a block counting 0. Against `us`: how much
  // of the launch kept the SMs busy; the rest is its tail and its SMs left idle.
  double sm_active_us = 0;
};

// `slots`: 3 per block. A block that ended without work stamps start > end (Trace::skip)
// and counts nowhere; one from an SM outside 0..sm_count - 1 counts in the span only.
LaunchSpan launch_span(std::span<const uint64_t> slots, int sm_count);

}  // namespace brickc::cuda
