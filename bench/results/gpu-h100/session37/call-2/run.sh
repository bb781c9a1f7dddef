#!/usr/bin/env bash
# Session 37 call 2. fused2: rope_kv_attention with the angles computed after the first
# cache copies are issued (and launch_dependents first), the own position quantized once;
# q loaded before the own position is built; unf: the default pipeline without fuse-rope-kv-attention. GPU tests of fused2 (the
# working tree), then per-brick profiles and tg128 alternating.
tar xJf build/devx/dev.tar.xz -C /tmp; mkdir -p /tmp/v; tar xJf build/devx/v.tar.xz -C /tmp/v
export LD_LIBRARY_PATH=/tmp/device/lib
M=/tmp/models; R=$OUT/r; mkdir -p $M $R
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
/tmp/v/unf synth -t 6 --model qwen2.5-coder-1.5b --quant q4_k_m -o $M/1.5b.gguf > /dev/null &
/tmp/v/unf synth -t 6 --model qwen2.5-coder-7b --quant q4_k_m -o $M/7b.gguf > /dev/null &
BRICKC_REQUIRE_GPU=1 timeout 120 /tmp/device/bin/brickc_gpu_tests --gtest_filter="GpuBricks.AttentionOverALong*:GpuBricks.Qwen15Q4KM*:GpuBricks.Qwen7BQ4KMQ8_0Cache:GpuBricks.Qwen05Q4KM:GpuMegakernel.MatchesThePerBrickGraphBitForBit:GpuTokenSteps.Qwen15Q8_0AndF16" > $R/gpu_tests.log 2>&1
echo "tests rc=$? at $SECONDS s: $(grep -c '^\[       OK' $R/gpu_tests.log) ok; $(grep -E '^\[  (FAILED|PASSED)' $R/gpu_tests.log | tr '\n' ' ')"
grep -E "^\[  FAILED|^\[       OK" $R/gpu_tests.log | head -40
grep -B3 -A12 "Failure" $R/gpu_tests.log | head -40
wait
echo "synth at $SECONDS s"
for v in unf fused2; do
  BRICKC_CACHE_DIR=/tmp/kc-$v timeout 60 /tmp/v/$v bench -m $M/1.5b.gguf --device cuda -p 16 -n 64 -r 2 --warmup 1 --profile > $R/prof-$v-1.5b-f16-d0.log 2>&1
  echo "prof $v rc=$? at $SECONDS s"; grep -E "^\| (attention|rope|rmsnorm_qkv|matvec_add|all)|step:|tg64" $R/prof-$v-1.5b-f16-d0.log | head -12
done
for mcd in 1.5b:f16:0 7b:f16:0 1.5b:q8_0:16384 7b:q8_0:0 1.5b:f16:0 7b:f16:0 1.5b:q8_0:16384; do
  IFS=: read m c d <<< "$mcd"
  for v in unf fused2; do
    [ $SECONDS -lt 330 ] || break 2
    BRICKC_CACHE_DIR=/tmp/kc-$v timeout 60 /tmp/v/$v bench -m $M/$m.gguf --device cuda -p 16 -n 128 -r 3 --warmup 1 -d $d --cache-type-k $c --cache-type-v $c --json $R/$v-$m-$c-d$d.json > $R/$v-$m-$c-d$d.log 2>&1
    echo "$v $m $c d$d rc=$? at $SECONDS s: $(grep -hE 'tg128|rror' $R/$v-$m-$c-d$d.log | tr -s ' ')"
  done
done
echo "elapsed $SECONDS s"
} > $OUT/summary.txt 2>&1
cd $OUT && tar czf r.tgz r && rm -rf r
