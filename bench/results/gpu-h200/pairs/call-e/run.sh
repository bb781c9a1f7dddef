#!/usr/bin/env bash
# Session 18 call E: f9e858d side by side with llama.cpp's llama-bench (-ngl 99 -fa 1) on
# the 14B Q4_K_M (pp512, tg128) and, for issue 12's long-context bar, tg128 at depth 0 and
# 16384 on the 1.5B and 7B (brickc -p 16 -n 128 -d D; llama-bench -n 128 -d D).
export LD_LIBRARY_PATH=$PWD/build/device/lib
B=$PWD/build/device/bin
M=/tmp/models; mkdir -p $M $OUT/r
export BRICKC_CACHE_DIR=/tmp/kc
left() { [ $SECONDS -lt $1 ]; }
{
bash .llama/unpack.sh /tmp/llama > /dev/null &
for m in 1.5b 7b 14b; do $B/brickc synth --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m.gguf > /dev/null & done; wait
echo "synth at $SECONDS s"
lb=/tmp/llama/bin/llama-bench
for m in 1.5b 7b; do
  for d in 0 16384; do
    timeout 60 $B/brickc bench -m $M/$m.gguf --device cuda -p 16 -n 128 -r 3 --warmup 2 -d $d --json $OUT/r/depth-$m-$d.json > $OUT/r/depth-$m-$d.log 2>&1
    echo "brickc $m d$d: $(grep tg128 $OUT/r/depth-$m-$d.log | head -1)"
  done
  timeout 120 $lb -m $M/$m.gguf -p 0 -n 128 -r 3 -ngl 99 -fa 1 -d 0,16384 -o json > $OUT/r/llama-depth-$m.json 2> $OUT/r/llama-depth-$m.err
  echo "llama $m rc=$?: $(grep -E '"n_depth"|"avg_ts"' $OUT/r/llama-depth-$m.json | tr -d ' \n')"
done
left 420 && timeout 150 $B/brickc bench -m $M/14b.gguf --device cuda -p 512 -n 128 -r 3 --warmup 2 --llama-bench "$lb" --json $OUT/r/compare-14b.json > $OUT/r/compare-14b.log 2>&1
echo "compare 14b rc=$? at $SECONDS s"; grep -E "pp512|tg128" $OUT/r/compare-14b.log
echo "elapsed $SECONDS s"
} 2>&1 | tee $OUT/r/summary.txt
cd $OUT && tar czf r.tgz r && rm -rf r
