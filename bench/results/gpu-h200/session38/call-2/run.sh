#!/usr/bin/env bash
# Session 38 call 2: HEAD (02b22ad) side by side with llama-bench on 0.5B-14B Q4_K_M
# (-p 512 -n 128), then tg128 at depth 0 and 16,384 (q8_0 cache) of the 1.5B and 7B.
tar xJf build/devx/dev.tar.xz -C /tmp
export LD_LIBRARY_PATH=/tmp/device/lib BRICKC_CACHE_DIR=/tmp/kc
B=/tmp/device/bin; M=/tmp/models; R=$OUT; mkdir -p $M
synth() { taskset -c $2 $B/brickc synth -t $3 --model qwen2.5-coder-$1 --quant q4_k_m -o $M/$1.tmp > /dev/null && mv $M/$1.tmp $M/$1.gguf; echo "synth $1 at $SECONDS s"; }
ready() { while [ ! -f $M/$1.gguf ] && [ $SECONDS -lt $2 ]; do sleep 2; done; [ -f $M/$1.gguf ]; }
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
cat /tmp/device/COMMIT 2>/dev/null
synth 14b 4-11 8 &
(for m in 0.5b 1.5b 3b 7b; do synth $m 12-15 4; done) &
lb=$(bash .llama/unpack.sh /tmp/llama | tail -n 1)
for m in 0.5b 1.5b 3b 7b 14b; do
  ready $m 450 || { echo "$m not ready at $SECONDS s"; continue; }
  [ $SECONDS -lt 470 ] || break
  r=3; [ $m = 14b ] && r=2
  timeout $((590 - SECONDS)) taskset -c 0-3 $B/brickc bench -m $M/$m.gguf --device cuda -p 512 -n 128 -r $r --warmup 1 --llama-bench "$lb" --json $R/compare-$m.json > /tmp/c.log 2>&1
  echo "$m compare rc=$? at $SECONDS s"; grep -E "tg128|pp512" /tmp/c.log | head -4
done
for md in 1.5b:0 1.5b:16384 7b:0 7b:16384; do
  IFS=: read m d <<< "$md"
  [ $SECONDS -lt 560 ] || break
  timeout $((595 - SECONDS)) taskset -c 0-3 $B/brickc bench -m $M/$m.gguf --device cuda -p 16 -n 128 -r 3 --warmup 1 -d $d --cache-type-k q8_0 --cache-type-v q8_0 > /tmp/d.log 2>&1
  echo "$m q8_0 d$d rc=$? at $SECONDS s: $(grep -hE 'tg128|rror' /tmp/d.log | tr -s ' ')"
done
echo "elapsed $SECONDS s"
} > $OUT/summary.txt 2>&1
