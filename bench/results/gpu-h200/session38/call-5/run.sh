#!/usr/bin/env bash
# Session 38 call 5: matvec-family warps take their rows by arrival rank (an atomic counter
# per launch, reset by the last warp) instead of by their place in the grid, so that blocks
# launched late (behind the previous kernel's blocks) take the fewest rows. GPU tests of
# that tree (build/devx/dev.tar.xz), then tg128 alternating with HEAD: 14B and 32B with
# 8 layers (full vocabulary).
tar xJf build/devx/dev.tar.xz -C /tmp; mkdir -p /tmp/v; tar xJf build/devx/v.tar.xz -C /tmp/v
export LD_LIBRARY_PATH=/tmp/device/lib
M=/tmp/m5; R=$OUT; mkdir -p $M
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
/tmp/v/base synth -t 6 --layers 8 --model qwen2.5-coder-14b --quant q4_k_m -o $M/14b.gguf > /dev/null &
/tmp/v/base synth -t 6 --layers 8 --model qwen2.5-coder-32b --quant q4_k_m -o $M/32b.gguf > /dev/null &
BRICKC_REQUIRE_GPU=1 timeout 60 /tmp/device/bin/brickc_gpu_tests --gtest_filter="GpuBricks.*:GpuMegakernel.MatchesThePerBrickGraphBitForBit" > $R/gpu_tests.log 2>&1
echo "tests rc=$? at $SECONDS s: $(grep -c '^\[       OK' $R/gpu_tests.log) ok; $(grep -E '^\[  (FAILED|PASSED)' $R/gpu_tests.log | tr '\n' ' ')"
grep -E "^\[  FAILED" $R/gpu_tests.log | head -20
wait
echo "synth at $SECONDS s"
for round in 1 2; do
  for m in 14b 32b; do
    for v in base rank; do
      [ $SECONDS -lt 150 ] || break 3
      BRICKC_CACHE_DIR=/tmp/kc-$v timeout 60 /tmp/v/$v bench -m $M/$m.gguf --device cuda -p 16 -n 128 -r 3 --warmup 1 > /tmp/log 2>&1
      echo "r$round $v $m rc=$? at $SECONDS s: $(grep -hE 'tg128|rror' /tmp/log | tr -s ' ')"
    done
  done
done
echo "elapsed $SECONDS s"
} > $OUT/summary.txt 2>&1
