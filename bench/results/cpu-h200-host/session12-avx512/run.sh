#!/usr/bin/env bash
# Session 12, call A. build/device = branch avx512-kquants rebased on main 8681913 (main's
# GPU code). 1. CpuQdot on the host (the AVX-512 kernels never ran); 2. GPU tests of
# 8681913's kernels and test setup; 3. 32B tg128 new vs 253d6f4 (issue 11's last figure);
# 4. CPU engine against llama-bench -ngl 0 (issue 15).
xz -dc .llama/unit.xz > build/device/bin/brickc_unit_tests; xz -dc .llama/old.xz > .llama/old-brickc; chmod +x build/device/bin/brickc_unit_tests .llama/old-brickc
export LD_LIBRARY_PATH=$PWD/build/device/lib
B=$PWD/build/device/bin; O=$PWD/.llama/old-brickc
M=/tmp/models; mkdir -p $M $OUT/r
export BRICKC_CACHE_DIR=/tmp/kc
left() { [ $SECONDS -lt $1 ]; }
{
timeout 60 $B/brickc_unit_tests --gtest_filter='CpuQdot.*' > $OUT/r/cpu_qdot.log 2>&1
grep -E "^\[  (PASSED|FAILED)|Failure" $OUT/r/cpu_qdot.log | head
$B/brickc devices | tee $OUT/r/devices.txt | head -20
BRICKC_REQUIRE_GPU=1 timeout 120 $B/brickc_gpu_tests --gtest_filter='GpuBricks.*:GpuTokenSteps.*:GpuMemoryErrors.*' > $OUT/r/gpu_tests.log 2>&1
echo "gpu tests: $(grep -E '^\[  (PASSED|FAILED)' $OUT/r/gpu_tests.log | tr '\n' ' ')"
grep -E "^\[  FAILED  \]" $OUT/r/gpu_tests.log | head
( lb=$(bash .llama/unpack.sh /tmp/llama | tail -n 1); echo "$lb" > /tmp/lbpath ) &
$B/brickc synth --model qwen2.5-coder-32b --quant q4_k_m -o $M/32b.gguf > /dev/null
echo "32b synth at $SECONDS s"
for k in 1 2; do
  for b in new:$B/brickc old:$O; do
    left 420 || break
    timeout 60 ${b#*:} bench -m $M/32b.gguf --device cuda -p 16 -n 128 -r 3 --warmup 2 --json $OUT/r/${b%%:*}32b-$k.json > $OUT/r/${b%%:*}32b-$k.log 2>&1
    echo "${b%%:*}32b-$k: $(grep tg128 $OUT/r/${b%%:*}32b-$k.log | head -1)"
  done
done
rm -f $M/32b.gguf; wait; lb=$(cat /tmp/lbpath)
for m in 0.5b 1.5b; do
  left 480 || break
  $B/brickc synth --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m.gguf > /dev/null
  CUDA_VISIBLE_DEVICES= timeout 110 $B/brickc bench -m $M/$m.gguf --device cpu -t 16 -p 512 -n 128 -r 2 --warmup 1 --llama-bench "$lb" --json $OUT/r/cpu-$m.json > $OUT/r/cpu-$m.log 2>&1
  grep -E "pp512|tg128" $OUT/r/cpu-$m.log
done
left 550 && CUDA_VISIBLE_DEVICES= timeout 40 $B/brickc bench -m $M/1.5b.gguf --device cpu -t 16 -p 64 -n 16 -r 1 --warmup 1 --profile > $OUT/r/cpu-profile-1.5b.log 2>&1
echo "elapsed $SECONDS s"
} 2>&1 | tee $OUT/r/summary.txt
cd $OUT && tar czf r.tgz r
