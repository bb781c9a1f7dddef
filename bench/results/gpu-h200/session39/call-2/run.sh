#!/usr/bin/env bash
# Session 39 call 2 (call 1's machine was taken back mid-call; the device time left held
# this much): GPU tests of the rank tree, then tg128 of base, rank and rankq alternating on
# the 14B and 32B with 8 layers (see call-1/run.sh for the variants).
tar xJf build/devx/dev.tar.xz -C /tmp; mkdir -p /tmp/v; tar xJf build/devx/v.tar.xz -C /tmp/v
export LD_LIBRARY_PATH=/tmp/device/lib
M=/tmp/s39c2; R=$OUT; mkdir -p $M
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
/tmp/v/base synth -t 8 --layers 8 --model qwen2.5-coder-14b --quant q4_k_m -o $M/14b.gguf > /dev/null &
/tmp/v/base synth -t 8 --layers 8 --model qwen2.5-coder-32b --quant q4_k_m -o $M/32b.gguf > /dev/null &
BRICKC_REQUIRE_GPU=1 timeout 60 /tmp/device/bin/brickc_gpu_tests --gtest_filter="GpuBricks.*:GpuMegakernel.MatchesThePerBrickGraphBitForBit" > $R/gpu_tests.log 2>&1
echo "tests rc=$? at $SECONDS s: $(grep -c '^\[       OK' $R/gpu_tests.log) ok; $(grep -E '^\[  (FAILED|PASSED)' $R/gpu_tests.log | tr '\n' ' ')"
grep -E "^\[  FAILED" $R/gpu_tests.log | head -20
wait; echo "synth at $SECONDS s"
for round in 1 2; do
  for m in 32b 14b; do
    for v in base rank rankq; do
      [ $SECONDS -lt ${AB_END:-250} ] || break 3
      BRICKC_CACHE_DIR=/tmp/kc-$v timeout 40 /tmp/v/$v bench -m $M/$m.gguf --device cuda -p 16 -n 128 -r 3 --warmup 1 > /tmp/log 2>&1
      echo "r$round $v $m rc=$? at $SECONDS s: $(grep -hE 'tg128|rror' /tmp/log | tr -s ' ')"
    done
  done
done
echo "elapsed $SECONDS s"
} > $OUT/summary.txt 2>&1
