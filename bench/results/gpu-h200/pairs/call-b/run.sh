#!/usr/bin/env bash
# Session 18 call B: where the paired matrix kernels' time goes (ncu stall reasons and
# shared-memory traffic of the 7B's and 1.5B's gate/up, o/down and LM head kernels), and
# the CPU engine's default (AVX-512 VNNI) set against llama-bench -ngl 0 on the host.
export LD_LIBRARY_PATH=$PWD/build/device/lib
B=$PWD/build/device/bin; M=/tmp/models; mkdir -p $M $OUT/r
export BRICKC_CACHE_DIR=/tmp/kc
left() { [ $SECONDS -lt $1 ]; }
{
ls -d .. ../shared shared 2>&1 | head; U=$(find / -name unpack.sh -path "*llama.cpp-sm90*" 2>/dev/null | head -1); echo "unpack: $U"
bash $U /tmp/llama > /dev/null 2>&1 &
for m in 1.5b 7b 0.5b; do $B/brickc synth --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m.gguf > /dev/null & done; wait
echo "synth at $SECONDS s"
ST=""; for r in long_scoreboard short_scoreboard mio_throttle lg_throttle barrier membar wait math_pipe_throttle not_selected selected no_instruction dispatch_stall branch_resolving drain; do ST="$ST,smsp__average_warps_issue_stalled_${r}_per_issue_active.ratio"; done
MET="gpu__time_duration.sum,dram__throughput.avg.pct_of_peak_sustained_elapsed,sm__inst_executed.sum,smsp__issue_active.avg.pct_of_peak_sustained_active,sm__warps_active.avg.pct_of_peak_sustained_active,l1tex__data_pipe_lsu_wavefronts_mem_shared.sum,l1tex__data_bank_conflicts_pipe_lsu_mem_shared.sum,l1tex__data_pipe_lsu_wavefronts_mem_shared.avg.pct_of_peak_sustained_elapsed,launch__registers_per_thread,launch__occupancy_limit_registers,launch__occupancy_limit_shared_mem$ST"
for m in 7b 1.5b; do
  timeout 120 ncu --clock-control none --metrics $MET -k regex:'gate_up|matvec_add|lm_head' --launch-count 4 $B/brickc bench -m $M/$m.gguf --device cuda -p 1 -n 2 -r 1 --warmup 0 > $OUT/r/ncu-$m.txt 2>&1; echo "ncu $m rc=$? at $SECONDS s"
  grep -E "^  [a-z_]+.*\(|duration|throughput|inst_executed|issue_active|warps_active|wavefronts|conflicts|registers|limit|stalled" $OUT/r/ncu-$m.txt | sed -E 's/ +/ /g' | head -120
done
lb=/tmp/llama/bin/llama-bench
for m in 0.5b 1.5b 7b; do
  left 540 || break
  CUDA_VISIBLE_DEVICES= timeout 150 $B/brickc bench -m $M/$m.gguf --device cpu -t 16 -p 512 -n 128 -r 2 --warmup 1 --llama-bench "$lb" --json $OUT/r/cpu-$m.json > $OUT/r/cpu-$m.log 2>&1
  echo "cpu $m: rc=$?"; grep -E "pp512|tg128" $OUT/r/cpu-$m.log
done
echo "elapsed $SECONDS s"
} 2>&1 | tee $OUT/r/summary.txt
cd $OUT && tar czf r.tgz r && rm -rf r
