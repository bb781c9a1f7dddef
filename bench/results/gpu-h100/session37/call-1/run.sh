#!/usr/bin/env bash
# Session 37 call 1. Binaries: fused (the working tree: rope_kv_attention in the default
# pipeline), unf (the same tree without fuse-rope-kv-attention in the default pipeline).
# GPU tests of the working tree, then tg128 of unf and fused alternating: 1.5B and 7B
# Q4_K_M, f16 and q8_0 caches at depth 0, q8_0 at depth 16384.
tar xJf build/devx/dev.tar.xz -C /tmp; mkdir -p /tmp/v; tar xJf build/devx/v.tar.xz -C /tmp/v
export LD_LIBRARY_PATH=/tmp/device/lib
M=/tmp/models; R=$OUT/r; mkdir -p $M $R
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
/tmp/v/fused synth -t 6 --model qwen2.5-coder-1.5b --quant q4_k_m -o $M/1.5b.gguf > /dev/null &
/tmp/v/fused synth -t 6 --model qwen2.5-coder-7b --quant q4_k_m -o $M/7b.gguf > /dev/null &
BRICKC_REQUIRE_GPU=1 timeout 230 /tmp/device/bin/brickc_gpu_tests --gtest_filter="GpuBricks.*:GpuTokenSteps.Qwen05Q4KM:GpuTokenSteps.Qwen15Q8_0AndF16:GpuMegakernel.MatchesThePerBrickGraphBitForBit:GpuVerify.*" > $R/gpu_tests.log 2>&1
echo "tests rc=$? at $SECONDS s: $(grep -c '^\[       OK' $R/gpu_tests.log) ok; $(grep -E '^\[  (FAILED|PASSED)' $R/gpu_tests.log | tr '\n' ' ')"
grep -E "^\[  FAILED|^\[       OK" $R/gpu_tests.log | head -40
grep -B3 -A12 "Failure" $R/gpu_tests.log | head -60
wait
echo "synth at $SECONDS s"
for mcd in 1.5b:f16:0 7b:f16:0 1.5b:q8_0:0 7b:q8_0:0 1.5b:q8_0:16384 7b:q8_0:16384 1.5b:f16:0; do
  IFS=: read m c d <<< "$mcd"
  for v in unf fused; do
    [ $SECONDS -lt 540 ] || break 2
    BRICKC_CACHE_DIR=/tmp/kc-$v timeout 60 /tmp/v/$v bench -m $M/$m.gguf --device cuda -p 16 -n 128 -r 3 --warmup 1 -d $d --cache-type-k $c --cache-type-v $c --json $R/$v-$m-$c-d$d.json > $R/$v-$m-$c-d$d.log 2>&1
    echo "$v $m $c d$d rc=$? at $SECONDS s: $(grep -hE 'tg128|rror' $R/$v-$m-$c-d$d.log | tr -s ' ')"
  done
done
echo "elapsed $SECONDS s"
} > $OUT/summary.txt 2>&1
cd $OUT && tar czf r.tgz r && rm -rf r
