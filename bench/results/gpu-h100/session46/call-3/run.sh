#!/usr/bin/env bash
# Call 3 (the command as run): the GPU tests of the pax tree with s1a's switches, which is
# what landed (the attention bricks against the CPU reference, the megakernel against the
# graph bit for bit, the token steps); 110 s, which the token steps did not fit.
tar xJf build/devx/dev.tar.xz -C build; mkdir -p /tmp/v; tar xJf build/devx/q.tar.xz -C /tmp/v
export BRICKC_REQUIRE_GPU=1 LD_LIBRARY_PATH=$PWD/build/device/lib
env BRICKC_ATTN_SPLITS=sm BRICKC_ATTN_ALONE=1 timeout 110 /tmp/v/pax-tests \
  --gtest_filter='GpuBricks.Attention*:GpuTokenSteps.*:GpuMegakernel.*' > $OUT/gpu_tests_s1a.log 2>&1
