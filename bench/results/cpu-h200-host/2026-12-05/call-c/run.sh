#!/usr/bin/env bash
# Session 23 call C (issue 15): decode against the thread count. Calls A and B put the
# 0.5B's decode at 0.99-1.03x llama.cpp at 16 threads, moving 59-60 GB/s where the 1.5B
# and 7B move 63-71: brickc (f30ae05's tree) and llama-bench -ngl 0 at 8, 12 and 16
# threads, tg128, two alternating rounds, on the 0.5B and 1.5B; and the host's caches.
mkdir -p build && tar xJf build/devx/dev.tar.xz -C build
export LD_LIBRARY_PATH=$PWD/build/device/lib CUDA_VISIBLE_DEVICES=
B=$PWD/build/device/bin
M=/tmp/models; mkdir -p $M $OUT/r
med() { grep -E "brickc.*\| $2 " $1 | head -1 | awk -F'|' '{gsub(/ /, "", $5); print $5}'; }
{
lscpu | grep -E "Model name|^CPU\(s\)|Thread|Socket|NUMA node\(s\)|L2|L3"
bash .llama/unpack.sh /tmp/llama > /dev/null &
for m in 0.5b 1.5b; do $B/brickc synth --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m.gguf > /dev/null & done
wait
echo "models at $SECONDS s"
for round in 1 2; do
  for m in 0.5b 1.5b; do
    for t in 8 12 16; do
      timeout 60 $B/brickc bench -m $M/$m.gguf --device cpu -t $t -p 16 -n 128 -r 3 --warmup 1 > $OUT/r/tg-$m-t$t-$round.log 2>&1
      echo "brickc $m -t $t round $round: $(med $OUT/r/tg-$m-t$t-$round.log tg128) tok/s at $SECONDS s"
    done
    timeout 120 /tmp/llama/bin/llama-bench -m $M/$m.gguf -ngl 0 -fa 1 -p 0 -n 128 -r 3 -t 8,12,16 -o json > $OUT/r/llama-$m-$round.json 2> $OUT/r/llama-$m-$round.log
    echo "llama.cpp $m round $round rc=$? at $SECONDS s: $(grep -oE '"(n_threads|avg_ts)": [0-9.]+' $OUT/r/llama-$m-$round.json | tr '\n' ' ')"
  done
done
echo "elapsed $SECONDS s"
} 2>&1 | tee $OUT/r/summary.txt
cp $OUT/r/summary.txt $OUT/summary.txt; cd $OUT && tar czf r.tgz r && rm -rf r
