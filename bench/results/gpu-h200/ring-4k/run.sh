#!/usr/bin/env bash
# Session 13 call D: the 4 KB weight ring where it fits another block (the 7B's and 32B's
# down projection) against 5e2d1b1 on the 7B, alternating; the GPU tests of the new
# binary; 3B and 14B against llama.cpp in the same call.
export LD_LIBRARY_PATH=$PWD/build/device/lib
B=$PWD/build/device/bin; V=$PWD/build/device/v; M=/tmp/models; mkdir -p $M $OUT/r
export BRICKC_CACHE_DIR=/tmp/kc
left() { [ $SECONDS -lt $1 ]; }
{
lb=$(bash .llama/unpack.sh /tmp/llama | tail -n 1)
$B/brickc synth --model qwen2.5-coder-7b --quant q4_k_m -o $M/7b.gguf > /dev/null
for round in 1 2 3; do
  for b in old:$V/brickc-5e2d1b1 new:$B/brickc; do
    timeout 30 ${b#*:} bench -m $M/7b.gguf --device cuda -p 16 -n 128 -r 3 --warmup 2 --json $OUT/r/${b%%:*}-7b-$round.json > $OUT/r/${b%%:*}-7b-$round.log 2>&1
    echo "7b ${b%%:*} r$round: $(grep tg128 $OUT/r/${b%%:*}-7b-$round.log | head -1)"
  done
done
timeout 40 $B/brickc bench -m $M/7b.gguf --device cuda -p 16 -n 64 -r 1 --warmup 1 --profile --json $OUT/r/prof-7b.json > $OUT/r/prof-7b.log 2>&1; grep -E "^\| (matvec_add|rmsnorm_gate_up_swiglu) " $OUT/r/prof-7b.log
rm -f $M/7b.gguf
echo "7b done at $SECONDS s"
BRICKC_REQUIRE_GPU=1 timeout 170 $B/brickc_gpu_tests --gtest_filter='GpuBricks.Qwen7BQ4KM:GpuBricks.Qwen05Q4KM:GpuBricks.OtherFormats:GpuTokenSteps.Qwen7BQ4KM:GpuTokenSteps.WholeModelsMatchTokenByToken:GpuVerify.*:GpuMegakernel.MatchesThePerBrickGraphBitForBit:GpuMegakernel.TracesEveryBrick' > $OUT/r/gpu_tests.log 2>&1
echo "tests rc=$? at $SECONDS s: $(grep -cE '^\[       OK' $OUT/r/gpu_tests.log) ok; $(grep -E '^\[  (PASSED|FAILED)' $OUT/r/gpu_tests.log | tr '\n' ' ')"
grep -E "^\[  FAILED  \]" $OUT/r/gpu_tests.log | head
for m in 3b 14b; do
  left 330 || break
  $B/brickc synth --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m.gguf > /dev/null
  timeout 90 $B/brickc bench -m $M/$m.gguf --device cuda -p 512 -n 128 -r 3 --warmup 2 --llama-bench "$lb" --json $OUT/r/cmp-$m.json > $OUT/r/cmp-$m.log 2>&1
  grep -E "tg128|pp512" $OUT/r/cmp-$m.log
  rm -f $M/$m.gguf
done
echo "elapsed $SECONDS s"
} 2>&1 | tee $OUT/r/summary.txt
cd $OUT && tar czf r.tgz r
