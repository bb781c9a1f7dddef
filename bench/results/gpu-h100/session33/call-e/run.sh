#!/usr/bin/env bash
# Session 33 call E: the rope kernel asks L2 for the layer's o projection while HBM idles
# (rope_kv_append.cuh): brickc-pf against brickc (95d752a) on 8-layer 7B, 14B and 32B
# files, alternating; --verify of pf on the 14B. The summary goes straight to $OUT so that
# it comes back even if the call runs out of device time.
tar xJf build/devx/dev.tar.xz -C /tmp
export LD_LIBRARY_PATH=/tmp/device/lib BRICKC_CACHE_DIR=/tmp/kc
B=/tmp/device/bin; M=/tmp/models; R=$OUT/r; mkdir -p $M $R
S=$OUT/summary.txt
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
for m in 7b 14b 32b; do $B/brickc synth -t 5 --model qwen2.5-coder-$m --layers 8 --quant q4_k_m -o $M/$m-8l.gguf > /dev/null & done; wait
echo "synth at $SECONDS s"
for round in 1 2; do
  for m in 14b 32b 7b; do
    for b in base pf; do
      [ $SECONDS -lt 85 ] || break 3
      x=$B/brickc; [ $b = pf ] && x=$B/brickc-pf
      timeout 20 $x bench -m $M/$m-8l.gguf --device cuda -p 16 -n 128 -r 5 --warmup 2 --json $R/$b-$m-$round.json > $R/$b-$m-$round.log 2>&1
      echo "$m $b r$round at $SECONDS s: $(grep tg128 $R/$b-$m-$round.log | head -1)"
    done
  done
done
[ $SECONDS -lt 95 ] && timeout 15 $B/brickc-pf run -m $M/14b-8l.gguf --device cuda --engine graph -p "def f(x):" -n 3 --verify > $R/verify-pf-14b.log 2>&1
echo "verify pf 14b rc=$? at $SECONDS s"; tail -2 $R/verify-pf-14b.log
echo "elapsed $SECONDS s"
} > $S 2>&1
cat $S
cd $OUT && tar czf r.tgz r && rm -rf r
