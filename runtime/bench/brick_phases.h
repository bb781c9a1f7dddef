// Where a GPU brick's time goes beyond its span, from the kernels' trace stamps
// (runtime/cuda/trace_span.h): one brick in one step, or the p50s of a profile's row.
#pragma once

namespace brickc::bench {

struct BrickPhases {
  double handoff_us = 0;   // the previous brick's end to this one's start: outside both
  double lead_us = 0;      // a block resident before its inputs were ready (median block)
  double prologue_us = 0;  // inputs ready to the input vector in shared memory (median block)
  double tail_us = 0;      // the brick's end after the median block's end
};

}  // namespace brickc::bench
