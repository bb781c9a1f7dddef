#!/usr/bin/env bash
# Session 33 call C: where the 14B's and 32B's matrix kernels lose time (main, 95d752a).
# 4-layer 14B and 32B files (full vocabulary: the LM head is real); ncu on one layer's qkv,
# o, gate/up and down and on the LM head: duration, DRAM throughput, issue activity,
# occupancy and stall reasons; bench --profile of the 14B for the per-brick phases.
tar xJf build/devx/dev.tar.xz -C /tmp
export LD_LIBRARY_PATH=/tmp/device/lib BRICKC_CACHE_DIR=/tmp/kc
B=/tmp/device/bin; M=/tmp/models; R=$OUT/r; mkdir -p $M $R
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
for m in 14b 32b; do $B/brickc synth -t 8 --model qwen2.5-coder-$m --layers 4 --quant q4_k_m -o $M/$m-4l.gguf > /dev/null & done; wait
echo "synth at $SECONDS s"
ST=""; for r in long_scoreboard short_scoreboard mio_throttle lg_throttle barrier membar wait math_pipe_throttle not_selected selected no_instruction dispatch_stall branch_resolving sleeping; do ST="$ST,smsp__average_warps_issue_stalled_${r}_per_issue_active.ratio"; done
MET="gpu__time_duration.sum,dram__throughput.avg.pct_of_peak_sustained_elapsed,dram__bytes_read.sum,lts__t_bytes.sum,lts__t_sector_hit_rate.pct,sm__inst_executed.sum,smsp__issue_active.avg.pct_of_peak_sustained_active,sm__warps_active.avg.pct_of_peak_sustained_active,sm__cycles_active.avg.pct_of_peak_sustained_elapsed,launch__registers_per_thread,launch__grid_size,launch__occupancy_limit_registers,launch__occupancy_limit_shared_mem,launch__shared_mem_per_block_dynamic,l1tex__data_bank_conflicts_pipe_lsu_mem_shared.sum,smsp__inst_executed_pipe_lsu.sum,smsp__sass_inst_executed_op_shared_ld.sum$ST"
for m in 14b 32b; do
  [ $SECONDS -lt 420 ] || break
  timeout 150 ncu --clock-control none --metrics $MET -k regex:'^(rmsnorm_qkv|matvec_add|rmsnorm_gate_up|rmsnorm_lm_head)' --launch-skip 17 --launch-count 17 $B/brickc bench -m $M/$m-4l.gguf --device cuda -p 16 -n 4 -r 1 --warmup 0 > $R/ncu-$m.txt 2>&1
  echo "ncu $m rc=$? at $SECONDS s"
  grep -E "^  [a-z_]+.*\(|duration|dram__throughput|issue_active|warps_active|inst_executed.sum|stalled_(long|barrier|wait|short|mio|lg|no_inst|math|not_sel)" $R/ncu-$m.txt | sed -E 's/ +/ /g' | head -80
done
[ $SECONDS -lt 460 ] && timeout 60 $B/brickc bench -m $M/14b-4l.gguf --device cuda -p 16 -n 32 -r 3 --warmup 1 --profile --json $R/prof-14b-4l.json > $R/prof-14b-4l.log 2>&1
sed -n '/per-brick time/,/slowest brick per layer/p' $R/prof-14b-4l.log
echo "elapsed $SECONDS s"
} > $R/summary.txt 2>&1
cat $R/summary.txt
cd $OUT && tar czf r.tgz r && rm -rf r
