// Shared by the GPU tests: skip with the reason when CUDA is unusable, one context per
// process, synthetic models (test/unit/synth_model.h).
#pragma once
#include <gtest/gtest.h>

#include <cstdlib>
#include <string_view>
#include <thread>

#include "runtime/cuda/context.h"
#include "runtime/cuda/driver.h"
#include "test/unit/synth_model.h"

namespace brickc::testing {

// BRICKC_REQUIRE_GPU=1 in the environment (the device script sets it) turns a skip for
// want of a GPU into a failure, so that a GPU run cannot pass by skipping.
inline bool gpu_required() {
  const char* env = std::getenv("BRICKC_REQUIRE_GPU");
  return env && std::string_view(env) == "1";
}

#define BRICKC_REQUIRE_GPU()                                                                   \
  do {                                                                                         \
    if (!::brickc::cuda::probe().usable()) {                                                   \
      if (::brickc::testing::gpu_required())                                                   \
        FAIL() << "BRICKC_REQUIRE_GPU=1, but no usable GPU: " << ::brickc::cuda::probe().why_unusable(); \
      GTEST_SKIP() << "no usable GPU: " << ::brickc::cuda::probe().why_unusable();             \
    }                                                                                          \
  } while (0)

inline cuda::Context& gpu_context() {
  static cuda::Context ctx(0);
  return ctx;
}

}  // namespace brickc::testing
