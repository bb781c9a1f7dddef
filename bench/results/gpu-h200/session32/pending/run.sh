#!/usr/bin/env bash
# Session 32 call J (the last of the session's device time): L2 prefetch of the weights past
# the primed ring before the wait (kL2Ahead 8 KB: brickc-pf8, 16 KB: brickc-pf16) against
# ea458f2 (brickc), tg128 alternating on an 8-layer 14B with a 4,096-token vocabulary (the 14B's per-layer kernels).
tar xJf build/devx/dev.tar.xz -C /tmp
export LD_LIBRARY_PATH=/tmp/device/lib BRICKC_CACHE_DIR=/tmp/kc
B=/tmp/device/bin; M=/tmp/models; R=$OUT/r; mkdir -p $M $R
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
$B/brickc synth -t 16 --model qwen2.5-coder-14b --layers 8 --vocab-size 4096 --quant q4_k_m -o $M/14b8.gguf > /dev/null; echo "synth at $SECONDS s"
for round in 1 2; do
  for b in base pf8 pf16; do
    [ $SECONDS -lt 95 ] || break 2
    x=$B/brickc-$b; [ $b = base ] && x=$B/brickc
    timeout 20 $x bench -m $M/14b8.gguf --device cuda -p 16 -n 128 -r 5 --warmup 2 --json $R/$b-$round.json > $R/$b-$round.log 2>&1
    echo "$b r$round at $SECONDS s: $(grep tg128 $R/$b-$round.log | head -1)"
  done
done
echo "elapsed $SECONDS s"
} 2>&1 | tee $R/summary.txt
cd $OUT && tar czf r.tgz r && rm -rf r
