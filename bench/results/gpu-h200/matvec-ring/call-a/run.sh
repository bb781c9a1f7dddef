#!/usr/bin/env bash
# Session 11 call A: build/device = pending/attention-merge, build/device-ring = the
# cp.async weight ring; .llama/old-brickc = 253d6f4. Tests of both, then tg128 and
# per-brick profiles side by side.
export LD_LIBRARY_PATH=$PWD/build/device/lib
B=$PWD/build/device/bin; R=$PWD/build/device-ring/bin; O=$PWD/.llama/old-brickc
M=/tmp/models; mkdir -p $M $OUT/r
export BRICKC_CACHE_DIR=/tmp/kc
left() { [ $SECONDS -lt $1 ]; }
{
grep -o 'avx512[a-z_0-9]*\|amx[a-z_0-9]*\|avx_vnni' /proc/cpuinfo | sort -u | tr '\n' ' '; echo
lscpu > $OUT/r/lscpu.txt; grep "Model name" $OUT/r/lscpu.txt
BRICKC_REQUIRE_GPU=1 timeout 100 $B/brickc_gpu_tests --gtest_filter='GpuBricks.Qwen05Q4KM:GpuBricks.Qwen3BQ4KM:GpuBricks.AttentionOverALongCache:GpuBricks.Qwen7BQ4KM:GpuMemoryErrors.*:GpuTokenSteps.Qwen05Q4KM' > $OUT/r/gpu_tests_base.log 2>&1
echo "base: $(grep -E '^\[  (PASSED|FAILED)' $OUT/r/gpu_tests_base.log | tr '\n' ' ')"
BRICKC_REQUIRE_GPU=1 timeout 120 $R/brickc_gpu_tests --gtest_filter='GpuBricks.*:GpuTokenSteps.Qwen05Q4KM' > $OUT/r/gpu_tests_ring.log 2>&1
echo "ring: $(grep -E '^\[  (PASSED|FAILED)' $OUT/r/gpu_tests_ring.log | tr '\n' ' ')"
grep -E "^\[  FAILED  \]" $OUT/r/gpu_tests_*.log | head
run() { timeout 90 $2 bench -m $M/$3.gguf --device cuda -p 16 -n 128 -r 5 --warmup 3 --json $OUT/r/$1.json > $OUT/r/$1.log 2>&1; echo "$1: $(grep 'tg128' $OUT/r/$1.log | head -1)"; }
prof() { timeout 60 $2 bench -m $M/$3.gguf --device cuda -p 16 -n 64 -r 1 --warmup 1 --profile --json $OUT/r/$1.json > $OUT/r/$1.log 2>&1; echo "$1 profiled rc=$?"; }
for m in 1.5b 7b 3b 14b; do
  left 480 || break
  $B/brickc synth --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m.gguf > /dev/null
  case $m in 1.5b|7b) prof pbase$m $B/brickc $m; prof pring$m $R/brickc $m;; esac
  for k in 1 2; do
    [ $m = 3b -o $m = 14b ] && run old$m-$k $O $m
    run base$m-$k $B/brickc $m; run ring$m-$k $R/brickc $m
    [ $m = 14b ] && break
  done
  rm -f $M/$m.gguf
done
echo "elapsed $SECONDS s"
} 2>&1 | tee $OUT/r/summary.txt
cd $OUT && tar czf r.tgz r
