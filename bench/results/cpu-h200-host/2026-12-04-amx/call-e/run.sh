#!/usr/bin/env bash
# Session 21 call E (issue 15): the committed tree. Call D's split Q4_K products measured
# slower (1.5B pp512 651 -> 561 tok/s; unpacking took 10x the threads' time and the
# products 1.2x), so Q4_K keeps its 32-column groups; the groups' loop scales in its body, with
# the accumulators in registers. The tile, brick and int8-engine tests on this host's tile
# unit, then the CPU engine against llama-bench -ngl 0 (same files, no GPU visible). Also
# new since call D: Q8_K activations quantized straight into the tiles (the same bytes).
mkdir -p build && tar xJf build/devx/dev.tar.xz -C build
export LD_LIBRARY_PATH=$PWD/build/device/lib CUDA_VISIBLE_DEVICES=
B=$PWD/build/device/bin
M=/tmp/models; mkdir -p $M $OUT/r
left() { [ $SECONDS -lt $1 ]; }
{
bash .llama/unpack.sh /tmp/llama > /dev/null &
for m in 0.5b 1.5b 7b; do $B/brickc synth --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m.gguf > /dev/null & done
timeout 150 $B/brickc_unit_tests --gtest_filter='CpuTiles.*:CpuBricks.*:CpuQdot.*:CpuExecutor.*:Int8Engine.*' > $OUT/r/unit.log 2>&1
echo "unit rc=$? at $SECONDS s"; grep -E "checking the AMX|^\[ +(FAILED|SKIPPED|PASSED) +\]" $OUT/r/unit.log | head
wait
$B/brickc devices | grep cpu
lb=/tmp/llama/bin/llama-bench
for m in 0.5b 1.5b 7b; do
  left 330 || break
  timeout 120 $B/brickc bench -m $M/$m.gguf --device cpu -t 16 -p 512 -n 128 -r 2 --warmup 1 --llama-bench $lb --json $OUT/r/cpu-$m.json > $OUT/r/cpu-$m.log 2>&1
  echo "amx $m rc=$? at $SECONDS s"; grep -E "pp512|tg128" $OUT/r/cpu-$m.log | head -6
done
echo "elapsed $SECONDS s"
} 2>&1 | tee $OUT/r/summary.txt
cp $OUT/r/summary.txt $OUT/summary.txt; cd $OUT && tar czf r.tgz r && rm -rf r
