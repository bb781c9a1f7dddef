#!/usr/bin/env bash
# Session 34 call D: main with the q8_0 KV cache (4fe469c) on the GPU machine. GPU tests
# (the CUDA paths must be unchanged by it); the q8_0 cache's errors and device choice on a
# GPU machine; CPU decode at depth 4096 on the host's 16 cores, f16 against q8_0, each
# side by side with llama.cpp's CPU backend (llama-bench -ngl 0, -ctk/-ctv q8_0 for q8_0).
tar xJf build/devx/dev.tar.xz -C /tmp
export LD_LIBRARY_PATH=/tmp/device/lib BRICKC_CACHE_DIR=/tmp/kc
B=/tmp/device/bin; M=/tmp/models; R=$OUT/r; mkdir -p $M $R
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
bash ../shared/tools/llama.cpp-sm90/unpack.sh /tmp/llama > /dev/null
$B/brickc synth -t 16 --model qwen2.5-coder-0.5b --quant q4_k_m -o $M/0.5b.gguf > /dev/null
echo "synth at $SECONDS s"
BRICKC_REQUIRE_GPU=1 timeout 220 $B/brickc_gpu_tests --gtest_filter='GpuBricks.*:GpuVerify.PassesAndLeavesTheLogitsAlone:GpuTokenSteps.Qwen05Q4KM:GpuBatch.Qwen05EachSequenceAsAlone:GpuMegakernel.MatchesThePerBrickGraphBitForBit' > $R/gpu_tests.log 2>&1
echo "tests rc=$? at $SECONDS s: $(grep -cE '^\[       OK' $R/gpu_tests.log) ok; $(grep -E '^\[  (PASSED|FAILED)' $R/gpu_tests.log | tr '\n' ' ')"
grep -E "^\[  FAILED  \]|Failure" $R/gpu_tests.log | head
$B/brickc run -m $M/0.5b.gguf --device cuda --cache-type-k q8_0 -p "def f(x):" -n 4 > $R/q8-cuda.log 2>&1; echo "cuda q8_0 rc=$?: $(tail -1 $R/q8-cuda.log)"
$B/brickc run -m $M/0.5b.gguf --cache-type-k q8_0 --cache-type-v q8_0 -p "def f(x):" -n 8 > $R/q8-auto.log 2>&1; echo "auto q8_0 rc=$?: $(tail -1 $R/q8-auto.log)"
$B/brickc run -m $M/0.5b.gguf -p "def f(x):" -n 8 > $R/f16-auto.log 2>&1; echo "auto f16 rc=$?: $(tail -1 $R/f16-auto.log)"
for ct in f16 q8_0; do
  [ $SECONDS -lt 480 ] || break
  timeout 150 $B/brickc bench -m $M/0.5b.gguf --device cpu -t 16 --cache-type-k $ct --cache-type-v $ct -p 16 -n 32 -d 4096 -r 3 --warmup 1 --llama-bench /tmp/llama/bin/llama-bench --json $R/cpu-d4096-$ct.json > $R/cpu-d4096-$ct.log 2>&1
  echo "cpu d4096 $ct rc=$? at $SECONDS s"; grep -E "tg32|pp16|memory" $R/cpu-d4096-$ct.log
done
echo "elapsed $SECONDS s"
} > $OUT/summary.txt 2>&1
cd $OUT && tar czf r.tgz r && rm -rf r
