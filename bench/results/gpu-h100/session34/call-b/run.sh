#!/usr/bin/env bash
# Session 34 call B: why norm-once lost (call A: -1.4 % on the 14B). bench --profile of
# base and norm-once on a 4-layer 14B (per-brick phases), alternating, twice; then ncu of
# one layer's rmsnorm_qkv, matvec_add and gate/up kernels of each.
tar xJf build/devx/dev.tar.xz -C /tmp
export LD_LIBRARY_PATH=/tmp/device/lib BRICKC_CACHE_DIR=/tmp/kc
B=/tmp/device/bin; M=/tmp/models; R=$OUT/r; mkdir -p $M $R
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
$B/brickc-base synth -t 16 --model qwen2.5-coder-14b --layers 4 --quant q4_k_m -o $M/14b-4l.gguf > /dev/null
echo "synth at $SECONDS s"
for round in 1 2; do
  for b in base norm; do
    x=$B/brickc-base; [ $b = norm ] && x=$B/brickc
    timeout 60 $x bench -m $M/14b-4l.gguf --device cuda -p 16 -n 32 -r 3 --warmup 1 --profile --json $R/prof-$b-$round.json > $R/prof-$b-$round.log 2>&1
    echo "== $b r$round at $SECONDS s"
    sed -n '/^| brick | count/,/^step:/p' $R/prof-$b-$round.log | grep -E "^\| (matvec_add|rmsnorm_qkv|rmsnorm_gate|rmsnorm_lm|attention|rope)|^step"
  done
done
MET="gpu__time_duration.sum,dram__throughput.avg.pct_of_peak_sustained_elapsed,sm__inst_executed.sum,smsp__issue_active.avg.pct_of_peak_sustained_active,sm__warps_active.avg.pct_of_peak_sustained_active,launch__registers_per_thread,launch__grid_size,smsp__average_warps_issue_stalled_long_scoreboard_per_issue_active.ratio,smsp__average_warps_issue_stalled_barrier_per_issue_active.ratio"
for b in base norm; do
  x=$B/brickc-base; [ $b = norm ] && x=$B/brickc
  timeout 120 ncu --clock-control none --metrics $MET -k regex:'^(rmsnorm_qkv|matvec_add|rmsnorm_gate_up)' --launch-skip 12 --launch-count 8 $x bench -m $M/14b-4l.gguf --device cuda -p 16 -n 4 -r 1 --warmup 0 > $R/ncu-$b.txt 2>&1
  echo "ncu $b rc=$? at $SECONDS s"
  grep -E "^  [a-z_]+.*\(|duration|dram__throughput|issue_active|inst_executed.sum|registers|long_score" $R/ncu-$b.txt | sed -E 's/ +/ /g' | head -60
done
echo "elapsed $SECONDS s"
} > $OUT/summary.txt 2>&1
cd $OUT && tar czf r.tgz r && rm -rf r
