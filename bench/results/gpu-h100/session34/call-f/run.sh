#!/usr/bin/env bash
# Session 34 call F: norm-once's producer with the next norm's weights of each warp's
# first two rows' groups loaded into shared memory before the wait (brickc-norm3), against
# call C's norm2 and main (brickc-base): per-brick profiles of a 4-layer 14B, alternating,
# two rounds; --verify of norm3.
tar xJf build/devx/dev.tar.xz -C /tmp
export LD_LIBRARY_PATH=/tmp/device/lib BRICKC_CACHE_DIR=/tmp/kc
B=/tmp/device/bin; M=/tmp/models; R=$OUT/r; mkdir -p $M $R
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
$B/brickc-base synth -t 16 --model qwen2.5-coder-14b --layers 4 --quant q4_k_m -o $M/14b-4l.gguf > /dev/null
echo "synth 4l at $SECONDS s"
timeout 90 $B/brickc-norm3 run -m $M/14b-4l.gguf --device cuda --engine graph -p "def f(x):" -n 3 --verify > $R/verify-norm3.log 2>&1
echo "verify norm3 rc=$? at $SECONDS s: $(tail -1 $R/verify-norm3.log)"
for round in 1 2; do
  for b in base norm2 norm3; do
    timeout 60 $B/brickc-$b bench -m $M/14b-4l.gguf --device cuda -p 16 -n 32 -r 3 --warmup 1 --profile --json $R/prof-$b-$round.json > $R/prof-$b-$round.log 2>&1
    echo "== $b r$round at $SECONDS s"
    sed -n '/^| brick | count/,/^step:/p' $R/prof-$b-$round.log | grep -E "^\| (matvec_add|rmsnorm_qkv|rmsnorm_gate)|^step"
  done
done
echo "elapsed $SECONDS s"
} > $OUT/summary.txt 2>&1
cd $OUT && tar czf r.tgz r && rm -rf r
