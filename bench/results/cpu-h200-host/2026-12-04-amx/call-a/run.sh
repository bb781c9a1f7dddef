#!/usr/bin/env bash
# Session 21 call A (issue 15): prompt steps on AMX tiles. The CPU unit tests on this
# host's tile unit (CpuTiles.AmxMatchesPortable and the int8 engine against the f32
# reference, which now prefills on tiles), then the CPU engine against llama-bench -ngl 0
# (same files, no GPU visible to either): amx (the default here) for 0.5B, 1.5B and 7B,
# the same binary with BRICKC_SIMD=avx512vnni for the prompt, and amx at 8 threads.
mkdir -p build && tar xJf build/devx/dev.tar.xz -C build
export LD_LIBRARY_PATH=$PWD/build/device/lib CUDA_VISIBLE_DEVICES=
B=$PWD/build/device/bin
M=/tmp/models; mkdir -p $M $OUT/r
left() { [ $SECONDS -lt $1 ]; }
{
grep -o 'amx[a-z_0-9]*' /proc/cpuinfo | sort -u | tr '\n' ' '; echo; uname -r
bash .llama/unpack.sh /tmp/llama > /dev/null &
for m in 0.5b 1.5b 7b; do $B/brickc synth --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m.gguf > /dev/null & done
timeout 150 $B/brickc_unit_tests --gtest_filter='CpuTiles.*:CpuQdot.*:Int8Engine.*:CpuExecutor.*' > $OUT/r/unit.log 2>&1
echo "unit rc=$? at $SECONDS s"; grep -E "checking the AMX|^\[ +(OK|FAILED|SKIPPED|PASSED) +\]" $OUT/r/unit.log | head -30
wait
$B/brickc devices | grep cpu
lb=/tmp/llama/bin/llama-bench
for m in 0.5b 1.5b 7b; do
  left 420 || break
  timeout 150 $B/brickc bench -m $M/$m.gguf --device cpu -t 16 -p 512 -n 128 -r 2 --warmup 1 --llama-bench $lb --json $OUT/r/cpu-$m.json > $OUT/r/cpu-$m.log 2>&1
  echo "amx $m rc=$? at $SECONDS s"; grep -E "pp512|tg128" $OUT/r/cpu-$m.log | head -6
done
for m in 0.5b 1.5b; do
  left 500 || break
  BRICKC_SIMD=avx512vnni timeout 60 $B/brickc bench -m $M/$m.gguf --device cpu -t 16 -p 512 -n 1 -r 2 --warmup 1 --json $OUT/r/cpu-$m-avx512.json > $OUT/r/cpu-$m-avx512.log 2>&1
  echo "avx512vnni $m rc=$?"; grep -E "pp512" $OUT/r/cpu-$m-avx512.log | head -2
  timeout 60 $B/brickc bench -m $M/$m.gguf --device cpu -t 8 -p 512 -n 1 -r 2 --warmup 1 --json $OUT/r/cpu-$m-t8.json > $OUT/r/cpu-$m-t8.log 2>&1
  echo "amx -t 8 $m rc=$?"; grep -E "pp512" $OUT/r/cpu-$m-t8.log | head -2
done
echo "elapsed $SECONDS s"
} 2>&1 | tee $OUT/r/summary.txt
cp $OUT/r/summary.txt $OUT/summary.txt; cp $0 $OUT/r/ 2>/dev/null; cd $OUT && tar czf r.tgz r && rm -rf r
