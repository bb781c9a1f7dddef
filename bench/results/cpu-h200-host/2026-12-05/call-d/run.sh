#!/usr/bin/env bash
# Call D (issue 15, the 0.5B's decode on this host; written in session 24, made in session
# 26). Call C showed the 0.5B's decode scaling with threads (8: 99, 12: 126, 16: 150-169
# tok/s), i.e. bound by the kernels' instructions rather than by memory; most of its
# matrices are Q5_0. Three binaries: old (1f5dddc, session 24's start), base (1d234b2,
# session 25's end: the AVX-512 Q5_0 and Q8_0 kernels on unsigned codes with one bias
# correction per block, activations rounded four values at a time, attention heads in
# chunks of at least 64K multiply-adds, greedy tokens from the argmax brick, decode
# attention by kv head over an f16 cache) and new (the HEAD the call is made from: session
# 26's Q5_0 kernel with byte masks and two sums per token, Q6_K rows repacked), pool
# (new, plus a thread pool in which thread i runs chunk i of every job unclaimed and only
# the rest are claimed with an atomic add, as ggml's pool does) and pool1 (pool, with a
# decode step's products cut into one chunk per thread instead of 8: no claims at all).
# Session 26's profile of call C put 20-25 us per decode brick besides its bytes; 128
# claims of one cache line per product are one candidate. Neither pool was committed when
# the call was made. build/devx/dev.tar.xz holds device/bin/brickc.{old,base,new,pool,pool1}
# and brickc_unit_tests
# (new's tree), stripped, and device/lib (scripts/device-bundle.sh).
# Host tests of new's tree, decode A/B alternating, new's per-brick profile, then the
# fastest of new, pool and pool1 side by side with llama-bench -ngl 0: the 0.5B three times
# (the host's speed drifts within a call), the 1.5B and 7B once.
mkdir -p build && tar xJf build/devx/dev.tar.xz -C build
export LD_LIBRARY_PATH=$PWD/build/device/lib CUDA_VISIBLE_DEVICES=
B=$PWD/build/device/bin
M=/tmp/models; mkdir -p $M $OUT/r
left() { [ $SECONDS -lt $1 ]; }
med() { grep -E "brickc.*\| $2 " $1 | head -1 | awk -F'|' '{gsub(/ /, "", $5); print $5}'; }
{
bash .llama/unpack.sh /tmp/llama > /dev/null &
echo "THP: $(cat /sys/kernel/mm/transparent_hugepage/enabled)"; lscpu | grep -E "Model name|^CPU\(s\)|Thread|NUMA node\(s\)"
for m in 0.5b 1.5b 7b; do $B/brickc.new synth --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m.gguf > /dev/null & done
timeout 200 $B/brickc_unit_tests --gtest_filter='CpuQ8*:CpuQdot*:CpuTiles*:CpuBricks*:CpuExecutor*:Int8Engine*:CpuThreadPool*' > $OUT/r/tests.log 2>&1
echo "host tests rc=$? at $SECONDS s: $(grep -E '^\[  (PASSED|FAILED)' $OUT/r/tests.log | tr '\n' ' ')"
grep -E "checking the|FAILED" $OUT/r/tests.log | head -30
wait
echo "models at $SECONDS s"
tg() {  # binary model round
  timeout 60 $B/brickc.$1 bench -m $M/$2.gguf --device cpu -t 16 -p 16 -n 128 -r 3 --warmup 1 > $OUT/r/tg-$1-$2-$3.log 2>&1
  echo "tg128 $2 $1 round $3: $(med $OUT/r/tg-$1-$2-$3.log tg128) tok/s at $SECONDS s"
}
for round in 1 2 3; do for b in old base new pool pool1; do tg $b 0.5b $round; done; done
for round in 1 2; do for b in base new; do tg $b 1.5b $round; done; done
timeout 60 $B/brickc.new bench -m $M/0.5b.gguf --device cpu -t 16 -p 16 -n 64 -r 3 --warmup 1 --profile > $OUT/r/profile-0.5b.log 2>&1
echo "profile rc=$? at $SECONDS s"; grep -E "^\| (rmsnorm|matvec|attention|rope)" $OUT/r/profile-0.5b.log
# The side-by-side runs take whichever of new, pool and pool1 decoded the 0.5B fastest
# (mean of the three rounds).
S=$(for b in new pool pool1; do
  echo "$b $(for r in 1 2 3; do med $OUT/r/tg-$b-0.5b-$r.log tg128; done | awk '{s += $1} END {print s / NR}')"
done | sort -k2 -g | tail -1 | cut -d' ' -f1)
echo "side by side with brickc.$S"
lb=/tmp/llama/bin/llama-bench
side() {  # model round
  timeout 150 $B/brickc.$S bench -m $M/$1.gguf --device cpu -t 16 -p 512 -n 128 -r 3 --warmup 1 --llama-bench $lb --json $OUT/r/cpu-$1-$2.json > $OUT/r/cpu-$1-$2.log 2>&1
  echo "$1 round $2 rc=$? at $SECONDS s"; grep -E "pp512|tg128" $OUT/r/cpu-$1-$2.log | head -6
}
for round in 1 2 3; do side 0.5b $round; done
side 1.5b 1
left 430 && side 7b 1
echo "elapsed $SECONDS s"
} 2>&1 | tee $OUT/r/summary.txt
cp $OUT/r/summary.txt $OUT/summary.txt; cd $OUT && tar czf r.tgz r && rm -rf r
