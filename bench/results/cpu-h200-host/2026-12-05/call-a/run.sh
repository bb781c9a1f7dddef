#!/usr/bin/env bash
# Session 23 call A (issue 15): session 22's CPU engine on the host (AMX repacks too, VNNI
# repacked decode kernels, SIMD attention, KV caches on huge pages), never run here before.
# The tile, brick and int8-engine tests on this host, then two rounds of the CPU engine
# against llama-bench -ngl 0 (same files, no GPU visible), then a decode profile of the 1.5B.
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
for round in 1 2; do
  for m in 0.5b 1.5b 7b; do
    left 480 || break
    timeout 150 $B/brickc bench -m $M/$m.gguf --device cpu -t 16 -p 512 -n 128 -r 3 --warmup 1 --llama-bench $lb --json $OUT/r/cpu-$m-$round.json > $OUT/r/cpu-$m-$round.log 2>&1
    echo "round $round $m rc=$? at $SECONDS s"; grep -E "pp512|tg128" $OUT/r/cpu-$m-$round.log | head -6
  done
done
left 540 && timeout 50 $B/brickc bench -m $M/1.5b.gguf --device cpu -t 16 -p 16 -n 64 -r 1 --profile > $OUT/r/prof-1.5b.log 2>&1
echo "elapsed $SECONDS s"
} 2>&1 | tee $OUT/r/summary.txt
cp $OUT/r/summary.txt $OUT/summary.txt; cd $OUT && tar czf r.tgz r && rm -rf r
