#!/usr/bin/env bash
# gemm_dq with the weights as the MMA's A operand and Q4_K a block at a time: the GPU tests
# of the T-token and batch kernels, the 7B Q4_K_M's 16- and 64-token steps (pp16 -ub 16,
# pp64 -ub 64), gemm_dq's kernel times under ncu, then serve at SERVE_STREAMS and the TTFT.
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
timeout 150 "$B/brickc_gpu_tests" --gtest_filter="${TESTS:-GpuBatch.*:GpuTokenSteps.Qwen*:GpuTokenSteps.OtherFormats}" > "$R/tests.log" 2>&1
echo "rc=$?" >> "$R/tests.log"
wait
pack
for t in 16 64; do
  "$B/brickc" bench -m $M --device cuda -p $t --ubatch-size $t -n 1 -r 30 --warmup 5 --json "$R/pp$t.json" > "$R/pp$t.log" 2>&1
done
timeout 60 ncu --clock-control none -k regex:gemm_dq -c 8 --metrics gpu__time_duration.sum,dram__bytes_read.sum \
  "$B/brickc" bench -m $M --device cuda -p 16 --ubatch-size 16 -n 1 -r 1 --warmup 0 > "$R/ncu.txt" 2>&1
pack
OUT=$R MODELS=/tmp/models SERVE_STREAMS=${SERVE_STREAMS:-1,4,16,64} timeout ${SERVE_S:-300} bash bench/gpu_run.sh serve > "$R/serve-run.log" 2>&1
pack
