#!/usr/bin/env bash
# Session 12 call C: K-quant dots by pairs of sub-blocks (pair) and the swizzled q8_1
# activation in shared memory (swz) against main (base): GPU tests of swz, tg128
# alternating, a profile and ncu of the 7B's gate/up and LM head with swz.
export LD_LIBRARY_PATH=$PWD/build/device/lib
V=$PWD/build/device/v; M=/tmp/models; mkdir -p $M $OUT/r
export BRICKC_CACHE_DIR=/tmp/kc
left() { [ $SECONDS -lt $1 ]; }
{
BRICKC_REQUIRE_GPU=1 timeout 150 $V/gpu-tests-swz --gtest_filter='GpuBricks.*:GpuTokenSteps.*:GpuMegakernel.*' > $OUT/r/gpu_tests_swz.log 2>&1
echo "swz tests: $(grep -E '^\[  (PASSED|FAILED)' $OUT/r/gpu_tests_swz.log | tr '\n' ' ')"
grep -E "^\[  FAILED  \]" $OUT/r/gpu_tests_swz.log | head
for m in 7b 1.5b 0.5b 3b; do
  left 380 || break
  $V/brickc-base synth --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m.gguf > /dev/null
  for k in 1 2; do
    for b in base pair swz; do
      timeout 40 $V/brickc-$b bench -m $M/$m.gguf --device cuda -p 16 -n 128 -r 3 --warmup 2 --json $OUT/r/$b$m-$k.json > $OUT/r/$b$m-$k.log 2>&1
      echo "$b$m-$k: $(grep tg128 $OUT/r/$b$m-$k.log | head -1)"
    done
  done
  if [ $m = 7b ]; then
    timeout 40 $V/brickc-swz bench -m $M/7b.gguf --device cuda -p 16 -n 64 -r 1 --warmup 1 --profile --json $OUT/r/pswz7b.json > $OUT/r/pswz7b.log 2>&1
    S="--section SpeedOfLight --section MemoryWorkloadAnalysis_Tables --section ComputeWorkloadAnalysis --section SchedulerStats --section WarpStateStats --section Occupancy --section InstructionStats"
    timeout 100 ncu --clock-control none $S -k regex:'gate_up|lm_head' --launch-count 2 $V/brickc-swz bench -m $M/7b.gguf --device cuda -p 1 -n 2 -r 1 --warmup 0 > $OUT/r/ncu7b-swz.txt 2>&1
    grep -E "^  [a-z_]+.*\(|Duration|DRAM Throughput|Issue Slots Busy|Warp Cycles Per Issued|Issued Instructions  |bank" $OUT/r/ncu7b-swz.txt
  fi
  rm -f $M/$m.gguf
done
echo "elapsed $SECONDS s"
} 2>&1 | tee $OUT/r/summary.txt
cd $OUT && tar czf r.tgz r
