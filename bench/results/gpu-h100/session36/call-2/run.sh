#!/usr/bin/env bash
# Session 36 call 2. Binaries: clu (the working tree: rope angles before the wait, and
# decode attention's splits merged in clusters of 8 through distributed shared memory),
# base (HEAD), rope (HEAD + the rope angles alone), fine (HEAD + per-phase stamps of
# attention in the trace), g16 (HEAD with groups of 16 splits). GPU tests of clu first;
# then profiles (fine: raw per-block stamps of attention) and tg128 at depths 16384 and 0
# on the 1.5B and 7B Q4_K_M, q8_0 and f16 caches, llama-bench beside clu.
tar xJf build/devx/dev.tar.xz -C /tmp; mkdir -p /tmp/v; tar xJf build/devx/v.tar.xz -C /tmp/v
cp /tmp/device/bin/brickc /tmp/v/clu
export LD_LIBRARY_PATH=/tmp/device/lib
M=/tmp/models; R=$OUT/r; mkdir -p $M $R
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
lb=$(bash .llama/unpack.sh /tmp/llama | tail -n 1)
/tmp/v/base synth -t 8 --model qwen2.5-coder-1.5b --quant q4_k_m -o $M/1.5b.gguf > /dev/null &
/tmp/v/base synth -t 8 --model qwen2.5-coder-7b --quant q4_k_m -o $M/7b.gguf > /dev/null &
BRICKC_REQUIRE_GPU=1 timeout 150 /tmp/device/bin/brickc_gpu_tests --gtest_filter="GpuBricks.AttentionOverALong*:GpuBricks.Qwen15Q4KM*:GpuBricks.Qwen7BQ4KMQ8_0Cache:GpuBricks.Qwen05Q4KM:GpuTokenSteps.*:GpuMegakernel.MatchesThePerBrickGraphBitForBit" > $R/gpu_tests.log 2>&1
echo "tests rc=$? at $SECONDS s: $(grep -c '^\[       OK' $R/gpu_tests.log) ok; $(grep -E '^\[  (FAILED|PASSED)' $R/gpu_tests.log | tr '\n' ' ')"
grep -E "^\[  FAILED|^\[       OK" $R/gpu_tests.log | head -40
wait
echo "synth at $SECONDS s"
for vc in fine:q8_0 clu:q8_0; do
  v=${vc%%:*}; c=${vc##*:}; m=1.5b
  BRICKC_CACHE_DIR=/tmp/kc-$v BRICKC_TRACE_DUMP=$R/dump-$v-$m-$c.txt timeout 60 /tmp/v/$v bench -m $M/$m.gguf --device cuda -p 16 -n 64 -r 2 --warmup 1 -d 16384 --cache-type-k $c --cache-type-v $c --profile > $R/prof-$v-$m-$c.log 2>&1
  echo "prof $v $c rc=$? at $SECONDS s"; grep -E "^\| attention|^\| rope|tg64" $R/prof-$v-$m-$c.log | head -6
done
for mc in 1.5b:q8_0 7b:q8_0 1.5b:f16 7b:f16; do
  m=${mc%%:*}; c=${mc##*:}
  for d in 16384 0; do
    for v in base rope clu; do
      [ $v = rope ] && [ $d != 0 ] && continue
      [ $SECONDS -lt 340 ] || break 4
      lbo=(); [ $v = clu ] && lbo=(--llama-bench "$lb")
      BRICKC_CACHE_DIR=/tmp/kc-$v timeout 60 /tmp/v/$v bench -m $M/$m.gguf --device cuda -p 16 -n 128 -r 3 --warmup 1 -d $d --cache-type-k $c --cache-type-v $c "${lbo[@]}" --json $R/$v-$m-$c-d$d.json > $R/$v-$m-$c-d$d.log 2>&1
      echo "$v $m $c d$d rc=$? at $SECONDS s:"; grep -hE 'tg128|error' $R/$v-$m-$c-d$d.log | tr -s ' '
    done
  done
done
echo "elapsed $SECONDS s"
} > $OUT/summary.txt 2>&1
cd $OUT && tar czf r.tgz r && rm -rf r
