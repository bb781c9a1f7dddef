#!/usr/bin/env bash
# Session 28 call C: the final binary (commit b6c2403's plus early loads in the matvec
# kernels: norm weights and the first row's bias before the wait, its residual after it)
# against b6c2403's (brickc-b), alternating; the GPU tests of the final binary that touch
# the changed code. Cut to fit the device time left after three failed starts.
tar xJf build/devx/dev.tar.xz -C /tmp
export LD_LIBRARY_PATH=/tmp/device/lib BRICKC_CACHE_DIR=/tmp/kc
B=/tmp/device/bin; M=/tmp/models; R=$OUT/r; mkdir -p $M $R
left() { [ $SECONDS -lt $1 ]; }
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv,noheader
(for m in 0.5b 7b 1.5b 3b; do $B/brickc synth -t 8 --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m.gguf > /dev/null; echo "synth $m at $SECONDS s"; done) &
BRICKC_REQUIRE_GPU=1 timeout 170 $B/brickc_gpu_tests --gtest_filter='GpuBricks.*:GpuMegakernel.MatchesThePerBrickGraphBitForBit:GpuVerify.*:GpuTokenSteps.Qwen05Q4KM:GpuTokenSteps.Qwen7BQ4KM:GpuTokenSteps.Qwen15Q8_0AndF16' > $R/gpu_tests.log 2>&1
echo "tests rc=$? at $SECONDS s: $(grep -cE '^\[       OK' $R/gpu_tests.log) ok; $(grep -E '^\[  (PASSED|FAILED)' $R/gpu_tests.log | tr '\n' ' ')"
grep -E "^\[  FAILED  \]|differ" $R/gpu_tests.log | head
wait
for round in 1 2; do
  for m in 0.5b 7b 1.5b 3b; do
    for b in b:$B/brickc-b c:$B/brickc; do
      left 290 || break 3
      timeout 40 ${b#*:} bench -m $M/$m.gguf --device cuda -p 16 -n 128 -r 3 --warmup 2 --json $R/${b%%:*}-$m-$round.json > $R/${b%%:*}-$m-$round.log 2>&1
      echo "$m ${b%%:*} r$round: $(grep tg128 $R/${b%%:*}-$m-$round.log | head -1)"
    done
  done
done
echo "elapsed $SECONDS s"
} 2>&1 | tee $R/summary.txt
cd $OUT && tar czf r.tgz r && rm -rf r
