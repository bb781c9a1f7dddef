#!/usr/bin/env bash
# Session 35 call D: the GPU q8_0 KV cache and the QKV's L2 prefetch of the cache. GPU tests
# of both cache types' attention paths, then tg128 at depths 0 and 16,384 on the 1.5B and 7B
# (Q4_K_M), f16 and q8_0 caches, each beside llama.cpp (llama-bench, same file, same cache
# type, same call); a per-brick profile of the 1.5B at depth 16,384 with each cache.
tar xJf build/devx/dev.tar.xz -C /tmp
export LD_LIBRARY_PATH=/tmp/device/lib BRICKC_CACHE_DIR=/tmp/kc
B=/tmp/device/bin; M=/tmp/models; R=$OUT/r; mkdir -p $M $R
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
lb=$(bash .llama/unpack.sh /tmp/llama | tail -n 1)
$B/brickc synth -t 8 --model qwen2.5-coder-1.5b --quant q4_k_m -o $M/1.5b.gguf > /dev/null &
$B/brickc synth -t 8 --model qwen2.5-coder-7b --quant q4_k_m -o $M/7b.gguf > /dev/null &
BRICKC_REQUIRE_GPU=1 timeout 150 $B/brickc_gpu_tests --gtest_filter='GpuBricks.Qwen05Q4KM:GpuBricks.AttentionOverALong*:GpuTokenSteps.Q8_0Cache:GpuTokenSteps.Qwen05Q4KM:GpuBatch.Qwen05Q8_0CacheEachSequenceAsAlone:GpuMegakernel.MatchesThePerBrickGraphBitForBit' > $R/gpu_tests.log 2>&1
echo "tests rc=$? at $SECONDS s: $(grep -c '^\[       OK' $R/gpu_tests.log) ok; $(grep -E '^\[  (FAILED|PASSED)' $R/gpu_tests.log | tr '\n' ' ')"
wait
for m in 1.5b 7b; do
  for c in f16 q8_0; do
    for d in 0 16384; do
      [ $SECONDS -lt 500 ] || break 3
      timeout 90 $B/brickc bench -m $M/$m.gguf --device cuda -p 16 -n 128 -r 3 --warmup 1 -d $d --cache-type-k $c --cache-type-v $c --llama-bench "$lb" --json $R/$m-$c-d$d.json > $R/$m-$c-d$d.log 2>&1
      echo "$m $c d$d rc=$? at $SECONDS s"; grep -E "tg128|error" $R/$m-$c-d$d.log
    done
  done
done
for c in f16 q8_0; do
  [ $SECONDS -lt 540 ] || break
  timeout 40 $B/brickc bench -m $M/1.5b.gguf --device cuda -p 16 -n 64 -r 2 --warmup 1 -d 16384 --cache-type-k $c --cache-type-v $c --profile > $R/prof-1.5b-$c-d16384.log 2>&1
  echo "profile 1.5b $c d16384 rc=$? at $SECONDS s"; grep -E "^\| (attention|rope_kv_append|rmsnorm_qkv) |^step" $R/prof-1.5b-$c-d16384.log
done
echo "elapsed $SECONDS s"
} > $OUT/summary.txt 2>&1
cd $OUT && tar czf r.tgz r && rm -rf r
