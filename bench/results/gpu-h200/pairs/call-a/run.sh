#!/usr/bin/env bash
# Session 18 call A: gate/up rows and the LM head's rows dotted in pairs (kernels/matvec.cuh:
# WeightStream Paired; `pairs`), then also gate/up's arrivals deferred by a row (`new`),
# against d0f3c1f (`old`), alternating on the 0.5B, 1.5B and 7B; the GPU tests of `new`; the CPU engine (session 17's AVX2 repacked kernels, BRICKC_SIMD=avx2,
# against the default AVX-512 VNNI set) with llama-bench -ngl 0 on the 16-core host.
xz -dk build/device/v/*.xz; chmod +x build/device/v/brickc-*
export LD_LIBRARY_PATH=$PWD/build/device/lib
B=$PWD/build/device/bin; O=$PWD/build/device/v/brickc-d0f3c1f; P=$PWD/build/device/v/brickc-pairs
M=/tmp/models; mkdir -p $M $OUT/r
export BRICKC_CACHE_DIR=/tmp/kc
left() { [ $SECONDS -lt $1 ]; }
{
bash ../shared/tools/llama.cpp-sm90/unpack.sh /tmp/llama > /dev/null &
for m in 0.5b 1.5b 7b; do $B/brickc synth --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m.gguf > /dev/null & done; wait
echo "synth at $SECONDS s"
for round in 1 2; do
  for m in 0.5b 1.5b 7b; do
    for b in old:$O pairs:$P new:$B/brickc; do
      timeout 30 ${b#*:} bench -m $M/$m.gguf --device cuda -p 16 -n 128 -r 3 --warmup 2 --json $OUT/r/${b%%:*}-$m-$round.json > $OUT/r/${b%%:*}-$m-$round.log 2>&1
      echo "$m ${b%%:*} r$round: $(grep tg128 $OUT/r/${b%%:*}-$m-$round.log | head -1)"
    done
  done
done
echo "A/B done at $SECONDS s"
for m in 0.5b 7b; do
  timeout 40 $B/brickc bench -m $M/$m.gguf --device cuda -p 16 -n 64 -r 1 --warmup 1 --profile --json $OUT/r/prof-$m.json > $OUT/r/prof-$m.log 2>&1
  grep -E "^\| (matvec_add|rmsnorm_gate_up_swiglu|rmsnorm_lm_head|rmsnorm_qkv) " $OUT/r/prof-$m.log
done
BRICKC_REQUIRE_GPU=1 timeout 200 $B/brickc_gpu_tests --gtest_filter='GpuBricks.*:GpuTokenSteps.*:GpuMegakernel.MatchesThePerBrickGraphBitForBit' > $OUT/r/gpu_tests.log 2>&1
echo "tests rc=$? at $SECONDS s: $(grep -cE '^\[       OK' $OUT/r/gpu_tests.log) ok; $(grep -E '^\[  (PASSED|FAILED)' $OUT/r/gpu_tests.log | tr '\n' ' ')"
grep -E "^\[  FAILED  \]" $OUT/r/gpu_tests.log | head
lb=/tmp/llama/bin/llama-bench
for m in 0.5b 1.5b; do
  for simd in default avx2; do
    left 540 || break
    e=""; [ $simd = avx2 ] && e="BRICKC_SIMD=avx2"
    env $e CUDA_VISIBLE_DEVICES= timeout 100 $B/brickc bench -m $M/$m.gguf --device cpu -t 16 -p 512 -n 128 -r 2 --warmup 1 $([ $simd = default ] && echo --llama-bench "$lb") --json $OUT/r/cpu-$m-$simd.json > $OUT/r/cpu-$m-$simd.log 2>&1
    echo "cpu $m $simd: $(grep -E 'pp512|tg128' $OUT/r/cpu-$m-$simd.log | tr '\n' ' ')"
  done
done
echo "elapsed $SECONDS s"
} 2>&1 | tee $OUT/r/summary.txt
