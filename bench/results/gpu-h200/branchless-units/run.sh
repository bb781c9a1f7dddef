#!/usr/bin/env bash
# Session 13 call C: the matvec family's units without a branch between them, and
# __launch_bounds__ min blocks from shared memory (new binary) against 5e2d1b1, alternating,
# with llama.cpp's tg128 in the same call; then the GPU tests of the new binary.
export LD_LIBRARY_PATH=$PWD/build/device/lib
B=$PWD/build/device/bin; V=$PWD/build/device/v; M=/tmp/models; mkdir -p $M $OUT/r
export BRICKC_CACHE_DIR=/tmp/kc
left() { [ $SECONDS -lt $1 ]; }
{
lb=$(bash .llama/unpack.sh /tmp/llama | tail -n 1)
for m in 0.5b 7b 1.5b; do
  left 300 || break
  $B/brickc synth --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m.gguf > /dev/null
  timeout 60 $lb -m $M/$m.gguf -p 0 -n 128 -r 3 -ngl 99 -fa 1 -o json > $OUT/r/llama-$m.json 2> $OUT/r/llama-$m.err
  echo "$m llama tg128: $(python3 -c "import json;print([round(r['avg_ts'],2) for r in json.load(open('$OUT/r/llama-$m.json'))])")"
  for round in 1 2 3; do
    for b in old:$V/brickc-5e2d1b1 new:$B/brickc; do
      timeout 30 ${b#*:} bench -m $M/$m.gguf --device cuda -p 16 -n 128 -r 3 --warmup 2 --json $OUT/r/${b%%:*}-$m-$round.json > $OUT/r/${b%%:*}-$m-$round.log 2>&1
      echo "$m ${b%%:*} r$round: $(grep tg128 $OUT/r/${b%%:*}-$m-$round.log | head -1)"
    done
  done
  [ $m = 7b ] && timeout 40 $B/brickc bench -m $M/$m.gguf --device cuda -p 16 -n 64 -r 1 --warmup 1 --profile --json $OUT/r/prof-$m.json > $OUT/r/prof-$m.log 2>&1 && grep -E "^\| (rmsnorm_lm_head|rmsnorm_gate_up_swiglu|matvec_add|rmsnorm_qkv) " $OUT/r/prof-$m.log
  rm -f $M/$m.gguf
done
echo "benches done at $SECONDS s"
t=$((560 - SECONDS)); [ $t -gt 30 ] || t=30
BRICKC_REQUIRE_GPU=1 timeout $t $B/brickc_gpu_tests --gtest_filter='GpuBricks.*:GpuTokenSteps.*:GpuVerify.*:GpuMegakernel.*:CudaRuntime*' > $OUT/r/gpu_tests.log 2>&1
echo "tests rc=$? at $SECONDS s: $(grep -cE '^\[       OK' $OUT/r/gpu_tests.log) ok; $(grep -E '^\[  (PASSED|FAILED)' $OUT/r/gpu_tests.log | tr '\n' ' ')"
grep -E "^\[  FAILED  \]" $OUT/r/gpu_tests.log | head
echo "elapsed $SECONDS s"
} 2>&1 | tee $OUT/r/summary.txt
cd $OUT && tar czf r.tgz r
