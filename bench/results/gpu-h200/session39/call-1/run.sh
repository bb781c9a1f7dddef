#!/usr/bin/env bash
# Session 39 call 1: session 38's rank patch (matvec-family warps take their rows by arrival
# rank). GPU tests of the rank tree; tg128 base vs rank alternating on 14B and 32B with
# 8 layers; then the full 32B: base vs rank (-p 16), and rank side by side with llama-bench
# (-p 512 -n 128 -r 2). rankq: the counter only for the QKV product (the one matvec with
# several matrices). The full 32B is synthesized on cores 4-15 while the rest runs on 0-3.
tar xJf build/devx/dev.tar.xz -C /tmp; mkdir -p /tmp/v; tar xJf build/devx/v.tar.xz -C /tmp/v
export LD_LIBRARY_PATH=/tmp/device/lib
M=/tmp/s39c1; R=$OUT; mkdir -p $M
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
/tmp/v/base synth -t 8 --layers 8 --model qwen2.5-coder-14b --quant q4_k_m -o $M/14b.gguf > /dev/null &
/tmp/v/base synth -t 8 --layers 8 --model qwen2.5-coder-32b --quant q4_k_m -o $M/32b.gguf > /dev/null &
wait; echo "synth 8L at $SECONDS s"
(taskset -c 4-15 /tmp/v/base synth -t 12 --model qwen2.5-coder-32b --quant q4_k_m -o $M/32f.tmp > /dev/null && mv $M/32f.tmp $M/32f.gguf; echo "synth 32b full at $SECONDS s") &
BRICKC_REQUIRE_GPU=1 timeout 90 taskset -c 0-3 /tmp/device/bin/brickc_gpu_tests --gtest_filter="GpuBricks.*:GpuMegakernel.MatchesThePerBrickGraphBitForBit" > $R/gpu_tests.log 2>&1
echo "tests rc=$? at $SECONDS s: $(grep -c '^\[       OK' $R/gpu_tests.log) ok; $(grep -E '^\[  (FAILED|PASSED)' $R/gpu_tests.log | tr '\n' ' ')"
grep -E "^\[  FAILED" $R/gpu_tests.log | head -20
for round in 1 2; do
  for m in 14b 32b; do
    for v in base rank rankq; do
      [ $SECONDS -lt ${AB_END:-260} ] || break 3
      BRICKC_CACHE_DIR=/tmp/kc-$v timeout 60 taskset -c 0-3 /tmp/v/$v bench -m $M/$m.gguf --device cuda -p 16 -n 128 -r 3 --warmup 1 > /tmp/log 2>&1
      echo "r$round $v $m rc=$? at $SECONDS s: $(grep -hE 'tg128|rror' /tmp/log | tr -s ' ')"
    done
  done
done
wait
for v in base rank rankq; do
  BRICKC_CACHE_DIR=/tmp/kc-$v timeout 90 /tmp/v/$v bench -m $M/32f.gguf --device cuda -p 16 -n 128 -r 3 --warmup 1 --json $R/full-32b-$v.json > /tmp/log 2>&1
  echo "full $v 32b rc=$? at $SECONDS s: $(grep -hE 'tg128|rror' /tmp/log | tr -s ' ')"
done
best=$(python3 -c "import json,sys; r={v: json.load(open(f'$R/full-32b-{v}.json')) for v in ('rank','rankq')}; print(max(r, key=lambda v: r[v]['decode']['mean']))" 2>&1 | tail -n 1)
echo "best variant for the side by side: $best"; [ -x /tmp/v/$best ] || best=rank
lb=$(bash .llama/unpack.sh /tmp/llama | tail -n 1)
BRICKC_CACHE_DIR=/tmp/kc-$best timeout $((${LIMIT:-590} - SECONDS)) /tmp/v/$best bench -m $M/32f.gguf --device cuda -p 512 -n 128 -r 2 --warmup 1 --llama-bench "$lb" --json $R/compare-32b-$best.json > /tmp/c.log 2>&1
echo "32b compare rc=$? at $SECONDS s"; grep -E "tg128|pp512|rror" /tmp/c.log | head -6
echo "elapsed $SECONDS s"
} > $OUT/summary.txt 2>&1
