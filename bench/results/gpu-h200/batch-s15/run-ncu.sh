#!/usr/bin/env bash
# Where gemm_dq's time goes at 16 tokens: ncu's speed-of-light, warp-state, scheduler,
# occupancy and memory sections for layer 0's q, gate and down products of the 7B Q4_K_M
# 16-token prefill step (bench -p 16 -ub 16), then the GPU tests but GpuModels.
# Carry build/device; results in $OUT/r.tgz.
set -uo pipefail
export LD_LIBRARY_PATH=$PWD/build/device/lib
B=$PWD/build/device/bin
R=$OUT/r
mkdir -p "$R" /tmp/models
export BRICKC_REQUIRE_GPU=1 BRICKC_CACHE_DIR=/tmp/kc
pack() { tar czf "$OUT/r.tgz" -C "$OUT" r; }
M=/tmp/models/7b-q4_k_m.gguf
"$B/brickc" synth --model qwen2.5-coder-7b --quant q4_k_m -o $M > /dev/null 2>&1
"$B/brickc" bench -m $M --device cuda -p 16 --ubatch-size 16 -n 1 -r 3 --warmup 1 > "$R/warm.log" 2>&1
for k in 0 4 6; do
  timeout 90 ncu --clock-control none -k regex:gemm_dq --launch-skip $k -c 1 --section SpeedOfLight \
    --section WarpStateStats --section SchedulerStats --section Occupancy --section LaunchStats \
    --section MemoryWorkloadAnalysis --section ComputeWorkloadAnalysis \
    "$B/brickc" bench -m $M --device cuda -p 16 --ubatch-size 16 -n 1 -r 1 --warmup 0 > "$R/ncu-detail-$k.txt" 2>&1
done
pack
timeout "${TEST_S:-240}" "$B/brickc_gpu_tests" --gtest_filter="${TESTS:--GpuModels.*}" > "$R/tests.log" 2>&1
echo "rc=$?" >> "$R/tests.log"
pack
