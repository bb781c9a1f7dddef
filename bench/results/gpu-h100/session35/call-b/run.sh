#!/usr/bin/env bash
# Session 35 call B (int8 ring straight into the MMAs): GPU tests of the q8_0 cache, then
# brickc tg128 at depths 0 and 16384 on the 1.5B and 7B, f16 and q8_0 caches.
tar xJf build/devx/dev.tar.xz -C /tmp
export LD_LIBRARY_PATH=/tmp/device/lib BRICKC_CACHE_DIR=/tmp/kc
B=/tmp/device/bin; M=/tmp/models; R=$OUT/r; mkdir -p $M $R
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
$B/brickc synth -t 8 --model qwen2.5-coder-1.5b --quant q4_k_m -o $M/1.5b.gguf > /dev/null &
$B/brickc synth -t 8 --model qwen2.5-coder-7b --quant q4_k_m -o $M/7b.gguf > /dev/null &
BRICKC_REQUIRE_GPU=1 timeout 200 $B/brickc_gpu_tests --gtest_filter="${FILTER:-*Q8_0Cache*:GpuBricks.AttentionOverALongCache:GpuBricks.Qwen05Q4KM:GpuMegakernel.MatchesThePerBrickGraphBitForBit}" > $R/gpu_tests.log 2>&1
echo "tests rc=$? at $SECONDS s: $(grep -c '^\[       OK' $R/gpu_tests.log) ok; $(grep -E '^\[  (FAILED|PASSED)' $R/gpu_tests.log | tr '\n' ' ')"
grep -E "q8_0|Q8_0" $R/gpu_tests.log | grep -iE "worst|kl|fail|error" | head -20
wait
for m in 1.5b 7b; do
for c in f16 q8_0; do
  for d in 0 16384; do
    [ $SECONDS -lt 540 ] || break 3
    timeout 60 $B/brickc bench -m $M/$m.gguf --device cuda -p 16 -n 128 -r 3 --warmup 1 -d $d --cache-type-k $c --cache-type-v $c --json $R/$m-$c-d$d.json > $R/$m-$c-d$d.log 2>&1
    echo "$m $c d$d rc=$? at $SECONDS s"; grep -E "tg128|pp16|error" $R/$m-$c-d$d.log
  done
done
done
echo "elapsed $SECONDS s"
} > $OUT/summary.txt 2>&1
cd $OUT && tar czf r.tgz r && rm -rf r
