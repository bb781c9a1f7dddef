#!/usr/bin/env bash
# Session 34 call G: the long-context baseline on this card (H100) for the GPU q8_0 cache
# work: brickc (4fe469c's GPU paths, f16 cache) at depths 0 and 16,384 on the 7B,
# side by side with llama.cpp (f16 cache), and llama.cpp with -ctk/-ctv q8_0 alone.
tar xJf build/devx/dev.tar.xz -C /tmp
export LD_LIBRARY_PATH=/tmp/device/lib BRICKC_CACHE_DIR=/tmp/kc
B=/tmp/device/bin; M=/tmp/models; R=$OUT/r; mkdir -p $M $R
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
lb=$(bash .llama/unpack.sh /tmp/llama | tail -n 1)
$B/brickc synth -t 16 --model qwen2.5-coder-7b --quant q4_k_m -o $M/7b.gguf > /dev/null &
wait
echo "synth at $SECONDS s"
for m in 7b; do
  for d in 0 16384; do
    [ $SECONDS -lt 200 ] || break 2
    timeout 120 $B/brickc bench -m $M/$m.gguf --device cuda -p 16 -n 128 -r 3 --warmup 1 -d $d --llama-bench "$lb" --json $R/$m-d$d.json > $R/$m-d$d.log 2>&1
    echo "$m d$d rc=$? at $SECONDS s"; grep -E "tg128" $R/$m-d$d.log
  done
  [ $SECONDS -lt 220 ] || break
  timeout 100 $lb -m $M/$m.gguf -p 0 -n 128 -r 3 -ngl 99 -fa 1 -d 0,16384 -ctk q8_0 -ctv q8_0 -o md > $R/$m-llama-q8.md 2> $R/$m-llama-q8.err
  echo "$m llama q8_0 rc=$? at $SECONDS s"; grep -E "tg128" $R/$m-llama-q8.md
done
echo "elapsed $SECONDS s"
} > $OUT/summary.txt 2>&1
cd $OUT && tar czf r.tgz r && rm -rf r
