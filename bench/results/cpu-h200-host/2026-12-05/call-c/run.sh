#!/usr/bin/env bash
# Session 24 call C (issue 15, the 0.5B's decode on this host). Three binaries: old (HEAD
# 1f5dddc), new (SwiGLU and residual adds as the products' epilogues: one pool job less
# per layer) and new2 (new, plus attention heads of little work in one chunk: a decode
# step at short context runs its attention on the caller, one more job less per layer).
# First the host's CPU tests on new2's tree (AMX: the epilogue on the tile path), then
# decode of the 0.5B alternating the three, prefill A/B, a thread sweep of both tools, a
# per-brick profile, and side by side with llama-bench -ngl 0 on the three sizes.
mkdir -p build && tar xJf build/devx/dev.tar.xz -C build
export LD_LIBRARY_PATH=$PWD/build/device/lib CUDA_VISIBLE_DEVICES=
B=$PWD/build/device/bin
M=/tmp/models; mkdir -p $M $OUT/r
left() { [ $SECONDS -lt $1 ]; }
med() { grep -E "brickc.*\| $2 " $1 | head -1 | awk -F'|' '{gsub(/ /, "", $5); print $5}'; }
{
bash .llama/unpack.sh /tmp/llama > /dev/null &
for m in 0.5b 1.5b 7b; do $B/brickc.new2 synth --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m.gguf > /dev/null & done
timeout 200 $B/brickc_unit_tests --gtest_filter='MatmulQ8*:CpuTiles*:CpuQdot*:CpuBricks*:CpuExecutor*:Int8Engine*:CpuThreadPool*' > $OUT/r/tests.log 2>&1
echo "host tests rc=$? at $SECONDS s: $(grep -E '^\[  (PASSED|FAILED)' $OUT/r/tests.log | tr '\n' ' ')"
grep -E "checked on|FAILED" $OUT/r/tests.log | head -20
wait
echo "models at $SECONDS s"
tg() {  # binary threads round
  timeout 60 $B/brickc.$1 bench -m $M/0.5b.gguf --device cpu -t $2 -p 16 -n 128 -r 3 --warmup 1 > $OUT/r/tg-$1-t$2-$3.log 2>&1
  echo "tg128 0.5b $1 -t $2 round $3: $(med $OUT/r/tg-$1-t$2-$3.log tg128) tok/s at $SECONDS s"
}
for round in 1 2 3; do for b in old new new2; do tg $b 16 $round; done; done
for b in old new2 old new2; do
  timeout 60 $B/brickc.$b bench -m $M/0.5b.gguf --device cpu -t 16 -p 512 -n 1 -r 3 --warmup 1 > $OUT/r/pp-$b.log 2>&1
  echo "pp512 0.5b $b: $(med $OUT/r/pp-$b.log pp512) tok/s at $SECONDS s"
done
for t in 8 12; do tg new2 $t 1; done
timeout 90 /tmp/llama/bin/llama-bench -m $M/0.5b.gguf -ngl 0 -p 0 -n 128 -r 3 -t 8,12,16 > $OUT/r/llama-tsweep.log 2>&1
grep -E "tg128" $OUT/r/llama-tsweep.log
timeout 60 $B/brickc.new2 bench -m $M/0.5b.gguf --device cpu -t 16 -p 16 -n 64 -r 2 --warmup 1 --profile > $OUT/r/profile-0.5b.log 2>&1
echo "profile rc=$? at $SECONDS s"
lb=/tmp/llama/bin/llama-bench
for m in 0.5b 1.5b 7b; do
  left 480 || break
  timeout 150 $B/brickc.new2 bench -m $M/$m.gguf --device cpu -t 16 -p 512 -n 128 -r 3 --warmup 1 --llama-bench $lb --json $OUT/r/cpu-$m.json > $OUT/r/cpu-$m.log 2>&1
  echo "$m rc=$? at $SECONDS s"; grep -E "pp512|tg128" $OUT/r/cpu-$m.log | head -6
done
echo "elapsed $SECONDS s"
} 2>&1 | tee $OUT/r/summary.txt
cp $OUT/r/summary.txt $OUT/summary.txt; cd $OUT && tar czf r.tgz r && rm -rf r
