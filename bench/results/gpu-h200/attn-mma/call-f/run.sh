#!/usr/bin/env bash
# Session 19 call F: ncu on e9eea10's decode attention at depth 16384 (the 7B's and 1.5B's
# shapes, 2-layer models): what stands between it and the KV bandwidth.
mkdir -p /tmp/d && tar xJf build/devx/dev.tar.xz -C /tmp/d
export LD_LIBRARY_PATH=/tmp/d/device/lib
B=/tmp/d/device/bin
M=/tmp/models; mkdir -p $M $OUT/r
export BRICKC_CACHE_DIR=/tmp/kc
{
for m in 1.5b 7b; do $B/brickc synth --model qwen2.5-coder-$m --layers 2 --vocab-size 4096 --quant q4_k_m -o $M/$m.gguf > /dev/null & done; wait
echo "synth at $SECONDS s"
ST=""; for r in long_scoreboard short_scoreboard mio_throttle barrier wait math_pipe_throttle not_selected selected no_instruction; do ST="$ST,smsp__average_warps_issue_stalled_${r}_per_issue_active.ratio"; done
MET="gpu__time_duration.sum,dram__throughput.avg.pct_of_peak_sustained_elapsed,dram__bytes_read.sum,lts__t_bytes.sum,sm__inst_executed.sum,smsp__issue_active.avg.pct_of_peak_sustained_active,sm__warps_active.avg.pct_of_peak_sustained_active,sm__cycles_active.avg.pct_of_peak_sustained_elapsed,launch__registers_per_thread,launch__grid_size,launch__occupancy_limit_registers,launch__occupancy_limit_shared_mem$ST"
for m in 7b 1.5b; do
  timeout 80 ncu --clock-control none --metrics $MET -k regex:'^attention_hd' --launch-skip 4 --launch-count 2 $B/brickc bench -m $M/$m.gguf --device cuda -p 16 -n 4 -r 1 --warmup 0 -d 16384 > $OUT/r/ncu-attn-$m.txt 2>&1; echo "ncu $m rc=$? at $SECONDS s"
  grep -E "^  [a-z_]+.*\(|duration|throughput|bytes|inst_executed|issue_active|warps_active|cycles_active|registers|grid_size|limit|stalled" $OUT/r/ncu-attn-$m.txt | sed -E 's/ +/ /g' | head -25
done
echo "elapsed $SECONDS s"
} 2>&1 | tee $OUT/r/summary.txt
cp $OUT/r/summary.txt $OUT/summary.txt; cd $OUT && tar czf r.tgz r && rm -rf r
