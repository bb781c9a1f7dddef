#!/usr/bin/env bash
# Session 18 call F: where decode time goes at depth 16384 (issue 12's long-context bar):
# the per-brick profile of the 7B at depth 0 and 16384, and ncu's stall reasons
# for the 7B's decode attention kernel at depth 16384.
export LD_LIBRARY_PATH=$PWD/build/device/lib
B=$PWD/build/device/bin
M=/tmp/models; mkdir -p $M $OUT/r
export BRICKC_CACHE_DIR=/tmp/kc
{
for m in 7b; do $B/brickc synth --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m.gguf > /dev/null & done; wait
echo "synth at $SECONDS s"
for m in 7b; do
  for d in 0 16384; do
    timeout 60 $B/brickc bench -m $M/$m.gguf --device cuda -p 16 -n 32 -r 1 --warmup 1 -d $d --profile --json $OUT/r/prof-$m-$d.json > $OUT/r/prof-$m-$d.log 2>&1
    echo "$m d$d rc=$?"; grep -E "^\| (attention|matvec_add|rmsnorm_gate_up_swiglu|rmsnorm_qkv|rope_kv_append|rmsnorm_lm_head) " $OUT/r/prof-$m-$d.log
  done
done
ST=""; for r in long_scoreboard short_scoreboard mio_throttle lg_throttle barrier membar wait math_pipe_throttle not_selected selected no_instruction dispatch_stall branch_resolving; do ST="$ST,smsp__average_warps_issue_stalled_${r}_per_issue_active.ratio"; done
MET="gpu__time_duration.sum,dram__throughput.avg.pct_of_peak_sustained_elapsed,dram__bytes_read.sum,sm__inst_executed.sum,smsp__issue_active.avg.pct_of_peak_sustained_active,sm__warps_active.avg.pct_of_peak_sustained_active,launch__registers_per_thread,launch__grid_size,launch__occupancy_limit_registers,launch__occupancy_limit_shared_mem$ST"
timeout 90 ncu --clock-control none --metrics $MET -k regex:'^attention_hd' --launch-skip 28 --launch-count 2 $B/brickc bench -m $M/7b.gguf --device cuda -p 16 -n 2 -r 1 --warmup 0 -d 16384 > $OUT/r/ncu-attn-7b.txt 2>&1; echo "ncu rc=$? at $SECONDS s"
grep -E "^  [a-z_]+.*\(|duration|throughput|bytes_read|inst_executed|issue_active|warps_active|registers|grid_size|limit|stalled" $OUT/r/ncu-attn-7b.txt | sed -E 's/ +/ /g' | head -60
echo "elapsed $SECONDS s"
} 2>&1 | tee $OUT/r/summary.txt
cp $OUT/r/summary.txt $OUT/summary.txt; cd $OUT && tar czf r.tgz r && rm -rf r
