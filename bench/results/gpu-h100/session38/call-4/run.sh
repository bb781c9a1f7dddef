#!/usr/bin/env bash
# Session 38 call 4: two tail changes, tg128 alternating with HEAD, then HEAD's per-brick
# profile of the 32B. Binaries: base (HEAD 02b22ad); spread (gate/up deals its pairs to the
# warps across blocks first, warp * nx + block, so that the last pass's pairs fall on many
# SMs); d6k (matvecs whose activation outgrows 16 KB, the downs of the 7B-32B, keep the
# 6 KB ring at two blocks per SM instead of the 4 KB ring at three). 7B full, 14B and 32B
# with 16 layers (full vocabulary).
tar xJf build/devx/dev.tar.xz -C /tmp; mkdir -p /tmp/v; tar xJf build/devx/v.tar.xz -C /tmp/v
export LD_LIBRARY_PATH=/tmp/device/lib
M=/tmp/m4; R=$OUT; mkdir -p $M
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
/tmp/v/base synth -t 5 --model qwen2.5-coder-7b --quant q4_k_m -o $M/7b.gguf > /dev/null &
/tmp/v/base synth -t 5 --layers 16 --model qwen2.5-coder-14b --quant q4_k_m -o $M/14b.gguf > /dev/null &
/tmp/v/base synth -t 6 --layers 16 --model qwen2.5-coder-32b --quant q4_k_m -o $M/32b.gguf > /dev/null &
wait
echo "synth at $SECONDS s"
for round in 1 2; do
  for m in 7b 14b 32b; do
    for v in base spread d6k; do
      [ $SECONDS -lt 480 ] || break 3
      BRICKC_CACHE_DIR=/tmp/kc-$v timeout 60 /tmp/v/$v bench -m $M/$m.gguf --device cuda -p 16 -n 128 -r 3 --warmup 1 > /tmp/log 2>&1
      echo "r$round $v $m rc=$? at $SECONDS s: $(grep -hE 'tg128|rror' /tmp/log | tr -s ' ')"
    done
  done
done
BRICKC_CACHE_DIR=/tmp/kc-base timeout 90 /tmp/v/base bench -m $M/32b.gguf --device cuda -p 16 -n 64 -r 2 --warmup 1 --profile > $R/profile-32b-16l.log 2>&1
echo "profile rc=$? at $SECONDS s"
echo "elapsed $SECONDS s"
} > $OUT/summary.txt 2>&1
