#!/usr/bin/env bash
# Session 28 call A: fewer instructions per weight byte in the decode matvec family
# (Q4_K high nibbles in place, Q6_K's offset off the sums, Q5_0's fifth bits by one
# multiply, shared-memory word loads, row addresses kept per row, a four-values-per-thread
# activation prologue) against e5b028a, alternating; the GPU tests of the new binary;
# brickc side by side with llama.cpp's llama-bench (-ngl 99 -fa 1) on the same files.
tar xJf build/devx/dev.tar.xz -C /tmp
export LD_LIBRARY_PATH=/tmp/device/lib BRICKC_CACHE_DIR=/tmp/kc
B=/tmp/device/bin; M=/tmp/models; R=$OUT/r; mkdir -p $M $R
left() { [ $SECONDS -lt $1 ]; }
{
bash .llama/unpack.sh /tmp/llama > /dev/null &
for m in 0.5b 1.5b 3b 7b; do $B/brickc synth --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m.gguf > /dev/null & done
BRICKC_REQUIRE_GPU=1 timeout 240 $B/brickc_gpu_tests --gtest_filter='GpuBricks.*:GpuTokenSteps.*:GpuMegakernel.*:GpuVerify.*:GpuBatch.*' > $R/gpu_tests.log 2>&1
echo "tests rc=$? at $SECONDS s: $(grep -cE '^\[       OK' $R/gpu_tests.log) ok; $(grep -E '^\[  (PASSED|FAILED)' $R/gpu_tests.log | tr '\n' ' ')"
grep -E "^\[  FAILED  \]" $R/gpu_tests.log | head
wait; echo "synth at $SECONDS s"
for round in 1 2; do
  for m in 0.5b 1.5b 3b 7b; do
    for b in old:$B/brickc-old new:$B/brickc; do
      left 420 || break 3
      timeout 60 ${b#*:} bench -m $M/$m.gguf --device cuda -p 16 -n 128 -r 3 --warmup 2 --json $R/${b%%:*}-$m-$round.json > $R/${b%%:*}-$m-$round.log 2>&1
      echo "$m ${b%%:*} r$round: $(grep tg128 $R/${b%%:*}-$m-$round.log | head -1)"
    done
  done
done
echo "A/B done at $SECONDS s"
for m in 0.5b 1.5b 3b 7b; do
  left 530 || break
  timeout 60 $B/brickc bench -m $M/$m.gguf --device cuda -p 512 -n 128 -r 3 --warmup 1 --llama-bench /tmp/llama/bin/llama-bench --json $R/compare-$m.json > $R/compare-$m.log 2>&1
  echo "compare $m rc=$? at $SECONDS s"; grep -E "tg128" $R/compare-$m.log
done
left 560 && timeout 30 $B/brickc bench -m $M/7b.gguf --device cuda -p 16 -n 32 -r 1 --warmup 1 --profile > $R/prof-7b.log 2>&1
echo "elapsed $SECONDS s"
} 2>&1 | tee $R/summary.txt
cd $OUT && tar czf r.tgz r && rm -rf r
