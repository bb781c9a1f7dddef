#!/usr/bin/env bash
# Split-K summed in gemm_dq's last split (no gemm_reduce), prefill_prep over row chunks,
# and gemm_dq's split count: the GPU tests of the T-token and batch steps, the 7B Q4_K_M's
# 16- and 64-token steps under each split model of the experiment binary (BRICKC_DQ_EXP:
# old = session 15's, a number = the per-SM model's block cost, x = per slot), one
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
timeout ${TESTS_S:-240} "$B/brickc_gpu_tests" --gtest_filter="${TESTS:-GpuBatch.*:GpuTokenSteps.*}" > "$R/tests.log" 2>&1
echo "rc=$?" >> "$R/tests.log"
wait
pack
for e in ${VARIANTS:-old 1 0.5 2 x1 x0.5}; do
  for t in 16 64; do
    BRICKC_DQ_EXP=$e "$B/brickc" bench -m $M --device cuda -p $t --ubatch-size $t -n 1 -r 20 --warmup 3 \
      --json "$R/pp$t-$e.json" > "$R/pp$t-$e.log" 2>&1
  done
  grep -h "| pp" "$R"/pp*-$e.log | sed "s/^/$e /"
done > "$R/variants.txt"
pack
timeout 90 ncu --clock-control none -c 700 --csv --metrics gpu__time_duration.sum \
  "$B/brickc" bench -m $M --device cuda -p 16 --ubatch-size 16 -n 1 -r 1 --warmup 0 > "$R/ncu-step.csv" 2> "$R/ncu-step.err"
pack
OUT=$R MODELS=/tmp/models SERVE_STREAMS=${SERVE_STREAMS:-1,4,16,64} timeout ${SERVE_S:-240} bash bench/gpu_run.sh serve > "$R/serve-run.log" 2>&1
pack
