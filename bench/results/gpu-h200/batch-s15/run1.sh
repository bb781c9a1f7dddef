#!/usr/bin/env bash
# gemm_dq with L2 weight prefetch vs the session-14 code (build/device-base/bin/brickc, same
# libraries): the 7B Q4_K_M's 16-token prefill step (pp16, -ub 16: the matrix products of a
# 16-stream batch step), gemm_dq kernel times under ncu, then serve at 1 and 16 streams.
# Carry build/device and build/device-base; results in $OUT/r.tgz.
set -uo pipefail
export LD_LIBRARY_PATH=$PWD/build/device/lib
B=$PWD/build/device/bin
R=$OUT/r
mkdir -p "$R" /tmp/models
export BRICKC_REQUIRE_GPU=1
pack() { tar czf "$OUT/r.tgz" -C "$OUT" r; }
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv > "$R/gpu.txt"
M=/tmp/models/7b-q4_k_m.gguf
"$B/brickc" synth --model qwen2.5-coder-7b --quant q4_k_m -o $M > /dev/null 2>&1
for v in base new; do
  bin=$B/brickc; [[ $v == base ]] && bin=$PWD/build/device-base/bin/brickc
  for t in 16 64; do
    BRICKC_CACHE_DIR=/tmp/kc-$v "$bin" bench -m $M --device cuda -p $t --ubatch-size $t -n 1 -r 30 --warmup 5 \
      --json "$R/pp$t-$v.json" > "$R/pp$t-$v.log" 2>&1
  done
done
pack
for v in base new; do
  bin=$B/brickc; [[ $v == base ]] && bin=$PWD/build/device-base/bin/brickc
  BRICKC_CACHE_DIR=/tmp/kc-$v timeout 60 ncu --clock-control none -k regex:gemm_dq -c 8 --metrics gpu__time_duration.sum,dram__bytes_read.sum \
    "$bin" bench -m $M --device cuda -p 16 --ubatch-size 16 -n 1 -r 1 --warmup 0 > "$R/ncu-$v.txt" 2>&1
done
pack
OUT=$R MODELS=/tmp/models SERVE_STREAMS=1,16 BRICKC_CACHE_DIR=/tmp/kc-new timeout 200 bash bench/gpu_run.sh serve > "$R/serve-run.log" 2>&1
pack
