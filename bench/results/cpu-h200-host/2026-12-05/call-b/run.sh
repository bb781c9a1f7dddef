#!/usr/bin/env bash
# Session 23 call B (issue 15): how many pieces a decode product is cut into. The rows of a
# product go to the pool in 8 x threads chunks, each claimed with an atomic add on one
# cache line; on this host's 16 threads a small matrix (the 0.5B's 896 x 896 output
# projection, 0.55 MB) became 112 claims of 5 KB, serialized on that line. This binary
# (the tree of call A plus BRICKC_CHUNK_KB, an experiment's knob) cuts a product into
# bytes x tokens / (KB x 1024) chunks, at least the threads and at most 8 x threads
# (0: 8 x threads, call A's rule). Decode of the 0.5B and 1.5B over the values, alternating,
# then the best for the 0.5B against llama-bench -ngl 0 on the three sizes.
mkdir -p build && tar xJf build/devx/dev.tar.xz -C build
export LD_LIBRARY_PATH=$PWD/build/device/lib CUDA_VISIBLE_DEVICES=
B=$PWD/build/device/bin
M=/tmp/models; mkdir -p $M $OUT/r
left() { [ $SECONDS -lt $1 ]; }
med() { grep -E "brickc.*\| $2 " $1 | head -1 | awk -F'|' '{gsub(/ /, "", $5); print $5}'; }
{
bash .llama/unpack.sh /tmp/llama > /dev/null &
for m in 0.5b 1.5b 7b; do $B/brickc synth --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m.gguf > /dev/null & done
wait
echo "models at $SECONDS s"
tg() {  # model kb round
  BRICKC_CHUNK_KB=$2 timeout 60 $B/brickc bench -m $M/$1.gguf --device cpu -t 16 -p 16 -n 128 -r 3 --warmup 1 > $OUT/r/tg-$1-kb$2-$3.log 2>&1
  echo "tg128 $1 kb=$2 round $3: $(med $OUT/r/tg-$1-kb$2-$3.log tg128) tok/s at $SECONDS s"
}
for round in 1 2; do for kb in 0 16 32 64 128; do tg 0.5b $kb $round; done; done
for round in 1 2; do for kb in 0 32 128; do tg 1.5b $kb $round; done; done
best=$(for kb in 0 16 32 64 128; do
  echo "$kb $(med $OUT/r/tg-0.5b-kb$kb-1.log tg128) $(med $OUT/r/tg-0.5b-kb$kb-2.log tg128)"
done | awk '{s = $2 + $3; if (s > m) {m = s; k = $1}} END {print k}')
echo "best for the 0.5B: kb=$best"
lb=/tmp/llama/bin/llama-bench
for m in 0.5b 1.5b 7b; do
  left 520 || break
  BRICKC_CHUNK_KB=$best timeout 150 $B/brickc bench -m $M/$m.gguf --device cpu -t 16 -p 512 -n 128 -r 3 --warmup 1 --llama-bench $lb --json $OUT/r/cpu-$m-kb$best.json > $OUT/r/cpu-$m-kb$best.log 2>&1
  echo "kb=$best $m rc=$? at $SECONDS s"; grep -E "pp512|tg128" $OUT/r/cpu-$m-kb$best.log | head -6
done
echo "elapsed $SECONDS s"
} 2>&1 | tee $OUT/r/summary.txt
cp $OUT/r/summary.txt $OUT/summary.txt; cd $OUT && tar czf r.tgz r && rm -rf r
