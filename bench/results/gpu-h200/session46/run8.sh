#!/usr/bin/env bash
# The next call (README.md), HEAD only, from build/devx/dev.tar.xz (its device bundle): the
# GPU tests that decode attention one block an SM has not run under (token steps, batches,
# --verify, the trace), then session 45's run5.sh (on an H200 the depth bar; the 32B's
# blocks; compute-sanitizer), which must end by LIMIT (400) seconds of its own.
tar xJf build/devx/dev.tar.xz -C build
export OUT BRICKC_REQUIRE_GPU=1 LD_LIBRARY_PATH=$PWD/build/device/lib
timeout 150 build/device/bin/brickc_gpu_tests \
  --gtest_filter='GpuTokenSteps.*:GpuBatch.*:GpuVerify.*:GpuTrace.*' > $OUT/gpu_tests.log 2>&1
echo "tests rc=$? at $SECONDS s" > $OUT/tests.txt
grep -E "^\[  (PASSED|FAILED) |FAILED  \]" $OUT/gpu_tests.log | head -8 >> $OUT/tests.txt
LIMIT=${LIMIT:-400} bash bench/results/gpu-h200/session45/run5.sh
