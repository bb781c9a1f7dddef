#!/usr/bin/env bash
# Session 35 call C: per-brick profiles of the 1.5B, f16 and q8_0 caches, depths 0 and 16384.
tar xJf build/devx/dev.tar.xz -C /tmp
export LD_LIBRARY_PATH=/tmp/device/lib BRICKC_CACHE_DIR=/tmp/kc
B=/tmp/device/bin; M=/tmp/models; R=$OUT/r; mkdir -p $M $R
{
nvidia-smi --query-gpu=name --format=csv,noheader
$B/brickc synth -t 16 --model qwen2.5-coder-1.5b --quant q4_k_m -o $M/1.5b.gguf > /dev/null
for c in f16 q8_0; do
  for d in 0 16384; do
    timeout 60 $B/brickc bench -m $M/1.5b.gguf --device cuda -p 16 -n 64 -r 2 --warmup 1 -d $d --cache-type-k $c --cache-type-v $c --profile > $R/prof-1.5b-$c-d$d.log 2>&1
    echo "== 1.5b $c d$d rc=$? at $SECONDS s"; grep -iE "attention|rope|step|tg64" $R/prof-1.5b-$c-d$d.log | head -12
  done
done
} > $OUT/summary.txt 2>&1
cd $OUT && tar czf r.tgz r && rm -rf r
