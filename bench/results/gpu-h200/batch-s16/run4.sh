#!/usr/bin/env bash
# A QKV brick's matrices of one format in one gemm_dq launch: the GPU tests of the T-token
# and batch steps, the 7B Q4_K_M's 16-token step, serve at 16 streams (the single stream's
# path is unchanged: final/). Carry build/device; results in $OUT/r.tgz.
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
timeout 120 "$B/brickc_gpu_tests" \
  --gtest_filter="GpuBatch.*:GpuTokenSteps.Qwen7BQ4KM:GpuTokenSteps.Qwen05Q4KM:GpuTokenSteps.Qwen15Q8_0AndF16:GpuTokenSteps.OtherFormats:GpuTokenSteps.EveryPromptLengthUpToTheContext" \
  > "$R/tests.log" 2>&1
echo "rc=$?" >> "$R/tests.log"
wait
pack
"$B/brickc" bench -m $M --device cuda -p 16 --ubatch-size 16 -n 1 -r 30 --warmup 5 --json "$R/pp16.json" > "$R/pp16.log" 2>&1
pack
timeout 60 python3 bench/serve_parallel.py "$B/brickc" $M --device cuda --streams 16 --tokens 64 --reps 3 \
  > "$R/serve-16.json" 2> "$R/serve-16.log"
pack
