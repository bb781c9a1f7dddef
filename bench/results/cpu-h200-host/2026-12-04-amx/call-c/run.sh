#!/usr/bin/env bash
# Session 21 call C (issue 15), after call B's profile: attention in blocks of 16 queries
# per chunk of 64 keys, two tile slots in flight (one group multiplied while the last is
# scaled), activations not cleared, unpacking templated per format. The tile and brick unit
# tests on this host's tile unit; brickc-prof (this tree with call B's local timers) for
# where a prompt step's time goes now; then the CPU engine against llama-bench -ngl 0.
mkdir -p build && tar xJf build/devx/dev.tar.xz -C build
export LD_LIBRARY_PATH=$PWD/build/device/lib CUDA_VISIBLE_DEVICES=
B=$PWD/build/device/bin
xz -dc build/devx/brickc-prof.xz > /tmp/brickc-prof; chmod +x /tmp/brickc-prof
M=/tmp/models; mkdir -p $M $OUT/r
left() { [ $SECONDS -lt $1 ]; }
{
bash .llama/unpack.sh /tmp/llama > /dev/null &
for m in 0.5b 1.5b 7b; do $B/brickc synth --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m.gguf > /dev/null & done
timeout 60 $B/brickc_unit_tests --gtest_filter='CpuTiles.*:CpuBricks.*:CpuQdot.*:CpuExecutor.APrompt*' > $OUT/r/unit.log 2>&1
echo "unit rc=$? at $SECONDS s"; grep -E "checking the AMX|^\[ +(FAILED|SKIPPED|PASSED) +\]" $OUT/r/unit.log | head
wait
for m in 1.5b 0.5b 7b; do
  BRICKC_PROMPT_PROFILE=1 timeout 60 /tmp/brickc-prof bench -m $M/$m.gguf --device cpu -t 16 -p 512 -n 1 -r 1 --warmup 1 > $OUT/r/prof-$m.log 2>&1
  echo "== prof $m rc=$?"; grep -E "PROMPT|TILES|\| pp" $OUT/r/prof-$m.log | tail -3
done
lb=/tmp/llama/bin/llama-bench
for m in 0.5b 1.5b 7b; do
  left 480 || break
  timeout 150 $B/brickc bench -m $M/$m.gguf --device cpu -t 16 -p 512 -n 128 -r 2 --warmup 1 --llama-bench $lb --json $OUT/r/cpu-$m.json > $OUT/r/cpu-$m.log 2>&1
  echo "amx $m rc=$? at $SECONDS s"; grep -E "pp512|tg128" $OUT/r/cpu-$m.log | head -6
done
echo "elapsed $SECONDS s"
} 2>&1 | tee $OUT/r/summary.txt
cp $OUT/r/summary.txt $OUT/summary.txt; cd $OUT && tar czf r.tgz r && rm -rf r
