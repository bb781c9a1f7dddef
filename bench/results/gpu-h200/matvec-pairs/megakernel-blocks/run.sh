#!/usr/bin/env bash
# Session 12 call D: the rest of fcd37a4's GPU tests (token steps, megakernel) and the
# megakernel with 3 or 4 blocks per SM (80 or 64 registers) against the graph.
export LD_LIBRARY_PATH=$PWD/build/device/lib
B=$PWD/build/device/bin; V=$PWD/build/device/v; M=/tmp/models; mkdir -p $M $OUT/r
export BRICKC_CACHE_DIR=/tmp/kc
left() { [ $SECONDS -lt $1 ]; }
{
BRICKC_REQUIRE_GPU=1 timeout 170 $B/brickc_gpu_tests --gtest_filter='GpuTokenSteps.*:GpuMegakernel.*-GpuMegakernel.MatchesThePerBrickGraphBitForBit' > $OUT/r/gpu_tests.log 2>&1
echo "tests: $(grep -E '^\[  (PASSED|FAILED)' $OUT/r/gpu_tests.log | tr '\n' ' ')"
grep -E "^\[  FAILED  \]|^\[       OK" $OUT/r/gpu_tests.log | head -20
for m in 0.5b 1.5b; do
  left 300 || break
  $B/brickc synth --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m.gguf > /dev/null
  for b in graph:$B/brickc mk2:$B/brickc mk3:$V/brickc-mk3 mk4:$V/brickc-mk4; do
    e=megakernel; [ ${b%%:*} = graph ] && e=graph
    timeout 30 ${b#*:} bench -m $M/$m.gguf --device cuda --engine $e -p 16 -n 128 -r 3 --warmup 2 --json $OUT/r/${b%%:*}-$m.json > $OUT/r/${b%%:*}-$m.log 2>&1
    echo "${b%%:*} $m: $(grep tg128 $OUT/r/${b%%:*}-$m.log | head -1)"
  done
done
echo "elapsed $SECONDS s"
} 2>&1 | tee $OUT/r/summary.txt
cd $OUT && tar czf r.tgz r
