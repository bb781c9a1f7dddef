#!/usr/bin/env bash
# Call A: GPU tests of HEAD, then HEAD side by side with llama-bench on the same files.
tar xJf build/devx/dev.tar.xz -C /tmp
export LD_LIBRARY_PATH=/tmp/device/lib BRICKC_CACHE_DIR=/tmp/kc
B=/tmp/device/bin; M=/tmp/models; R=$OUT/r; mkdir -p $M $R
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
(for m in 0.5b 7b 1.5b; do $B/brickc synth -t 8 --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m.gguf > /dev/null; echo "synth $m at $SECONDS s"; done) &
BRICKC_REQUIRE_GPU=1 timeout 300 $B/brickc_gpu_tests --gtest_filter='GpuBricks.*:GpuMegakernel.*:GpuVerify.*:GpuTrace.*:GpuTokenSteps.Qwen05Q4KM:GpuTokenSteps.Qwen7BQ4KM' > $R/gpu_tests.log 2>&1
echo "tests rc=$? at $SECONDS s: $(grep -cE '^\[       OK' $R/gpu_tests.log) ok; $(grep -E '^\[  (PASSED|FAILED)' $R/gpu_tests.log | tr '\n' ' ')"
grep -E "^\[  FAILED  \]|^\[       OK|Failure" $R/gpu_tests.log | head -40
wait
lb=$(bash .llama/unpack.sh /tmp/llama | tail -n 1)
for m in 0.5b 7b 1.5b; do
  [ $SECONDS -lt 480 ] || break
  timeout 110 $B/brickc bench -m $M/$m.gguf --device cuda -p 512 -n 128 -r 3 --warmup 2 --llama-bench "$lb" --json $R/compare-$m.json > $R/compare-$m.log 2>&1
  echo "$m rc=$? at $SECONDS s"; grep -E "tg128|pp512|ratio" $R/compare-$m.log | head -8
done
} 2>&1 | tee $R/summary.txt
cd $OUT && tar czf r.tgz r && rm -rf r
