#!/usr/bin/env bash
# Session 11 call B: build/device-ring2 = the weight ring with word-wide shared loads in the
# format dots; build/device-ring = the ring alone (call A); .llama/old-brickc = 253d6f4.
export LD_LIBRARY_PATH=$PWD/build/device-ring2/lib
R=$PWD/build/device-ring/bin; R2=$PWD/build/device-ring2/bin; O=$PWD/.llama/old-brickc
M=/tmp/models; mkdir -p $M $OUT/r
export BRICKC_CACHE_DIR=/tmp/kc
left() { [ $SECONDS -lt $1 ]; }
{
BRICKC_REQUIRE_GPU=1 timeout 170 $R2/brickc_gpu_tests --gtest_filter='GpuBricks.*:GpuTokenSteps.Qwen05Q4KM:GpuTokenSteps.Qwen7BQ4KM:GpuTokenSteps.OtherFormats:GpuMegakernel.MatchesThePerBrickGraphBitForBit' > $OUT/r/gpu_tests_ring2.log 2>&1
echo "ring2: $(grep -E '^\[  (PASSED|FAILED)' $OUT/r/gpu_tests_ring2.log | tr '\n' ' ') at $SECONDS s"
grep -E "^\[  FAILED  \]" $OUT/r/gpu_tests_ring2.log | head
run() { timeout 60 $2 bench -m $M/$3.gguf --device cuda -p 16 -n 128 -r 5 --warmup 3 --json $OUT/r/$1.json > $OUT/r/$1.log 2>&1; echo "$1: $(grep 'tg128' $OUT/r/$1.log | head -1)"; }
for m in 0.5b 1.5b 7b 3b; do
  left 300 || break
  $R2/brickc synth --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m.gguf > /dev/null
  for k in 1 2; do
    left 330 || break
    run old$m-$k $O $m; run ring$m-$k $R/brickc $m; run ring2$m-$k $R2/brickc $m
  done
  rm -f $M/$m.gguf
done
if left 350; then
  $R2/brickc synth --model qwen2.5-coder-0.5b --quant q4_k_m -o $M/0.5b.gguf > /dev/null
  CUDA_VISIBLE_DEVICES= timeout 40 $R2/brickc bench -m $M/0.5b.gguf --device cpu -t 16 -p 64 -n 64 -r 3 --warmup 1 --json $OUT/r/cpu-0.5b.json > $OUT/r/cpu-0.5b.log 2>&1
  grep -E "pp64|tg64" $OUT/r/cpu-0.5b.log
  CUDA_VISIBLE_DEVICES= timeout 30 $R2/brickc bench -m $M/0.5b.gguf --device cpu -t 16 -p 16 -n 32 -r 1 --warmup 1 --profile > $OUT/r/cpu-profile-0.5b.log 2>&1
fi
echo "elapsed $SECONDS s"
} 2>&1 | tee $OUT/r/summary.txt
cd $OUT && tar czf r.tgz r
