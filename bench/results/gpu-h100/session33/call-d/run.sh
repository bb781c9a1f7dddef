#!/usr/bin/env bash
# Session 33 call D: gate/up pairs of rows over 2 KB (14B, 32B) streamed in three ~1 KB
# segments through the same 11,520-byte ring (5 slots, 4 in flight) instead of whole (2
# slots, 1 in flight): brickc-seg against brickc (95d752a) on 8-layer 14B and 32B files;
# --verify of seg on the 14B (every brick against the CPU reference).
tar xJf build/devx/dev.tar.xz -C /tmp
export LD_LIBRARY_PATH=/tmp/device/lib BRICKC_CACHE_DIR=/tmp/kc
B=/tmp/device/bin; M=/tmp/models; R=$OUT/r; mkdir -p $M $R
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
for m in 14b 32b; do $B/brickc synth -t 8 --model qwen2.5-coder-$m --layers 8 --quant q4_k_m -o $M/$m-8l.gguf > /dev/null & done; wait
echo "synth at $SECONDS s"
timeout 60 $B/brickc-seg run -m $M/14b-8l.gguf --device cuda --engine graph -p "def f(x):" -n 3 --verify > $R/verify-seg-14b.log 2>&1
echo "verify seg 14b rc=$? at $SECONDS s"; tail -3 $R/verify-seg-14b.log
for round in 1 2; do
  for m in 14b 32b; do
    for b in base seg; do
      [ $SECONDS -lt 190 ] || break 3
      x=$B/brickc; [ $b = seg ] && x=$B/brickc-seg
      timeout 30 $x bench -m $M/$m-8l.gguf --device cuda -p 16 -n 128 -r 5 --warmup 2 --json $R/$b-$m-$round.json > $R/$b-$m-$round.log 2>&1
      echo "$m $b r$round at $SECONDS s: $(grep tg128 $R/$b-$m-$round.log | head -1)"
    done
  done
done
echo "elapsed $SECONDS s"
} > $R/summary.txt 2>&1
cat $R/summary.txt
cd $OUT && tar czf r.tgz r && rm -rf r
