#!/usr/bin/env bash
# Session 19 call C: ncu on the tensor-core decode attention (variant A of call B) of the
# 7B and 1.5B at depth 16384: duration, DRAM throughput, occupancy and stall reasons.
export LD_LIBRARY_PATH=$PWD/build/device/lib
M=/tmp/models; mkdir -p $M $OUT/r
export BRICKC_CACHE_DIR=/tmp/kc
xz -dkc build/device/v/brickc-A.xz > /tmp/brickc-A && chmod +x /tmp/brickc-A
{
for m in 1.5b 7b; do /tmp/brickc-A synth --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m.gguf > /dev/null & done; wait
echo "synth at $SECONDS s"
ST=""; for r in long_scoreboard short_scoreboard mio_throttle lg_throttle barrier membar wait math_pipe_throttle not_selected selected no_instruction dispatch_stall branch_resolving sleeping; do ST="$ST,smsp__average_warps_issue_stalled_${r}_per_issue_active.ratio"; done
MET="gpu__time_duration.sum,dram__throughput.avg.pct_of_peak_sustained_elapsed,dram__bytes_read.sum,lts__t_bytes.sum,sm__inst_executed.sum,smsp__issue_active.avg.pct_of_peak_sustained_active,sm__warps_active.avg.pct_of_peak_sustained_active,sm__cycles_active.avg.pct_of_peak_sustained_elapsed,launch__registers_per_thread,launch__grid_size,launch__occupancy_limit_registers,launch__occupancy_limit_shared_mem,launch__shared_mem_per_block_dynamic,l1tex__data_bank_conflicts_pipe_lsu_mem_shared.sum$ST"
for m in 7b 1.5b; do
  timeout 120 ncu --clock-control none --metrics $MET -k regex:'^attention_hd' --launch-skip 28 --launch-count 2 /tmp/brickc-A bench -m $M/$m.gguf --device cuda -p 16 -n 2 -r 1 --warmup 0 -d 16384 > $OUT/r/ncu-attn-$m.txt 2>&1; echo "ncu $m rc=$? at $SECONDS s"
  grep -E "^  [a-z_]+.*\(|duration|throughput|bytes|inst_executed|issue_active|warps_active|cycles_active|registers|grid_size|limit|stalled|dynamic|conflicts" $OUT/r/ncu-attn-$m.txt | sed -E 's/ +/ /g' | head -70
done
echo "elapsed $SECONDS s"
} 2>&1 | tee $OUT/r/summary.txt
cp $OUT/r/summary.txt $OUT/summary.txt; cd $OUT && tar czf r.tgz r && rm -rf r
