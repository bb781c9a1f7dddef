#!/usr/bin/env bash
# Session 39 call 3, the last the device time left could hold: tg128 of base, rank and
# rankq alternating on the 32B with 8 layers (no GPU tests).
tar xJf build/devx/v.tar.xz -C /tmp && mkdir -p /tmp/device && tar xJf build/devx/dev.tar.xz -C /tmp
export LD_LIBRARY_PATH=/tmp/device/lib
M=/tmp/s39c3; mkdir -p $M
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
/tmp/base synth -t 16 --layers 8 --model qwen2.5-coder-32b --quant q4_k_m -o $M/32b.gguf > /dev/null; echo "synth at $SECONDS s"
for round in 1 2; do
  for v in base rank rankq; do
    [ $SECONDS -lt 130 ] || break 2
    BRICKC_CACHE_DIR=/tmp/kc-$v timeout 30 /tmp/$v bench -m $M/32b.gguf --device cuda -p 16 -n 128 -r 3 --warmup 1 > /tmp/log 2>&1
    echo "r$round $v 32b rc=$? at $SECONDS s: $(grep -hE 'tg128|rror' /tmp/log | tr -s ' ')"
  done
done
echo "elapsed $SECONDS s"
} > $OUT/summary.txt 2>&1
