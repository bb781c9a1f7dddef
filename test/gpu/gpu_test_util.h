// Shared by the GPU tests: skip with the reason when CUDA is unusable, one context per
// process, synthetic models (test/unit/synth_model.h).
#pragma once
#include <gtest/gtest.h>

#include <thread>

#include "runtime/cuda/context.h"
#include "runtime/cuda/driver.h"
#include "test/unit/synth_model.h"

namespace brickc::testing {

#define BRICKC_REQUIRE_GPU()                                                          \
  do {                                                                                \
    if (!::brickc::cuda::probe().usable())                                            \
      GTEST_SKIP() << "no usable GPU: " << ::brickc::cuda::probe().why_unusable(); \
  } while (0)

inline cuda::Context& gpu_context() {
  static cuda::Context ctx(0);
  return ctx;
}

}  // namespace brickc::testing
