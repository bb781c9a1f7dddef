#!/usr/bin/env bash
# Call F (what little device time was left): brickc = e881a34 (gate/up rows claimed),
# brickc-base = 273ad29 (whole pairs). GPU tests of e881a34; tg128 of the two on the 7B,
# alternating; the 7B and then the 0.5B side by side with llama-bench.
tar xJf build/devx/dev.tar.xz -C /tmp
export LD_LIBRARY_PATH=/tmp/device/lib BRICKC_CACHE_DIR=/tmp/kc
B=/tmp/device/bin; M=/tmp/models; R=$OUT/r; mkdir -p $M $R
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
($B/brickc synth -t 14 --model qwen2.5-coder-7b --quant q4_k_m -o $M/7b.gguf > /dev/null; echo "synth 7b at $SECONDS s"
 $B/brickc synth -t 14 --model qwen2.5-coder-0.5b --quant q4_k_m -o $M/0.5b.gguf > /dev/null; echo "synth 0.5b at $SECONDS s") &
BRICKC_REQUIRE_GPU=1 timeout 80 $B/brickc_gpu_tests --gtest_filter='GpuBricks.Qwen7BQ4KM:GpuBricks.OtherFormats:GpuMegakernel.MatchesThePerBrickGraphBitForBit' > $R/gpu_tests.log 2>&1
echo "tests rc=$? at $SECONDS s: $(grep -cE '^\[       OK' $R/gpu_tests.log) ok; $(grep -E '^\[  (PASSED|FAILED)' $R/gpu_tests.log | tr '\n' ' ')"
grep -E "^\[  FAILED  \]|Failure|max rel error" $R/gpu_tests.log | head -20
wait
for round in 1 2; do for b in base claim; do
  x=$B/brickc; [ $b = base ] && x=$B/brickc-base
  timeout 40 $x bench -m $M/7b.gguf --device cuda -p 16 -n 128 -r 5 --warmup 2 --json $R/$b-7b-$round.json > $R/$b-7b-$round.log 2>&1
  echo "7b $b r$round at $SECONDS s: $(grep tg128 $R/$b-7b-$round.log | head -1)"
done; done
lb=$(bash .llama/unpack.sh /tmp/llama | tail -n 1)
for m in 7b 0.5b; do
  timeout 60 $B/brickc bench -m $M/$m.gguf --device cuda -p 512 -n 128 -r 3 --warmup 1 --llama-bench "$lb" --json $R/compare-$m.json > $R/compare-$m.log 2>&1
  echo "$m compare rc=$? at $SECONDS s"; grep -E "tg128|pp512" $R/compare-$m.log | head -4
done
echo "elapsed $SECONDS s"
} 2>&1 | tee $R/summary.txt
cd $OUT && tar czf r.tgz r && rm -rf r
