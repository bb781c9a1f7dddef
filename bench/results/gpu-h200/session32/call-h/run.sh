#!/usr/bin/env bash
# Session 32 call H: HEAD ea458f2 on the H200. GPU tests; side by side with llama-bench on
# the six sizes as each is synthesized (synthesis pinned to cores 4-15, the 32B's at nice 15, benchmarks to 0-3).
tar xJf build/devx/dev.tar.xz -C /tmp
export LD_LIBRARY_PATH=/tmp/device/lib BRICKC_CACHE_DIR=/tmp/kc
B=/tmp/device/bin; M=/tmp/models; R=$OUT/r; mkdir -p $M $R
synth() { taskset -c $2 $B/brickc synth -t $3 --model qwen2.5-coder-$1 --quant q4_k_m -o $M/$1.tmp > /dev/null && mv $M/$1.tmp $M/$1.gguf; echo "synth $1 at $SECONDS s"; }
ready() { while [ ! -f $M/$1.gguf ] && [ $SECONDS -lt $2 ]; do sleep 2; done; [ -f $M/$1.gguf ]; }
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
cat /tmp/device/COMMIT
synth 14b 4-9 6 &
(for m in 0.5b 1.5b 3b 7b; do synth $m 10-15 6; done) &
(sleep 5; renice -n 15 $BASHPID > /dev/null; synth 32b 4-15 12) &
BRICKC_REQUIRE_GPU=1 timeout 150 taskset -c 0-3 $B/brickc_gpu_tests --gtest_filter='GpuBricks.*:GpuMegakernel.*:GpuVerify.*:GpuTrace.*:GpuTokenSteps.Qwen05Q4KM:GpuTokenSteps.Qwen7BQ4KM' > $R/gpu_tests.log 2>&1
echo "tests rc=$? at $SECONDS s: $(grep -cE '^\[       OK' $R/gpu_tests.log) ok; $(grep -E '^\[  (PASSED|FAILED)' $R/gpu_tests.log | tr '\n' ' ')"
grep -E "^\[  FAILED  \]|Failure|max rel error" $R/gpu_tests.log | head -20
lb=$(bash .llama/unpack.sh /tmp/llama | tail -n 1)
for m in 0.5b 1.5b 3b 7b 14b 32b; do
  ready $m 560 || { echo "$m not ready at $SECONDS s"; continue; }
  [ $SECONDS -lt 560 ] || break
  r=3; case $m in 14b|32b) r=2;; esac
  timeout $((595 - SECONDS)) taskset -c 0-3 $B/brickc bench -m $M/$m.gguf --device cuda -p 512 -n 128 -r $r --warmup 1 --llama-bench "$lb" --json $R/compare-$m.json > $R/compare-$m.log 2>&1
  echo "$m compare rc=$? at $SECONDS s"; grep -E "tg128|pp512" $R/compare-$m.log | head -4
done
ls -la $M
echo "elapsed $SECONDS s"
} 2>&1 | tee $R/summary.txt
cd $OUT && tar czf r.tgz r && rm -rf r
