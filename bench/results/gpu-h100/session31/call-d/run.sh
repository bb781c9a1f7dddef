#!/usr/bin/env bash
# Call D: HEAD 273ad29 (whole gate/up pairs) with brickc-mid = 76c4be0 (session 30's end)
# and brickc-old = 08c446d (session 30's base). GPU tests of HEAD; HEAD side by side with
# llama-bench; tg128 of the three binaries, alternating.
tar xJf build/devx/dev.tar.xz -C /tmp
export LD_LIBRARY_PATH=/tmp/device/lib BRICKC_CACHE_DIR=/tmp/kc
B=/tmp/device/bin; M=/tmp/models; R=$OUT/r; mkdir -p $M $R
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
(for m in 0.5b 7b 1.5b 14b; do $B/brickc synth -t 8 --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m.gguf > /dev/null; echo "synth $m at $SECONDS s"; done) &
BRICKC_REQUIRE_GPU=1 timeout 240 $B/brickc_gpu_tests --gtest_filter='GpuBricks.*:GpuMegakernel.*:GpuVerify.*:GpuTrace.*:GpuTokenSteps.Qwen05Q4KM:GpuTokenSteps.Qwen7BQ4KM' > $R/gpu_tests.log 2>&1
echo "tests rc=$? at $SECONDS s: $(grep -cE '^\[       OK' $R/gpu_tests.log) ok; $(grep -E '^\[  (PASSED|FAILED)' $R/gpu_tests.log | tr '\n' ' ')"
grep -E "^\[  FAILED  \]|Failure|max rel error" $R/gpu_tests.log | head -20
lb=$(bash .llama/unpack.sh /tmp/llama | tail -n 1)
for m in 0.5b 7b 1.5b; do
  while [ ! -f $M/1.5b.gguf ] && [ $m = 1.5b ]; do sleep 2; done
  timeout 90 $B/brickc bench -m $M/$m.gguf --device cuda -p 512 -n 128 -r 3 --warmup 2 --llama-bench "$lb" --json $R/compare-$m.json > $R/compare-$m.log 2>&1
  echo "$m compare rc=$? at $SECONDS s"; grep -E "tg128|pp512" $R/compare-$m.log | head -4
done
timeout 60 $B/brickc bench -m $M/7b.gguf --device cuda -p 16 -n 32 -r 1 --warmup 1 --profile --json $R/prof-7b.json > $R/prof-7b.log 2>&1
echo "profile 7b rc=$? at $SECONDS s"; grep -E "^\| (matvec_add|rmsnorm_gate|rmsnorm_qkv|rmsnorm_lm|attention|rope|all)" $R/prof-7b.log
wait
for round in 1 2; do
  for m in 7b 14b 0.5b 1.5b; do
    for b in old mid new; do
      [ $SECONDS -lt 545 ] || break 3
      x=$B/brickc-$b; [ $b = new ] && x=$B/brickc
      timeout 40 $x bench -m $M/$m.gguf --device cuda -p 16 -n 128 -r 5 --warmup 2 --json $R/$b-$m-$round.json > $R/$b-$m-$round.log 2>&1
      echo "$m $b r$round: $(grep tg128 $R/$b-$m-$round.log | head -1)"
    done
  done
done
echo "elapsed $SECONDS s"
} 2>&1 | tee $R/summary.txt
cd $OUT && tar czf r.tgz r && rm -rf r
