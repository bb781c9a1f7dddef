#!/usr/bin/env bash
# Session 13 call B: rope_kv_append and embed spread over the grid, acq_rel arrival
# counters instead of membar.gl (gate/up q8 epilogue, attention merge). All GPU tests of
# the new binary; tg128 of base / ropeonly / new alternating on 0.5B, 1.5B, 7B; profiles.
export LD_LIBRARY_PATH=$PWD/build/device/lib
B=$PWD/build/device/bin; V=$PWD/build/device/v; M=/tmp/models; mkdir -p $M $OUT/r
export BRICKC_CACHE_DIR=/tmp/kc
left() { [ $SECONDS -lt $1 ]; }
{
BRICKC_REQUIRE_GPU=1 timeout 230 $B/brickc_gpu_tests --gtest_filter='-GpuModels.*' > $OUT/r/gpu_tests.log 2>&1
echo "tests rc=$? at $SECONDS s: $(grep -E '^\[  (PASSED|FAILED)' $OUT/r/gpu_tests.log | tr '\n' ' ')"
grep -E "^\[  FAILED  \]" $OUT/r/gpu_tests.log | head
for m in 0.5b 7b 1.5b; do
  left 480 || break
  $B/brickc synth --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m.gguf > /dev/null
  for round in 1 2; do
    for b in base:$V/brickc-base ropeonly:$V/brickc-ropeonly new:$B/brickc; do
      left 540 || break
      timeout 30 ${b#*:} bench -m $M/$m.gguf --device cuda -p 16 -n 128 -r 3 --warmup 2 --json $OUT/r/${b%%:*}-$m-$round.json > $OUT/r/${b%%:*}-$m-$round.log 2>&1
      echo "$m ${b%%:*} r$round: $(grep tg128 $OUT/r/${b%%:*}-$m-$round.log | head -1)"
    done
  done
  left 520 && timeout 40 $B/brickc bench -m $M/$m.gguf --device cuda -p 16 -n 64 -r 1 --warmup 1 --profile --json $OUT/r/prof-$m.json > $OUT/r/prof-$m.log 2>&1
  grep -E "^\| (embed|rope_kv_append|attention|rmsnorm_gate_up_swiglu|matvec_add|rmsnorm_qkv) " $OUT/r/prof-$m.log
  rm -f $M/$m.gguf
done
echo "elapsed $SECONDS s"
} 2>&1 | tee $OUT/r/summary.txt
cd $OUT && tar czf r.tgz r
