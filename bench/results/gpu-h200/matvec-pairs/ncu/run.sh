#!/usr/bin/env bash
# Session 12 call B: where the matrix bricks' time goes (ncu on the 7B's gate/up, o/down
# and LM head kernels), and the megakernel against the graph now that weights stream
# through shared memory instead of registers.
export LD_LIBRARY_PATH=$PWD/build/device/lib
B=$PWD/build/device/bin; M=/tmp/models; mkdir -p $M $OUT/r
export BRICKC_CACHE_DIR=/tmp/kc
left() { [ $SECONDS -lt $1 ]; }
{
which ncu; ncu --version | tail -1
$B/brickc synth --model qwen2.5-coder-7b --quant q4_k_m -o $M/7b.gguf > /dev/null
echo "synth 7b at $SECONDS s"
S="--section SpeedOfLight --section MemoryWorkloadAnalysis --section MemoryWorkloadAnalysis_Tables --section ComputeWorkloadAnalysis --section SchedulerStats --section WarpStateStats --section Occupancy --section LaunchStats --section InstructionStats"
timeout 150 ncu --clock-control none $S -k regex:'gate_up|matvec_add' --launch-count 4 $B/brickc bench -m $M/7b.gguf --device cuda -p 1 -n 2 -r 1 --warmup 0 > $OUT/r/ncu7b-mats.txt 2>&1; echo "ncu mats rc=$?"
timeout 100 ncu --clock-control none $S -k regex:'lm_head' --launch-count 1 $B/brickc bench -m $M/7b.gguf --device cuda -p 1 -n 2 -r 1 --warmup 0 > $OUT/r/ncu7b-lmhead.txt 2>&1; echo "ncu lm rc=$?"
grep -E "^  [a-z_]+.*\(|Duration|DRAM Throughput|Memory Throughput|Compute \(SM\)|Registers Per|Achieved Occupancy|Issue Slots Busy|Shared Memory|L1/TEX Hit|Warp Cycles Per Issued|Block Limit" $OUT/r/ncu7b-*.txt | head -80
for m in 7b 1.5b 0.5b; do
  left 430 || break
  [ -f $M/$m.gguf ] || $B/brickc synth --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m.gguf > /dev/null
  for e in graph megakernel; do
    timeout 60 $B/brickc bench -m $M/$m.gguf --device cuda --engine $e -p 16 -n 128 -r 3 --warmup 2 --json $OUT/r/$e-$m.json > $OUT/r/$e-$m.log 2>&1
    echo "$e $m: $(grep tg128 $OUT/r/$e-$m.log | head -1)"
  done
done
echo "elapsed $SECONDS s"
} 2>&1 | tee $OUT/r/summary.txt
cd $OUT && tar czf r.tgz r
