#!/usr/bin/env bash
# The session's final build (Q6_K a block at a time, split-K summed in gemm_dq's last split,
# prefill_prep over row chunks, the per-slot split model, the server's listen backlog): the
# GPU tests of the T-token and batch steps, the 7B Q4_K_M's 16- and 64-token steps, one
# 16-token step's kernels under ncu, then serve at 1, 4, 16, 64 streams and the TTFT.
# Carry build/device; results in $OUT/r.tgz.
set -uo pipefail
export LD_LIBRARY_PATH=$PWD/build/device/lib
B=$PWD/build/device/bin
R=$OUT/r
mkdir -p "$R" /tmp/models
export BRICKC_REQUIRE_GPU=1 BRICKC_CACHE_DIR=/tmp/kc
pack() { tar czf "$OUT/r.tgz" -C "$OUT" r; }
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv > "$R/gpu.txt"
M=/tmp/models/7b-q4_k_m.gguf
"$B/brickc" synth --model qwen2.5-coder-7b --quant q4_k_m -o $M > /dev/null 2>&1 &
timeout ${TESTS_S:-150} "$B/brickc_gpu_tests" \
  --gtest_filter="${TESTS:-GpuBatch.*:GpuTokenSteps.Qwen7BQ4KM:GpuTokenSteps.Qwen05Q4KM:GpuTokenSteps.OtherFormats:GpuTokenSteps.EveryPromptLengthUpToTheContext}" \
  > "$R/tests.log" 2>&1
echo "rc=$?" >> "$R/tests.log"
wait
pack
for t in 16 64; do
  "$B/brickc" bench -m $M --device cuda -p $t --ubatch-size $t -n 1 -r 30 --warmup 5 --json "$R/pp$t.json" > "$R/pp$t.log" 2>&1
done
pack
timeout 60 ncu --clock-control none -c 700 --csv --metrics gpu__time_duration.sum \
  "$B/brickc" bench -m $M --device cuda -p 16 --ubatch-size 16 -n 1 -r 1 --warmup 0 > "$R/ncu-step.csv" 2> "$R/ncu-step.err"
pack
OUT=$R MODELS=/tmp/models SERVE_STREAMS=${SERVE_STREAMS:-1,4,16,64} timeout ${SERVE_S:-200} bash bench/gpu_run.sh serve > "$R/serve-run.log" 2>&1
pack
