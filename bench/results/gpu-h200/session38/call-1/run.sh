#!/usr/bin/env bash
# Session 38 call 1: deeper weight rings at one block per SM, tg128 alternating with HEAD.
# Binaries: base (HEAD 02b22ad), gu (gate/up: as many whole-pair slots as one block of 8
# warps fits), all (gu, plus every other matvec-family kernel but the LM head: as many
# 2 KB slots as one block fits). 7B full, 14B and 32B with 16 layers (full vocabulary).
tar xJf build/devx/dev.tar.xz -C /tmp; mkdir -p /tmp/v; tar xJf build/devx/v.tar.xz -C /tmp/v
export LD_LIBRARY_PATH=/tmp/device/lib
M=/tmp/models; R=$OUT; mkdir -p $M
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
/tmp/v/base synth -t 5 --model qwen2.5-coder-7b --quant q4_k_m -o $M/7b.gguf > /dev/null &
/tmp/v/base synth -t 5 --layers 16 --model qwen2.5-coder-14b --quant q4_k_m -o $M/14b.gguf > /dev/null &
/tmp/v/base synth -t 6 --layers 16 --model qwen2.5-coder-32b --quant q4_k_m -o $M/32b.gguf > /dev/null &
wait
echo "synth at $SECONDS s"
for round in 1 2; do
  for m in 7b 14b 32b; do
    for v in base gu all; do
      [ $SECONDS -lt 560 ] || break 3
      BRICKC_CACHE_DIR=/tmp/kc-$v timeout 60 /tmp/v/$v bench -m $M/$m.gguf --device cuda -p 16 -n 128 -r 3 --warmup 1 > /tmp/log 2>&1
      echo "r$round $v $m rc=$? at $SECONDS s: $(grep -hE 'tg128|rror' /tmp/log | tr -s ' ')"
    done
  done
done
echo "elapsed $SECONDS s"
} > $OUT/summary.txt 2>&1
