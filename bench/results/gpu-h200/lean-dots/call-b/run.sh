#!/usr/bin/env bash
# Session 28 call B: call A's change with the RMSNorm's sum of squares as one fma chain
# (call A's megakernel differed from the graph in 9 of 96 steps of one model: the sum was
# contracted differently where the templates were inlined); the GPU tests call A did not
# reach; ncu on the 7B's matrix kernels; the 14B against e5b028a and the 14B and 32B side
# by side with llama.cpp's llama-bench (-ngl 99 -fa 1) on the same files.
tar xJf build/devx/dev.tar.xz -C /tmp
export LD_LIBRARY_PATH=/tmp/device/lib BRICKC_CACHE_DIR=/tmp/kc
B=/tmp/device/bin; M=/tmp/models; R=$OUT/r; mkdir -p $M $R
left() { [ $SECONDS -lt $1 ]; }
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv,noheader
bash .llama/unpack.sh /tmp/llama > /dev/null &
(for m in 7b 14b 32b; do $B/brickc synth --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m.gguf > /dev/null; echo "synth $m at $SECONDS s"; done) &
BRICKC_REQUIRE_GPU=1 timeout 200 $B/brickc_gpu_tests --gtest_filter='GpuMegakernel.*:GpuTokenSteps.*:GpuVerify.*' > $R/gpu_tests.log 2>&1
echo "tests rc=$? at $SECONDS s: $(grep -cE '^\[       OK' $R/gpu_tests.log) ok; $(grep -E '^\[  (PASSED|FAILED)' $R/gpu_tests.log | tr '\n' ' ')"
grep -E "^\[  FAILED  \]|differ" $R/gpu_tests.log | head
while [ ! -s $M/7b.gguf ] || pgrep -f "synth --model qwen2.5-coder-7b" > /dev/null; do sleep 2; done
ST=""; for r in long_scoreboard short_scoreboard mio_throttle lg_throttle barrier membar wait math_pipe_throttle not_selected selected no_instruction; do ST="$ST,smsp__average_warps_issue_stalled_${r}_per_issue_active.ratio"; done
MET="gpu__time_duration.sum,dram__throughput.avg.pct_of_peak_sustained_elapsed,dram__bytes_read.sum,sm__inst_executed.sum,smsp__issue_active.avg.pct_of_peak_sustained_active,sm__warps_active.avg.pct_of_peak_sustained_active,sm__cycles_active.avg.pct_of_peak_sustained_elapsed,launch__grid_size,launch__registers_per_thread,launch__occupancy_limit_registers,launch__occupancy_limit_shared_mem$ST"
timeout 120 ncu --clock-control none --metrics $MET -k regex:'qkv|gate_up|matvec_add' --launch-skip 8 --launch-count 4 $B/brickc bench -m $M/7b.gguf --device cuda -p 1 -n 3 -r 1 --warmup 0 > $R/ncu-7b.txt 2>&1; echo "ncu 7b rc=$? at $SECONDS s"
grep -E "^  [a-z_]+.*\(|duration|dram__|inst_executed|issue_active|warps_active|cycles_active|grid_size" $R/ncu-7b.txt | sed -E 's/ +/ /g' | head -60
wait; echo "synth done at $SECONDS s"
for b in old:$B/brickc-old new:$B/brickc; do
  timeout 60 ${b#*:} bench -m $M/14b.gguf --device cuda -p 16 -n 128 -r 3 --warmup 2 --json $R/${b%%:*}-14b.json > $R/${b%%:*}-14b.log 2>&1
  echo "14b ${b%%:*}: $(grep tg128 $R/${b%%:*}-14b.log | head -1)"
done
for m in 14b 32b; do
  left 540 || break
  timeout 120 $B/brickc bench -m $M/$m.gguf --device cuda -p 512 -n 128 -r 3 --warmup 1 --llama-bench /tmp/llama/bin/llama-bench --json $R/compare-$m.json > $R/compare-$m.log 2>&1
  echo "compare $m rc=$? at $SECONDS s"; grep -E "pp512|tg128" $R/compare-$m.log
done
echo "elapsed $SECONDS s"
} 2>&1 | tee $R/summary.txt
cd $OUT && tar czf r.tgz r && rm -rf r
